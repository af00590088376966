"""Relative dates ("tomorrow at 3pm", "next Friday") resolved against an example's fixed "now".

Conventions: "on Friday" is the next Friday after today (1-7 days ahead); "next Friday" is the Friday of
the following calendar week; "next week" is next week's Monday; "in the morning/afternoon/evening" are
9:00, 14:00 and 19:00; events last 60 minutes."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PARTS_OF_DAY = {
    "in the morning": time(9),
    "in the afternoon": time(14),
    "in the evening": time(19),
    "tonight": time(20),
}
_CLOCK = re.compile(r"at (\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def resolve_day(phrase: str, now: datetime) -> date:
    text = phrase.strip().lower()
    today = now.date()
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "the day after tomorrow":
        return today + timedelta(days=2)
    if text == "next week":
        return today + timedelta(days=7 - today.weekday())
    match = re.fullmatch(r"in (\d+) days?", text)
    if match:
        return today + timedelta(days=int(match.group(1)))
    match = re.fullmatch(r"(on |this |next )?(\w+)", text)
    if match and match.group(2) in WEEKDAYS:
        target = WEEKDAYS.index(match.group(2))
        if match.group(1) == "next ":
            next_monday = today + timedelta(days=7 - today.weekday())
            return next_monday + timedelta(days=target)
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
    raise ValueError(f"cannot resolve the day {phrase!r}")


def resolve_time(phrase: str) -> time:
    text = phrase.strip().lower()
    if text in PARTS_OF_DAY:
        return PARTS_OF_DAY[text]
    if text == "at noon":
        return time(12)
    if text == "at midnight":
        return time(0)
    match = _CLOCK.fullmatch(text)
    if not match:
        raise ValueError(f"cannot resolve the time {phrase!r}")
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem == "pm" and hour != 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    return time(hour, minute)


def resolve_when(day: str, clock: str, now: datetime) -> datetime:
    return datetime.combine(resolve_day(day, now), resolve_time(clock))


def iso(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%d")
