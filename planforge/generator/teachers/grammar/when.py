"""Times as requests say them, drawn at random and resolved by :mod:`planforge.generator.dates`.

Every phrase is written first and then resolved back from its own words, so a plan's date is always what the
request says under the recipe's conventions (the same functions a hand-written example would be checked
against). Times of "today" are always later than "now"."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from planforge.generator.dates import iso, resolve_day, resolve_duration, resolve_range, resolve_time

WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PARTS = {"morning": 9, "afternoon": 14, "evening": 19, "night": 20}
TODAY_PARTS = {"this morning": 9, "this afternoon": 14, "this evening": 19, "tonight": 20}
# minutes -> (what "for ..." says, what a "...-minute meeting" says)
DURATIONS = {
    15: (["15 minutes", "15 mins", "a quarter of an hour"], ["15-minute"]),
    20: (["20 minutes", "20 mins"], ["20-minute"]),
    30: (["half an hour", "30 minutes", "30 mins"], ["30-minute", "half-hour"]),
    45: (["45 minutes", "45 mins"], ["45-minute"]),
    90: (["90 minutes", "an hour and a half"], ["90-minute"]),
    120: (["two hours", "2 hours"], ["two-hour"]),
}


@dataclass(frozen=True)
class Moment:
    text: str  # as the request says it: "tomorrow at 3pm", "Friday from 10 to 10:30", "on the 14th"
    start: datetime | date  # a date alone for a day without a time
    end: datetime | None = None  # set when the phrase gives an end ("from 10 to 10:30")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def start_iso(self) -> str:
        return iso(self.start)


@dataclass(frozen=True)
class Length:
    minutes: int
    phrase: str  # "half an hour"
    adjective: str  # "30-minute"


def _day_phrases(now: datetime, rng: random.Random) -> str:
    roll = rng.random()
    weekday = rng.choice(WEEKDAY_NAMES)
    if roll < 0.22:
        return "tomorrow"
    if roll < 0.24:
        return "the day after tomorrow"
    if roll < 0.55:
        return rng.choice([f"on {weekday}", weekday, f"this {weekday}"])
    if roll < 0.68:
        return f"next {weekday}"
    if roll < 0.71:
        return f"a week from {weekday}"
    if roll < 0.84:
        return rng.choice(["in 2 days", "in 3 days", "in 4 days", "in 5 days", "in two days", "in three days"])
    if roll < 0.88:
        return rng.choice(["in two weeks", "in a week"])
    day = rng.choice([3, 5, 8, 10, 12, 14, 15, 18, 20, 21, 22, 25, 28])
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th")
    return rng.choice([f"the {day}{suffix}", f"on the {day}{suffix}"])


def _clock(hour: int, minute: int, rng: random.Random) -> str:
    """A clock time as people write it: 3pm, 3 pm, 3:30pm, 15:00, noon."""
    if hour == 12 and minute == 0 and rng.random() < 0.5:
        return rng.choice(["noon", "noon", "lunchtime"])
    if hour >= 13 and rng.random() < 0.15:
        return f"{hour}:{minute:02d}"
    twelve = hour % 12 or 12
    meridiem = "am" if hour < 12 else "pm"
    if rng.random() < 0.1:
        meridiem = meridiem.upper()
    space = " " if rng.random() < 0.2 else ""
    return f"{twelve}{space}{meridiem}" if minute == 0 else f"{twelve}:{minute:02d}{space}{meridiem}"


def _hour(rng: random.Random, earliest: int, latest: int) -> tuple[int, int]:
    hour = rng.randint(earliest, latest)
    return hour, rng.choice([0, 0, 0, 0, 30, 30, 15, 45])


def draw_moment(
    now: datetime, rng: random.Random, *, dated: bool = False, ranged: bool = False, deadline: bool = False
) -> Moment:
    """A moment for an event, a zoom call or a reminder. ``dated``: a day only (all-day reminders, also
    "next week"); ``ranged``: the phrase gives start and end ("tomorrow from 10 to 10:30"); ``deadline``: "by
    end of day" may be said (a reminder's time, not an event's)."""
    if dated:
        phrase = "today" if rng.random() < 0.08 else _day_phrases(now, rng)
        if rng.random() < 0.06:
            phrase = "next week"
        return Moment(phrase, resolve_day(phrase, now))
    for _ in range(20):
        moment = _timed(now, rng, ranged, deadline)
        if moment is not None:
            return moment
    return _timed(now.replace(hour=8, minute=0), rng, ranged, deadline) or Moment(  # pragma: no cover - a fallback only
        "tomorrow at 9am", datetime.combine(now.date() + timedelta(days=1), time(9))
    )


