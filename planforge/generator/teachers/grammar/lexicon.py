"""The things requests talk about (people, places, files, notes...) and how each is written.

Every entry keeps the text a plan uses (a lookup name, a file name, a place) apart from the words around it
("my", "the", "my lawyer,"), so the words can vary while the plan's literals stay as the recipe's conventions
say: names as written, file and note names without a leading "the" or "my"."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

OBJECT_PRONOUN = {"she": "her", "he": "him", "they": "them"}


@dataclass(frozen=True)
class Person:
    name: str  # as written and as looked up ("Dr. Gholami", "Mom", "my sister")
    pronoun: str = "they"  # she | he | they
    role: str = ""  # "my lawyer": a request may say "my lawyer, Ms. Brennan" (the lookup stays the name)
    literal: bool = False  # an email address or a phone number, used as written with no lookup

    @property
    def object(self) -> str:
        return OBJECT_PRONOUN[self.pronoun]


@dataclass(frozen=True)
class Place:
    name: str  # as written, "the" included: the plan uses it as it is
    prep: str = "at"  # "at the Ferry Building", "in Napa"


@dataclass(frozen=True)
class File:
    name: str  # the plan's file_name
    noun: str = "file"  # what "the ..." calls it once named: "the report"
    plural: bool = False
    determiner: bool = True  # "the Q3 report" / "my Q3 report"; False for names like "Q3_report.pdf"
    summary: bool = False  # a document summarize_pdf can read

    @property
    def it(self) -> str:
        return "them" if self.plural else "it"


@dataclass(frozen=True)
class Note:
    name: str
    items: tuple[str, ...] = ()  # noun phrases this note lists ("sunscreen" for a Packing list)


@dataclass(frozen=True)
class ReminderList:
    name: str
    items: tuple[str, ...] = ()  # noun phrases a reminder on this list can be ("oat milk")


@dataclass(frozen=True)
class Event:
    title: str  # the plan's title
    det: str = ""  # a | the | our | "" (none)
    online: bool = False  # can be a zoom call (a design review can, a haircut cannot)

    def phrase(self) -> str:
        if not self.det:
            return self.title
        det = "an" if self.det == "a" and self.title[:1].lower() in "aeio" else self.det
        return f"{det} {self.title}"


@dataclass(frozen=True)
class Transport:
    code: str  # d | w | r
    adjectives: tuple[str, ...]  # "walking directions"
    adverbs: tuple[str, ...]  # "how do I get there on foot"


@dataclass(frozen=True)
class Message:
    text: str
    clause: bool  # a declarative clause: it can follow "that"; otherwise only after a colon or in quotes


@dataclass
class Lexicon:
    people: list[Person]
    addresses: list[Person]
    phones: list[Person]
    places: list[Place]
    files: list[File]
    notes: list[Note]
    folders: list[str]
    reminder_lists: list[ReminderList]
    calendars: list[str]
    events: list[Event]
    topics: list[str]
    messages: list[Message]
    tasks: list[str]
    jottings: list[str]
    transport: list[Transport]
    priorities: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]  # value -> (noun phrases, adjectives)
    summaries: list[File] = field(init=False)
    meetings: list[Event] = field(init=False)

    def __post_init__(self) -> None:
        self.summaries = [f for f in self.files if f.summary]
        self.meetings = [e for e in self.events if e.online]

    def people_sample(self, rng: random.Random, count: int, avoid: set[str]) -> list[Person]:
        """``count`` different people none of whom is in ``avoid`` (names already used in the request)."""
        pool = [p for p in self.people if p.name not in avoid]
        chosen = rng.sample(pool, count)
        avoid.update(p.name for p in chosen)
        return chosen


def _entry(raw: Any, key: str) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {key: raw}


def build_lexicon(raw: dict[str, Any]) -> Lexicon:
    """The lexicon section of a grammar file (already checked against the schema) as typed entries."""
    people = [Person(**_entry(p, "name")) for p in raw["people"]]
    transport = [
        Transport(code, tuple(words["adjectives"]), tuple(words["adverbs"])) for code, words in raw["transport"].items()
    ]
    priorities = {int(k): (tuple(v["phrases"]), tuple(v["adjectives"])) for k, v in raw["priorities"].items()}
    messages = [Message(m, True) for m in raw["statements"]] + [Message(m, False) for m in raw["lines"]]
    return Lexicon(
        people=people,
        addresses=[Person(a, literal=True) for a in raw["addresses"]],
        phones=[Person(p, literal=True) for p in raw["phones"]],
        places=[Place(**_entry(p, "name")) for p in raw["places"]],
        files=[File(**_entry(f, "name")) for f in raw["files"]],
        notes=[Note(**{**_entry(n, "name"), "items": tuple(_entry(n, "name").get("items", ()))}) for n in raw["notes"]],
        folders=list(raw["folders"]),
        reminder_lists=[
            ReminderList(**{**_entry(r, "name"), "items": tuple(_entry(r, "name").get("items", ()))})
            for r in raw["reminder_lists"]
        ],
        calendars=list(raw["calendars"]),
        events=[Event(**_entry(e, "title")) for e in raw["events"]],
        topics=list(raw["topics"]),
        messages=messages,
        tasks=list(raw["tasks"]),
        jottings=list(raw["jottings"]),
        transport=transport,
        priorities=priorities,
    )
