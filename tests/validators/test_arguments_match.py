"""Argument success on hand-made plans: key arguments exact, free text lenient, $K wiring through the pairing."""

from importlib import resources

import pytest

from planforge.plan import parse_plan
from planforge.recipes.loader import recipe_key_arguments
from planforge.tools import load_tools
from planforge.validators import KeyArguments, arguments_match, judge, match_arguments

TOOLS = load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")
MAC = KeyArguments.of(recipe_key_arguments("mac_assistant"))

REFERENCE = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)


def plan(text: str):
    return parse_plan(text, param_order=TOOLS.param_order).bind(TOOLS.param_order)


def test_the_reference_itself_matches_every_argument():
    found = match_arguments(plan(REFERENCE), plan(REFERENCE), MAC)
    # 1 lookup name + zoom (topic free, start, duration, invitees) + event (title free, 2 dates, location, invitees,
    # notes free, calendar): every one compared in normalized mode.
    assert (found.isomorphic, found.compared, found.matched, found.mismatches) == (True, 12, 12, ())
    assert found.success and found.share == 1.0
    assert found.mapping == {1: 1, 2: 2, 3: 3}


def test_the_wrong_person_on_the_wrong_day_is_isomorphic_but_not_an_argument_success():
    wrong = REFERENCE.replace('"Sid"', '"Maya"').replace("2026-11-22 15:00:00", "2026-11-23 15:00:00")
    found = match_arguments(plan(wrong), plan(REFERENCE), MAC)
    assert found.isomorphic and not found.success
    assert found.mismatches == (
        "get_email_address.name (step 1)",
        "get_zoom_meeting_link.start_time (step 2)",
        "create_calendar_event.start_date (step 3)",
    )
    assert (found.compared, found.matched) == (12, 9)
    assert found.share == 9 / 12


def test_free_text_is_normalized_or_ignored_key_text_only_loses_case_and_spacing():
    retitled = REFERENCE.replace('"Apple sync"', '"apple  SYNC!"')
    assert arguments_match(plan(retitled), plan(REFERENCE), MAC)
    renamed = REFERENCE.replace('"Apple sync"', '"Sync with Sid"')
    assert not arguments_match(plan(renamed), plan(REFERENCE), MAC)
    ignoring = KeyArguments.of(recipe_key_arguments("mac_assistant"), free_text="ignore")
    found = match_arguments(plan(renamed), plan(REFERENCE), ignoring)
    # topic, title and notes ("") are free text without a $K: not compared at all
    assert found.success and found.compared == 9
    spaced = REFERENCE.replace('"Sid"', '" sid "')
    assert arguments_match(plan(spaced), plan(REFERENCE), MAC)
    punctuated = REFERENCE.replace('"Sid"', '"Sid."')
    assert not arguments_match(plan(punctuated), plan(REFERENCE), MAC)


def test_every_argument_is_key_when_nothing_is_declared():
    retitled = REFERENCE.replace('"Apple sync"', '"apple sync!"')
    found = match_arguments(plan(retitled), plan(REFERENCE))
    assert not found.success
    assert found.mismatches == ("get_zoom_meeting_link.topic (step 2)", "create_calendar_event.title (step 3)")


def test_interchangeable_lookups_are_paired_by_their_values():
    reference = plan(
        '1. get_email_address("Sid")\n2. get_email_address("Maya")\n'
        '3. compose_new_email(["$1"], ["$2"], "Budget", "", [])\n4. join()'
    )
    swapped = plan(
        '1. get_email_address("Maya")\n2. get_email_address("Sid")\n'
        '3. compose_new_email(["$2"], ["$1"], "budget", "", [])\n4. join()'
    )
    found = match_arguments(swapped, reference, MAC)
    assert found.success and found.mapping == {1: 2, 2: 1, 3: 3}
    crossed = plan(
        '1. get_email_address("Maya")\n2. get_email_address("Sid")\n'
        '3. compose_new_email(["$1"], ["$2"], "Budget", "", [])\n4. join()'
    )
    found = match_arguments(crossed, reference, MAC)  # Maya emailed, Sid in cc: the wiring is wrong
    assert not found.success
    assert found.mismatches == ("compose_new_email.recipients (step 3)", "compose_new_email.cc (step 3)")


