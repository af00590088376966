"""Relative dates and times ("tomorrow at 3pm", "a week from Friday", "from 10 to 10:30") resolved against an
example's fixed "now", as the mac_assistant README's table defines them.

Days: "on Friday" / "this Friday" / "Friday" is the next Friday after today (1-7 days ahead); "next Friday" is
the Friday of the following calendar week (Monday-based); "next week" is next week's Monday; "a week from
Friday" is "on Friday" + 7 days; "the 14th" is the next 14th after today. Parts of the day: morning 9:00,
noon / lunchtime 12:00, afternoon 14:00, end of day 17:00, evening 19:00, tonight / night 20:00. A bare hour
in a range without am/pm reads as the working day would: 7-11 morning, 12 noon, 1-6 afternoon. Every
function here is pure: the same phrase and "now" give the same answer."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20,
}  # fmt: skip
PARTS_OF_DAY = {
    "morning": time(9),
    "noon": time(12),
    "midday": time(12),
    "lunchtime": time(12),
    "lunch": time(12),
    "afternoon": time(14),
    "end of day": time(17),
    "end of the day": time(17),
    "eod": time(17),
    "evening": time(19),
    "tonight": time(20),
    "night": time(20),
    "midnight": time(0),
}
# Day phrases that also say the part of the day ("tonight", "this evening"): today, at that time.
TODAY_PARTS = {"tonight": "tonight", "this morning": "morning", "this afternoon": "afternoon",
               "this evening": "evening"}  # fmt: skip

_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?")
_ORDINAL = re.compile(r"(?:on )?the (\d{1,2})(?:st|nd|rd|th)")
_IN = re.compile(r"in (\d+|\w+) (day|days|week|weeks)")
_WEEKDAY = re.compile(r"(on |this |next )?(\w+)")
_WEEK_FROM = re.compile(r"a week from (\w+)")
_RANGE = re.compile(r"(?:from |between )?(.+?)\s*(?:to|until|till|and|-|–)\s*(.+)")
_UNITS = r"quarter of an hour|half an hour|an hour and a half|hours?|hrs?|minutes?|mins?"
_DURATION = re.compile(rf"(?:for )?(?:(\d+|\w+) )?({_UNITS})(?: and a half)?")


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word in NUMBERS:
        return NUMBERS[word]
    raise ValueError(word)


def resolve_day(phrase: str, now: datetime) -> date:
    """The date a day phrase names: today, tonight, this evening, tomorrow (tmrw), the day after tomorrow,
    (on|this) Friday, next Friday, next week, a week from Friday, in 3 days, in two weeks, (on) the 14th."""
    text = " ".join(phrase.strip().lower().split())
    today = now.date()
    if text in ("today", *TODAY_PARTS):
        return today
    if text in ("tomorrow", "tmrw", "tmr", "tomorrow morning", "tomorrow afternoon", "tomorrow evening"):
        return today + timedelta(days=1)
    if text == "the day after tomorrow":
        return today + timedelta(days=2)
    if text == "next week":
        return today + timedelta(days=7 - today.weekday())
    match = _IN.fullmatch(text)
    if match:
        try:
            count = _number(match.group(1))
        except ValueError:
            raise ValueError(f"cannot resolve the day {phrase!r}") from None
        return today + timedelta(days=count * (7 if match.group(2).startswith("week") else 1))
    match = _ORDINAL.fullmatch(text)
    if match:
        return _next_day_of_month(int(match.group(1)), today, phrase)
    match = _WEEK_FROM.fullmatch(text)
    if match and match.group(1) in WEEKDAYS:
        return _weekday(match.group(1), "", today) + timedelta(days=7)
    match = _WEEKDAY.fullmatch(text)
    if match and match.group(2) in WEEKDAYS:
        return _weekday(match.group(2), match.group(1) or "", today)
    raise ValueError(f"cannot resolve the day {phrase!r}")


def _weekday(name: str, qualifier: str, today: date) -> date:
    target = WEEKDAYS.index(name)
    if qualifier == "next ":
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _next_day_of_month(day: int, today: date, phrase: str) -> date:
    if not 1 <= day <= 31:
        raise ValueError(f"cannot resolve the day {phrase!r}")
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) > today:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError(f"cannot resolve the day {phrase!r}")  # pragma: no cover - every day 1-31 comes back


def resolve_time(phrase: str) -> time:
    """The clock time a time phrase names: at 3pm, 3 pm, 15:00, at 3:30pm, noon, lunchtime, (in the) morning,
    (this) afternoon, end of day / EOD, (this) evening, tonight."""
    text = " ".join(phrase.strip().lower().split())
    for prefix in ("at ", "by ", "in the ", "this ", "around "):
        if text.startswith(prefix) and text[len(prefix) :]:
            text = text[len(prefix) :]
            break
    if text.startswith("the ") and text[4:] in PARTS_OF_DAY:
        text = text[4:]
    if text in PARTS_OF_DAY:
        return PARTS_OF_DAY[text]
    match = _CLOCK.fullmatch(text)
    if not match or (match.group(3) is None and match.group(2) is None):
        raise ValueError(f"cannot resolve the time {phrase!r}")
    return _clock(int(match.group(1)), int(match.group(2) or 0), match.group(3), phrase)


def _clock(hour: int, minute: int, meridiem: str | None, phrase: str) -> time:
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"cannot resolve the time {phrase!r}")
        if meridiem.startswith("p") and hour != 12:
            hour += 12
        if meridiem.startswith("a") and hour == 12:
            hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"cannot resolve the time {phrase!r}")
    return time(hour, minute)


def _bare_hour(hour: int) -> int:
    """A bare hour of a range ("from 2 to 3"): 7-11 morning, 12 noon, 1-6 afternoon."""
    return hour + 12 if 1 <= hour <= 6 else hour


def resolve_range(phrase: str) -> tuple[time, time]:
    """Start and end of "from 10 to 10:30", "from 2 to 3:30pm", "between 1 and 2pm", "9-11am". An am/pm
    on the end alone also applies to the start, unless that would put the start after the end."""
    text = " ".join(phrase.strip().lower().split())
    match = _RANGE.fullmatch(text)
    if not match:
        raise ValueError(f"cannot resolve the range {phrase!r}")
    first, second = _CLOCK.fullmatch(match.group(1)), _CLOCK.fullmatch(match.group(2))
    if not first or not second:
        raise ValueError(f"cannot resolve the range {phrase!r}")
    end_meridiem = second.group(3)
    end = _clock(_hour(second, end_meridiem), int(second.group(2) or 0), end_meridiem, phrase)
    start_meridiem = first.group(3)
    if start_meridiem is None and end_meridiem is not None:
        start = _clock(int(first.group(1)), int(first.group(2) or 0), end_meridiem, phrase)
        if start > end:
            start = _clock(int(first.group(1)), int(first.group(2) or 0), "am", phrase)
    else:
        start = _clock(_hour(first, start_meridiem), int(first.group(2) or 0), start_meridiem, phrase)
    if end <= start:
        raise ValueError(f"cannot resolve the range {phrase!r}: it ends before it starts")
    return start, end


def _hour(match: re.Match[str], meridiem: str | None) -> int:
    hour = int(match.group(1))
    return hour if meridiem else _bare_hour(hour)


def resolve_duration(phrase: str) -> int:
    """Minutes of "for half an hour", "45 minutes", "90 mins", "an hour", "two hours", "an hour and a half",
    "a quarter of an hour"."""
    text = " ".join(phrase.strip().lower().split())
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"cannot resolve the duration {phrase!r}")
    count_word, unit = match.group(1), match.group(2)
    if unit == "quarter of an hour":
        return 15 if count_word in (None, "a") else _fail_duration(phrase)
    if unit == "half an hour":
        return 30 if count_word is None else _fail_duration(phrase)
    if unit == "an hour and a half":
        return 90 if count_word is None else _fail_duration(phrase)
    try:
        count = _number(count_word) if count_word else 1
    except ValueError:
        return _fail_duration(phrase)
    minutes = count * 60 if unit.startswith("h") else count
    if text.endswith(" and a half"):
        minutes += 30 if unit.startswith("h") else 0
    return minutes


def _fail_duration(phrase: str) -> int:
    raise ValueError(f"cannot resolve the duration {phrase!r}")


def resolve_when(day: str, clock: str, now: datetime) -> datetime:
    return datetime.combine(resolve_day(day, now), resolve_time(clock))


def iso(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%d")
