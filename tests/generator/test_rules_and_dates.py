from datetime import datetime

import pytest

from planforge.generator.dates import resolve_day, resolve_time, resolve_when
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
    ],
)
def test_relative_days(day, expected):
    assert resolve_day(day, MONDAY).isoformat() == expected


def test_times_and_bad_phrases():
    assert resolve_when("tomorrow", "at 3pm", MONDAY) == datetime(2026, 3, 10, 15)
    assert str(resolve_time("at 12am")) == "00:00:00" and str(resolve_time("in the evening")) == "19:00:00"
    with pytest.raises(ValueError, match="cannot resolve"):
        resolve_day("someday", MONDAY)


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
    ],
)
def test_mac_assistant_rules(query, plan, fragment):
    messages = check(plan, query)
    assert any(fragment in m for m in messages), messages


def test_literal_addresses_from_the_request_pass():
    assert (
        check('1. compose_new_email(["sid@berkeley.edu"], [], "hi", "", [])\n2. join()', "email sid@berkeley.edu hi")
        == []
    )
    assert check('1. send_sms(["+1 415 555 0134"], "hi")\n2. join()', "text +1 415 555 0134 hi") == []
