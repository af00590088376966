"""Does a rewritten request still carry every literal its plan needs? (the check behind ``--mode paraphrase``)

A literal *needed* by a plan is an argument value the original request states: a name, an address, a phone
number, a title, a file or note name, a message's words (a string argument found in the request, ignoring case
and punctuation), a number (as digits, a number word or a duration: "half an hour" is 30), a day and a clock
time (a date argument whose day or time the request's date phrases resolve to against the example's "now").
Values the request does not state (a default duration, a travel mode code, the end of a one-hour event) are not
needed. A rewrite keeps a literal when it states the same value, in any of those forms: "tomorrow at 3pm" keeps
``2026-03-10 15:00:00`` when "now" is 2026-03-09.

Relative day and time phrases are resolved with the recipe's own rules (:mod:`planforge.generator.dates`: "next
Friday" is the Friday of the following week); other date wording ("March 10", "10/03/2026", "in two days") by
``dateparser`` when it is installed (``pip install 'planforge[paraphrase]'``), tried only for a value the cheap
pass did not find. Everything here is pure: the same texts, plan and "now" give the same answer."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from planforge.generator.dates import (
    NUMBERS,
    PARTS_OF_DAY,
    TODAY_PARTS,
    WEEKDAYS,
    resolve_day,
    resolve_duration,
    resolve_range,
    resolve_time,
)

_WEEKDAY = "|".join(WEEKDAYS)
_COUNT = r"(?:\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
_DAY_PHRASE = re.compile(
    r"\b(?:the day after tomorrow|tomorrow|tmrw|tmr|today|tonight|this (?:morning|afternoon|evening)|next week"
    rf"|in {_COUNT} (?:days?|weeks?)|a week from (?:{_WEEKDAY})|(?:on |this |next )?(?:{_WEEKDAY})"
    r"|(?:on )?the \d{1,2}(?:st|nd|rd|th))\b"
)
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?"
_RANGE_PHRASE = re.compile(rf"(?<![\w:])(?:from |between )?{_CLOCK}\s*(?:to|until|till|and|-|–)\s*{_CLOCK}(?![\w:])")
_PARTS = "|".join(sorted((re.escape(p) for p in (*PARTS_OF_DAY, *TODAY_PARTS)), key=len, reverse=True))
_TIME_PHRASE = re.compile(
    rf"(?<![\w:])(?:\d{{1,2}}:\d{{2}}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{{1,2}}\s*(?:am|pm|a\.m\.|p\.m\.))(?!\w)|\b(?:{_PARTS})\b"
)
_UNITS = r"quarter of an hour|half an hour|an hour and a half|hours?|hrs?|minutes?|mins?"
_DURATION_PHRASE = re.compile(rf"\b(?:(?:a|{_COUNT}) )?(?:{_UNITS})(?: and a half)?\b")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_PHONE = re.compile(r"^[\d\s()+.\-]+$")
_NUMBER_TOKEN = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_CLOCKISH = re.compile(r"\d\s*(?:am|pm|a\.m\.|p\.m\.)|\d:\d\d|noon|midnight|morning|afternoon|evening|night")
_WORDS = {v: k for k, v in NUMBERS.items() if k not in ("a", "an")}
#: spellings the recipe's duration rules do not read, as they do
_SPELLINGS = (
    (re.compile(r"\bhalf[- ]hour\b"), "30 minutes"),
    (re.compile(r"\bforty[- ]five\b"), "45"),
    (re.compile(r"\bthirty\b"), "30"),
    (re.compile(r"\bforty\b"), "40"),
    (re.compile(r"\bfifty\b"), "50"),
    (re.compile(r"\bsixty\b"), "60"),
    (re.compile(r"\bninety\b"), "90"),
)


@dataclass(frozen=True)
class Literal:
    """One value a plan needs that its request states."""

    kind: str  # text | phone (compared by its digits) | number | day | time
    value: Any  # the normalized text, the number, a date, a time
    shown: str  # the plan's own spelling, for messages

    def describe(self) -> str:
        return f"{self.kind} {self.shown!r}"


def normalize(text: str) -> str:
    """Case and punctuation folded, apostrophes unified, whitespace collapsed, padded by spaces (word edges)."""
    text = text.casefold().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[^\w@+'\-]+", " ", text)
    return f" {' '.join(text.split())} "


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --------------------------------------------------------------------------------------------------
# what a text says: days, times, durations, numbers


@dataclass(frozen=True)
class Said:
    """The values a request states, as far as the cheap pass can read them."""

    text: str  # normalized
    digits: str
    days: frozenset[date]
    times: frozenset[time]
    minutes: frozenset[int]  # durations
    numbers: frozenset[float]


@lru_cache(maxsize=4096)
def said(text: str, now: str) -> Said:
    """What ``text`` states against ``now`` (``YYYY-MM-DD HH:MM:SS``): days, clock times, durations, numbers."""
    moment = datetime.fromisoformat(now)
    lower = _folded(text)
    days: set[date] = set()
    for match in _DAY_PHRASE.finditer(lower):
        with contextlib.suppress(ValueError):
            days.add(resolve_day(match.group(0), moment))
    times: set[time] = set()
    for match in _RANGE_PHRASE.finditer(lower):
        with contextlib.suppress(ValueError):
            times.update(resolve_range(match.group(0)))
    for match in _TIME_PHRASE.finditer(lower):
        phrase = match.group(0)
        with contextlib.suppress(ValueError):
            times.add(resolve_time(TODAY_PARTS.get(phrase, phrase)))
    minutes: set[int] = set()
    for match in _DURATION_PHRASE.finditer(lower):
        with contextlib.suppress(ValueError):
            minutes.add(resolve_duration(match.group(0)))
    numbers = {float(n) for n in _NUMBER_TOKEN.findall(lower)}
    numbers |= {float(NUMBERS[w]) for w in re.findall(r"[a-z]+", lower) if w in _WORDS.values()}
    return Said(normalize(text), _digits(text), frozenset(days), frozenset(times), frozenset(minutes),
                frozenset(numbers))  # fmt: skip


def _folded(text: str) -> str:
    lower = " ".join(text.casefold().replace("’", "'").split())
    for pattern, spelling in _SPELLINGS:
        lower = pattern.sub(spelling, lower)
    return lower


@lru_cache(maxsize=4096)
def said_by_dateparser(text: str, now: str) -> tuple[frozenset[date], frozenset[time]]:
    """Days and clock times ``dateparser`` finds in ``text`` (empty when it is not installed). A time counts only
    when the phrase names one: dateparser fills a missing time with "now"'s."""
    try:
        from dateparser.search import search_dates
    except ImportError:  # pragma: no cover - the extra is not installed
        return frozenset(), frozenset()
    settings = {"RELATIVE_BASE": datetime.fromisoformat(now), "PREFER_DATES_FROM": "future"}
    # what the recipe's rules read (day phrases: "next Friday" is theirs to resolve) and durations are left out
    rest = _DURATION_PHRASE.sub(" ", _DAY_PHRASE.sub(" ", _folded(text)))
    try:
        found = search_dates(rest, languages=["en"], settings=settings) or []
    except Exception:  # noqa: BLE001 - a parser failure means no date read, never a crash
        return frozenset(), frozenset()
    days = {moment.date() for _, moment in found}
    times = {moment.time().replace(second=0, microsecond=0) for phrase, moment in found if _CLOCKISH.search(phrase)}
    return frozenset(days), frozenset(times)


