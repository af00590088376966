from datetime import datetime

import pytest

from planforge.generator.dates import resolve_day, resolve_duration, resolve_range, resolve_time, resolve_when
from planforge.recipes.loader import load_recipe
from planforge.validators import validate

MONDAY = datetime(2026, 3, 9, 10, 0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("today", "2026-03-09"),
        ("tomorrow", "2026-03-10"),
        ("the day after tomorrow", "2026-03-11"),
        ("on Friday", "2026-03-13"),
        ("on Monday", "2026-03-16"),
        ("next Friday", "2026-03-20"),
        ("next week", "2026-03-16"),
        ("in 5 days", "2026-03-14"),
        ("tonight", "2026-03-09"),
        ("this evening", "2026-03-09"),
        ("tmrw", "2026-03-10"),
        ("this Friday", "2026-03-13"),
        ("Friday", "2026-03-13"),
        ("a week from Friday", "2026-03-20"),
        ("in two weeks", "2026-03-23"),
        ("the 14th", "2026-03-14"),
        ("on the 9th", "2026-04-09"),  # today is the 9th: the next one
        ("the 31st", "2026-03-31"),
        ("next Monday", "2026-03-16"),
    ],
)
def test_relative_days(day, expected):
    assert resolve_day(day, MONDAY).isoformat() == expected


def test_the_next_31st_skips_short_months():
    assert resolve_day("the 31st", datetime(2026, 3, 31, 9)).isoformat() == "2026-05-31"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("at 3pm", "15:00"),
        ("3 pm", "15:00"),
        ("at 15:00", "15:00"),
        ("at 3:30pm", "15:30"),
        ("at 12am", "00:00"),
        ("noon", "12:00"),
        ("at lunchtime", "12:00"),
        ("in the morning", "09:00"),
        ("this afternoon", "14:00"),
        ("by end of day", "17:00"),
        ("EOD", "17:00"),
        ("in the evening", "19:00"),
        ("this evening", "19:00"),
        ("tonight", "20:00"),
    ],
)
def test_times(phrase, expected):
    assert resolve_time(phrase).strftime("%H:%M") == expected


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("from 10 to 10:30", "10:00", "10:30"),
        ("from 2 to 3pm", "14:00", "15:00"),
        ("from 11 to 1pm", "11:00", "13:00"),
        ("between 1 and 2:30pm", "13:00", "14:30"),
        ("9-11am", "09:00", "11:00"),
        ("from 4:30 to 5", "16:30", "17:00"),
        ("from 9am to 5pm", "09:00", "17:00"),
    ],
)
def test_ranges(phrase, start, end):
    assert [t.strftime("%H:%M") for t in resolve_range(phrase)] == [start, end]


@pytest.mark.parametrize(
    ("phrase", "minutes"),
    [
        ("for half an hour", 30),
        ("45 minutes", 45),
        ("for 90 mins", 90),
        ("an hour", 60),
        ("for two hours", 120),
        ("an hour and a half", 90),
        ("20 min", 20),
        ("a quarter of an hour", 15),
    ],
)
def test_durations(phrase, minutes):
    assert resolve_duration(phrase) == minutes


def test_combined_and_bad_phrases():
    assert resolve_when("tomorrow", "at 3pm", MONDAY) == datetime(2026, 3, 10, 15)
    for bad in (lambda: resolve_day("someday", MONDAY), lambda: resolve_time("at 3"), lambda: resolve_time("25pm")):
        with pytest.raises(ValueError, match="cannot resolve"):
            bad()
    with pytest.raises(ValueError, match="ends before it starts"):
        resolve_range("from 3pm to 2pm")
    with pytest.raises(ValueError, match="cannot resolve the duration"):
        resolve_duration("a while")


RECIPE = load_recipe("mac_assistant")