def _timed(now: datetime, rng: random.Random, ranged: bool, deadline: bool) -> Moment | None:
    today_ok = rng.random() < 0.22
    if ranged:
        day = "today" if today_ok else _day_phrases(now, rng)
        if day.startswith(("in ", "a week")):
            return None  # "in a week from 10 to 11" reads as something else
        phrase = _range(rng)
        start_t, end_t = resolve_range(phrase)
        text = rng.choice([f"{day} {phrase}", f"{phrase} {day}"]) if day != "today" else f"today {phrase}"
        moment = Moment(text, datetime.combine(resolve_day(day, now), start_t))
        moment = Moment(text, moment.start, datetime.combine(resolve_day(day, now), end_t))
        return moment if moment.start > now + timedelta(minutes=30) else None
    if today_ok:
        roll = rng.random()
        if roll < 0.45:
            phrase = rng.choice(list(TODAY_PARTS))
            start = datetime.combine(now.date(), resolve_time(phrase))
            return Moment(phrase, start) if start > now + timedelta(minutes=30) else None
        if roll < 0.6 and deadline:
            phrase = rng.choice(["by end of day", "end of day", "by EOD", "before end of day"])
            start = datetime.combine(now.date(), time(17))
            phrase = phrase.replace("before end of day", "by end of day")
            return Moment(phrase, start) if start > now + timedelta(minutes=30) else None
        hour, minute = _hour(rng, max(now.hour + 1, 9), 20)
        if hour > 20:
            return None
        clock = f"at {_clock(hour, minute, rng)}"
        text = rng.choice([clock, f"today {clock}", f"{clock} today", f"later today {clock}"])
        start = datetime.combine(now.date(), resolve_time(clock))
        return Moment(text, start) if start > now + timedelta(minutes=30) else None
    day = _day_phrases(now, rng)
    on_day = resolve_day(day, now)
    roll = rng.random()
    if roll < 0.25 and not day.startswith(("in ", "the ", "on the ")):
        part = rng.choice(list(PARTS))
        bare = day.removeprefix("on ").removeprefix("this ")
        if day == "the day after tomorrow":
            text = f"the day after tomorrow in the {part}" if part != "night" else "the day after tomorrow at night"
        else:
            text = f"{bare} {part}"
        return Moment(text, datetime.combine(on_day, time(PARTS[part])))
    if roll < 0.3 and deadline:
        text = rng.choice([f"by end of day {day.removeprefix('on ')}", f"{day} by end of day", f"EOD {day}"])
        return Moment(text, datetime.combine(on_day, time(17)))
    hour, minute = _hour(rng, 8, 19)
    clock = f"at {_clock(hour, minute, rng)}"
    text = rng.choice([f"{day} {clock}", f"{day} {clock}", f"{clock} {day}"])
    return Moment(text, datetime.combine(on_day, resolve_time(clock)))


def _range(rng: random.Random) -> str:
    start_hour, start_minute = _hour(rng, 8, 17)
    minutes = rng.choice([30, 30, 45, 60, 60, 90, 120])
    start = datetime(2000, 1, 1, start_hour, start_minute)
    end = start + timedelta(minutes=minutes)

    def bare(moment: datetime) -> str:
        hour = moment.hour % 12 or 12
        return f"{hour}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}"

    def meridiem(moment: datetime) -> str:
        return "am" if moment.hour < 12 else "pm"

    style = rng.random()
    if style < 0.4 and _bare_reads(start) and _bare_reads(end):
        phrase = f"from {bare(start)} to {bare(end)}"
    elif style < 0.75:
        phrase = f"from {bare(start)} to {bare(end)}{meridiem(end)}"
    elif style < 0.9:
        phrase = f"between {bare(start)} and {bare(end)}{meridiem(end)}"
    else:
        phrase = f"{bare(start)}-{bare(end)}{meridiem(end)}"
    if resolve_range(phrase) != (start.time(), end.time()):
        phrase = f"from {bare(start)}{meridiem(start)} to {bare(end)}{meridiem(end)}"
    return phrase


def _bare_reads(moment: datetime) -> bool:
    """Does a bare hour read as this time (7-11 morning, 12 noon, 1-6 afternoon)?"""
    return 7 <= moment.hour <= 18


def draw_length(rng: random.Random) -> Length:
    minutes = rng.choice(list(DURATIONS))
    phrases, adjectives = DURATIONS[minutes]
    phrase = rng.choice(phrases)
    return Length(resolve_duration(phrase), phrase, rng.choice(adjectives))
