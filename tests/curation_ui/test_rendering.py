"""Rendering of plans for reviewers, the A/B assignment and its mapping back, and the record of a pair
(pure functions: no server)."""

from __future__ import annotations

import json

import pytest

from planforge.curation_ui.argilla_settings import (
    A_IS,
    CORRECT_LABELS,
    ERROR_KINDS,
    PAIR_KEY,
    a_is_chosen,
    error_kinds_for,
    from_canonical,
    plan_columns,
    record_for_pair,
    suggestions_for,
    to_canonical,
)
from planforge.curation_ui.rendering import (
    describe_reference,
    render_functions,
    render_plan,
    render_plan_text,
    render_request,
)
from planforge.pairs.corruptions import KINDS
from planforge.plan import parse_plan

from .helpers import ZOOM, make_pair


def test_render_plan_numbers_steps_names_arguments_and_explains_each_reference(mac_tools):
    text = render_plan_text(ZOOM, mac_tools)
    assert text.splitlines() == [
        '1. get_email_address(name="Sid")',
        '2. get_zoom_meeting_link(topic="Apple sync", start_time="2026-11-22 15:00:00", duration=60, '
        'meeting_invitees=["$1"])',
        '     $1 = result of step 1: get_email_address("Sid")',
        '3. create_calendar_event(title="Apple sync", start_date="2026-11-22 15:00:00", '
        'end_date="2026-11-22 16:00:00", location="$2", invitees=["$1"], notes="", calendar=None)',
        '     $2 = result of step 2: get_zoom_meeting_link("Apple sync", ...)',
        '     $1 = result of step 1: get_email_address("Sid")',
        "4. join()",
    ]


def test_broken_references_are_explained(mac_tools):
    plan = parse_plan('1. get_email_address("$1")\n2. send_sms(["$3"], "$0")\n3. send_sms(["$4"], "hi")\n4. join()')
    text = render_plan(plan, mac_tools)
    assert "$1 = this same step" in text
    assert "$3 = step 3, which comes later" in text
    assert "$0 = no such step (steps are numbered from 1)" in text
    assert "$4 = step 4, which comes later" in text
    joined = parse_plan('1. join()\n2. send_sms(["$1"], "hi")')
    assert "$1 = step 1: join(), which has no result" in render_plan(joined, mac_tools)
    assert describe_reference(plan, plan.steps[1], 9) == "no such step (the plan has 4)"


def test_unknown_functions_and_unreadable_plans(mac_tools):
    text = render_plan_text('1. fetch_email("Sid", 3)\n2. join()', mac_tools)
    assert text.splitlines()[0] == '1. fetch_email("Sid", 3)'
    broken = "Sure! Here is the plan:\n1 get_email_address(Sid"
    shown = render_plan_text(broken, mac_tools)
    assert shown.startswith("(this plan cannot be read: ") and shown.endswith(broken)


def test_functions_and_request(mac_tools):
    text = render_functions(mac_tools.subset(["get_email_address", "send_sms"]))
    assert text.startswith("get_email_address(name: str) -> str: Look up a contact")
    assert "\n\nsend_sms(recipients: list[str], message: str) -> str" in text
    shown = render_request("Text Sid", "2026-01-01 10:00:00")
    assert shown == "Text Sid\n\n(current date and time: 2026-01-01 10:00:00)"
    assert render_request("Text Sid") == "Text Sid"


def test_a_b_assignment_is_stable_and_balanced():
    ids = [f"pair-{i:016x}" for i in range(2000)]
    first = [a_is_chosen(i) for i in ids]
    assert first == [a_is_chosen(i) for i in ids]
    assert 900 < sum(first) < 1100
    assert [a_is_chosen(i, salt="x") for i in ids] != first  # a salt reshuffles


@pytest.mark.parametrize(
    ("label", "a_chosen", "verdict"),
    [
        ("A", True, "chosen"),
        ("B", True, "rejected"),
        ("A", False, "rejected"),
        ("B", False, "chosen"),
        ("both", True, "both"),
        ("neither", False, "neither"),
    ],
)
def test_a_b_maps_back_to_chosen_and_rejected(label, a_chosen, verdict):
    assert to_canonical(label, a_chosen) == verdict
    assert from_canonical(verdict, a_chosen) == label


def test_unknown_answers_are_refused():
    with pytest.raises(ValueError):
        to_canonical("C", True)
    with pytest.raises(ValueError):
        from_canonical("maybe", True)


def _side(record, side):
    return "\n".join(line["text"] for line in record["fields"]["plans"][side])


def test_record_for_pair_shows_each_plan_on_its_side(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    for pid in ("pair-a", "pair-b", "pair-c", "pair-d"):
        pair["id"] = pid
        record = record_for_pair(pair, "validation", suggestions=True)
        chosen_side = "a" if a_is_chosen(pid) else "b"
        other = "b" if chosen_side == "a" else "a"
        assert _side(record, chosen_side).startswith('1. get_email_address(name="Sid")')
        assert _side(record, other).startswith('1. fetch_email("Sid")')
        assert record["metadata"][A_IS] == ("chosen" if a_is_chosen(pid) else "rejected")
        assert record["metadata"]["tool_count"] == 4 and record["metadata"]["split"] == "validation"
        assert record["fields"]["functions"]["count"] == 4
        assert record["fields"]["functions"]["docs"].startswith("get_email_address(")
        payload = json.loads(record["metadata"][PAIR_KEY])
        assert payload["split"] == "validation" and payload["chosen"] == pair["chosen"]
        suggestion = {s["question"]: s for s in record["suggestions"]}
        assert suggestion["correct"]["value"] == ("A" if a_is_chosen(pid) else "B")
        assert suggestion["correct"]["score"] == 1.0 and suggestion["correct"]["agent"] == "planforge-validators"
        assert suggestion["error_kinds"]["value"] == ["hallucinated_function"]
        assert record["fields"]["request"].endswith("(current date and time: 2026-11-21 09:00:00)")
    assert record_for_pair(pair, "train")["suggestions"] == []  # off unless asked for


def test_plan_lines_the_other_plan_lacks_are_marked():
    columns = plan_columns("1. a()\n2. b($1)\n3. join()", "1. a()\n2. c($1)\n3. join()")
    assert [line["changed"] for line in columns["a"]] == [False, True, False]
    assert [line["changed"] for line in columns["b"]] == [False, True, False]
    assert [line["text"] for line in columns["b"]] == ["1. a()", "2. c($1)", "3. join()"]
    longer = plan_columns("1. a()\n2. join()", "1. a()\n2. b()\n3. join()")
    assert [line["changed"] for line in longer["a"]] == [False, True]  # "2. join()" vs "3. join()"
    assert [line["changed"] for line in longer["b"]] == [False, True, True]


def test_no_answer_is_suggested_when_both_plans_pass(mac_tools):
    """The validators cannot tell which of two valid plans means what was asked: they suggest nothing then."""
    pair = make_pair(mac_tools, '1. get_email_address("Sid")\n2. join()', rejected_valid=True, rejected_errors=[])
    assert suggestions_for(pair, a_chosen=False) == []


def test_labels_and_error_kind_mapping():
    assert list(CORRECT_LABELS) == ["A", "B", "both", "neither"]
    assert set(KINDS) <= set(ERROR_KINDS)
    assert error_kinds_for(
        ["unknown_function", "type_mismatch", "rule", "rule", "bad_reference", "syntax"],
        ["", "", "cc 'Sid' is not an email address: look it up with get_email_address() first", "date", "", ""],
    ) == ["hallucinated_function", "type_error", "missing_lookup", "wrong_values", "broken_dependency", "syntax"]