# --------------------------------------------------------------------------------------------------
# the plan's literals


def _values(value: Any) -> Iterable[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _values(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _values(item)
    else:
        yield value


def _is_reference(value: str) -> bool:
    return bool(re.fullmatch(r"\$\{?\d+\}?", value.strip()))


def plan_values(calls: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Every argument value of a plan's calls (JSON calls with named arguments), references left out."""
    out = []
    for call in calls:
        for value in _values(call.get("arguments") or {}):
            if isinstance(value, str) and (not value.strip() or _is_reference(value)):
                continue
            if value is None or isinstance(value, bool):
                continue
            out.append(value)
    return out


def _states_number(found: Said, number: float) -> bool:
    return number in found.numbers or (number.is_integer() and int(number) in found.minutes)


def _states_day(found: Said, text: str, now: str, day: date) -> bool:
    return day in found.days or day in said_by_dateparser(text, now)[0]


def _states_time(found: Said, text: str, now: str, clock: time) -> bool:
    return clock in found.times or clock in said_by_dateparser(text, now)[1]


def needed_literals(request: str, calls: Sequence[Mapping[str, Any]], now: str) -> list[Literal]:
    """The literals of the plan that ``request`` states (see the module doc), in plan order, without repeats."""
    found = said(request, now)
    out: dict[tuple[str, Any], Literal] = {}

    def need(kind: str, value: Any, shown: str) -> None:
        out.setdefault((kind, value), Literal(kind, value, shown))

    for value in plan_values(calls):
        if isinstance(value, (int, float)):
            if _states_number(found, float(value)):
                need("number", float(value), str(value))
            continue
        text = str(value).strip()
        iso = _ISO.match(text)
        if iso:
            day = date.fromisoformat(iso.group(1))
            if _states_day(found, request, now, day):
                need("day", day, iso.group(1))
            if iso.group(2):
                clock = time(int(iso.group(2)), int(iso.group(3)))
                if _states_time(found, request, now, clock):
                    need("time", clock, clock.strftime("%H:%M"))
            continue
        if _PHONE.match(text) and len(_digits(text)) >= 7:
            if _digits(text) in found.digits:
                need("phone", _digits(text), text)
            continue
        folded = normalize(text)
        if len(folded.strip()) >= 2 and folded in found.text:
            need("text", folded, text)
    return list(out.values())


def missing_literals(rewrite: str, needed: Iterable[Literal], now: str) -> list[Literal]:
    """The needed literals ``rewrite`` does not state."""
    found = said(rewrite, now)
    missing = []
    for literal in needed:
        if literal.kind == "number":
            kept = _states_number(found, literal.value)
        elif literal.kind == "day":
            kept = _states_day(found, rewrite, now, literal.value)
        elif literal.kind == "time":
            kept = _states_time(found, rewrite, now, literal.value)
        elif literal.kind == "phone":
            kept = literal.value in found.digits
        else:
            kept = literal.value in found.text
        if not kept:
            missing.append(literal)
    return missing


def check_rewrite(original: str, rewrite: str, calls: Sequence[Mapping[str, Any]], now: str) -> list[Literal]:
    """The literals of the plan that ``original`` states and ``rewrite`` drops (empty: the rewrite keeps them)."""
    return missing_literals(rewrite, needed_literals(original, calls, now), now)


__all__ = ["Literal", "check_rewrite", "missing_literals", "needed_literals", "normalize", "plan_values"]