def check(plan: str, query: str, now: str = "2026-03-09 10:00:00") -> list[str]:
    errors = validate(
        plan, RECIPE.tools, require_join=True, rules=RECIPE.rule_functions(), context={"query": query, "now": now}
    )
    return [e.message for e in errors]


@pytest.mark.parametrize(
    ("query", "plan", "fragment"),
    [
        (
            "email Sid the notes",
            '1. compose_new_email(["Sid"], [], "notes", "", [])\n2. join()',
            "recipients 'Sid' is not an email address: look it up",
        ),
        (
            "email Sid the notes",
            '1. compose_new_email(["sid@x.com"], [], "notes", "", [])\n2. join()',
            "'sid@x.com' is not in the request",
        ),
        (
            "text Sid hi",
            '1. get_email_address("Sid")\n2. send_sms(["$1"], "hi")\n3. join()',
            "recipients takes $1 from get_email_address(), which gives no phone number",
        ),
        ("summarize report", '1. summarize_pdf("/tmp/report.pdf")\n2. join()', "pdf_path must be the output"),
        (
            "zoom with Sid",
            '1. get_email_address("Sid")\n2. get_zoom_meeting_link("x", "2026-03-10 10:00:00", 30, ["$1"])\n3. join()',
            "makes a link that no create_calendar_event()",
        ),
        (
            "meet",
            '1. create_calendar_event("x", "tomorrow 3pm", "2026-03-10 16:00:00", "", [], "", None)\n2. join()',
            "start_date 'tomorrow 3pm' is not a date as YYYY-MM-DD HH:MM:SS",
        ),
        (
            "meet",
            '1. create_calendar_event("x", "2025-03-10 15:00:00", "2025-03-10 16:00:00", "", [], "", None)\n2. join()',
            "is before now (2026-03-09 10:00:00)",
        ),
        (
            "meet",
            '1. create_calendar_event("x", "2026-03-10 15:00:00", "2026-03-10 14:00:00", "", [], "", None)\n2. join()',
            "end_date is before start_date",
        ),
        (
            "remind",
            '1. create_reminder("x", "2026-03-10 09:00:00", "", "", 0, True)\n2. join()',
            "due_date '2026-03-10 09:00:00' is not a date as YYYY-MM-DD",
        ),
        ("remind", '1. create_reminder("x", "2026-03-10", "", "", 0, True)', "must end with join()"),
        ("text hi", '1. send_sms([""], "hi")\n2. join()', 'recipients holds an empty string: leave "" out'),
        (
            "email sid@x.com",
            '1. compose_new_email(["sid@x.com"], [""], "", "", [])\n2. join()',
            "cc holds an empty string",
        ),
        ("reply", '1. reply_to_email([], "", [""])\n2. join()', "attachments holds an empty string"),
        (
            "text Sid hi",
            '1. get_phone_number("Sid")\n2. get_phone_number("Maya")\n3. send_sms(["$1"], "hi")\n4. join()',
            "step 2: get_phone_number() looks up a contact that no later step uses",
        ),
        ("Sid's address?", '1. get_email_address("Sid")\n2. join()', "looks up a contact that no later step uses"),
    ],
)
def test_mac_assistant_rules(query, plan, fragment):
    messages = check(plan, query)
    assert any(fragment in m for m in messages), messages


def test_used_lookups_and_opened_files_alone_pass():
    assert check('1. get_phone_number("Sid")\n2. send_sms(["$1"], "hi")\n3. join()', "text Sid hi") == []
    assert check('1. open_and_get_file_path("Q3 report")\n2. join()', "open the Q3 report") == []
    assert check('1. maps_open_location("SFO")\n2. join()', "where is SFO") == []


def test_literal_addresses_from_the_request_pass():
    assert (
        check('1. compose_new_email(["sid@berkeley.edu"], [], "hi", "", [])\n2. join()', "email sid@berkeley.edu hi")
        == []
    )
    assert check('1. send_sms(["+1 415 555 0134"], "hi")\n2. join()', "text +1 415 555 0134 hi") == []
