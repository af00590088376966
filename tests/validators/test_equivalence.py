from planforge.plan import parse_plan
from planforge.validators import plan_graph, plans_equivalent, tool_overlap

REFERENCE = parse_plan(
    '1. get_email_address("Sid")\n2. get_zoom_meeting_link("sync", "2026-01-01 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("sync", "a", "b", "$2", ["$1"], "", None)\n4. join()'
)


def test_isomorphic_plans_match_whatever_the_numbering_and_values():
    reordered = parse_plan(
        '1. get_email_address("Sidney")\n2. get_zoom_meeting_link(topic="other", start_time="x", duration=30, '
        'meeting_invitees=["$1"])\n3. create_calendar_event("t", "a", "b", "$2", ["$1"], "", None)'
    )
    assert plans_equivalent(reordered, REFERENCE)
    assert plan_graph(REFERENCE).number_of_edges() == 3


def test_same_functions_wired_differently_do_not_match():
    rewired = parse_plan(
        '1. get_email_address("Sid")\n2. get_zoom_meeting_link("sync", "s", 60, ["$1"])\n'
        '3. create_calendar_event("sync", "a", "b", "", ["$1"], "", None)\n4. join()'
    )
    assert not plans_equivalent(rewired, REFERENCE)
    assert not plans_equivalent(parse_plan('1. get_email_address("Sid")'), REFERENCE)


def test_tool_overlap():
    predicted = parse_plan('1. get_email_address("Sid")\n2. send_sms(["x"], "hi")')
    overlap = tool_overlap(predicted, REFERENCE)
    assert (overlap.precision, overlap.recall) == (0.5, 1 / 3)
    empty = parse_plan("")
    assert tool_overlap(empty, empty).precision == 1.0 and tool_overlap(empty, REFERENCE).recall == 0.0