def test_the_wiring_of_each_argument_counts_even_in_ignored_free_text():
    reference = plan(
        '1. get_email_address("Sid")\n2. open_and_get_file_path("report")\n3. summarize_pdf("$2")\n'
        '4. compose_new_email(["$1"], [], "report", "$3", [])\n5. join()'
    )
    # the same graph, but the summary goes in as an attachment and the body is empty
    misplaced = plan(
        '1. get_email_address("Sid")\n2. open_and_get_file_path("report")\n3. summarize_pdf("$2")\n'
        '4. compose_new_email(["$1"], [], "report", "", ["$3"])\n5. join()'
    )
    ignoring = KeyArguments.of(recipe_key_arguments("mac_assistant"), free_text="ignore")
    found = match_arguments(misplaced, reference, ignoring)
    assert found.isomorphic
    assert found.mismatches == ("compose_new_email.context (step 4)", "compose_new_email.attachments (step 4)")


def test_values_compare_as_meant_numbers_flags_omissions_and_lists():
    reference = plan('1. create_reminder("Pay rent", "2026-12-01", "", "", 0, True)\n2. join()')
    assert arguments_match(plan('1. create_reminder("Pay rent", "2026-12-01", "", "", 0.0, True)'), reference, MAC)
    assert not arguments_match(plan('1. create_reminder("Pay rent", "2026-12-01", "", "", 0, 1)'), reference, MAC)
    assert not arguments_match(plan('1. create_reminder("Pay rent", "2026-12-01", "", "", 1, True)'), reference, MAC)
    event = (
        '1. create_calendar_event("Lunch", "2026-12-01 12:00:00", "2026-12-01 13:00:00", "", ["a@x.org", "b@x.org"], ""'
    )
    with_none = plan(event + ", None)")
    omitted = plan(event + ")")
    reordered = plan(event.replace('["a@x.org", "b@x.org"]', '["b@x.org", "A@X.org"]') + ", None)")
    assert arguments_match(omitted, with_none, MAC)
    assert arguments_match(reordered, with_none, MAC)
    assert not arguments_match(plan(event.replace(', "b@x.org"', "") + ", None)"), with_none, MAC)


def test_a_plan_that_is_not_isomorphic_scores_nothing():
    rewired = REFERENCE.replace('"$2", ["$1"], "", None', '"", ["$1"], "", None')
    found = match_arguments(plan(rewired), plan(REFERENCE), MAC)
    assert not found.isomorphic and not found.success and found.share == 0.0
    empty = parse_plan("1. join()")
    assert match_arguments(empty, empty, MAC).success


@pytest.mark.timeout(60)  # trying every pairing of ten alike calls would not end; the time is the benchmark's
def test_many_alike_calls_are_paired_by_their_arguments():
    names = [f"Person{i}" for i in range(10)]
    lookups = "\n".join(f'{i}. get_email_address("{n}")' for i, n in enumerate(names, start=1))
    refs = ", ".join(f'"${i}"' for i in range(1, 11))
    reference = plan(f'{lookups}\n11. compose_new_email([{refs}], [], "hi", "", [])\n12. join()')
    shuffled = list(reversed(names))
    wrong = [f"Other{i}" for i in range(10)]
    for people in (shuffled, wrong):
        text = "\n".join(f'{i}. get_email_address("{n}")' for i, n in enumerate(people, start=1))
        predicted = plan(f'{text}\n11. compose_new_email([{refs}], [], "hi", "", [])\n12. join()')
        found = match_arguments(predicted, reference, MAC)
        assert found.success is (people is shuffled)
    assert found.matched == 1 + 4 and found.compared == 15  # the email's five arguments, no lookup name


def test_judge_reports_the_arguments_only_when_asked():
    wrong = REFERENCE.replace('"Sid"', '"Maya"')
    verdict = judge(wrong, TOOLS, reference=plan(REFERENCE), key_arguments=MAC)
    assert verdict.valid and verdict.equivalent and verdict.arguments_wrong
    assert verdict.arguments.mismatches == ("get_email_address.name (step 1)",)
    assert judge(wrong, TOOLS, reference=plan(REFERENCE)).arguments is None
    unreadable = judge("1. get_email_address(", TOOLS, reference=plan(REFERENCE), key_arguments=MAC)
    assert unreadable.arguments is not None and not unreadable.arguments.success and not unreadable.arguments_wrong


def test_free_text_modes_are_checked():
    with pytest.raises(ValueError, match="free_text"):
        KeyArguments(free_text="fuzzy")
