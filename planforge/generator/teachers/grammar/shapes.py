"""Shapes: what a request asks for, before any words are chosen.

A shape is one or two units (two unrelated things asked in one message). A unit is either one ask, or a
producer (a file, a summary, a note's content, a map link, directions, a zoom link) and the one or two asks
that use its output. Each ask says how many people it looks up, how many it writes literally (an address, a
number), its cc and its attachments, so a shape fixes its plan's structure; the words, names, times and
places are drawn when the request is written.

:func:`enumerate_shapes` lists every shape up to a number of steps and of distinct functions, which the teacher
offers to the sampler."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

PRODUCERS = ("file", "summary", "read_note", "place", "route", "zoom")
# what each producer's output can become in each consumer (the README's conventions)
USES = {
    "file": ("email", "reply", "forward"),  # an attachment
    "summary": ("email", "text", "reply", "forward", "note", "append"),
    "read_note": ("email", "text", "reply", "forward"),
    "place": ("text", "email", "reply", "event", "note", "append"),  # a map link (in an event: its notes)
    "route": ("text", "email", "reply", "event", "note", "append"),
    "zoom": ("event", "email"),  # the link: an event's location or an email's context
}


@dataclass(frozen=True)
class Ask:
    act: str
    people: int = 0  # people looked up (recipients, invitees)
    literal: int = 0  # recipients written as addresses or numbers
    cc: int = 0
    files: int = 0  # attachments opened for this ask alone
    uses: bool = False  # takes the output of its unit's producer
    source: bool = False  # also attaches the file its unit's producer summarized
    separately: bool = False  # one text per recipient
    same: bool = False  # the same people as the ask before it in the unit (a zoom's invitees, "text him too")

    @property
    def label(self) -> str:
        flags = [
            f"p{self.people}" if self.people else "",
            f"l{self.literal}" if self.literal else "",
            f"c{self.cc}" if self.cc else "",
            f"f{self.files}" if self.files else "",
            "src" if self.source else "",
            "sep" if self.separately else "",
            "same" if self.same else "",
        ]
        inner = ",".join(f for f in flags if f)
        return f"{self.act}({inner})" if inner else self.act


@dataclass(frozen=True)
class Unit:
    producer: Ask | None
    consumers: tuple[Ask, ...]

    @property
    def asks(self) -> tuple[Ask, ...]:
        return ((self.producer,) if self.producer else ()) + self.consumers

    @property
    def label(self) -> str:
        inner = "&".join(c.label for c in self.consumers)
        if self.producer is None:
            return inner
        return f"{self.producer.label}>{inner}" if inner else self.producer.label


@dataclass(frozen=True)
class ShapeSpec:
    units: tuple[Unit, ...]

    @property
    def id(self) -> str:
        return " + ".join(u.label for u in self.units)


def _steps(ask: Ask) -> int:
    """Steps an ask adds (lookups it shares with the ask before it not counted)."""
    lookups = 0 if ask.same else ask.people + ask.cc
    base = {"summary": 2}.get(ask.act, 1)
    sends = ask.people + ask.literal if ask.separately else 1
    return lookups + ask.files + (sends if ask.act == "text" else base)


def unit_steps(unit: Unit) -> int:
    return sum(_steps(a) for a in unit.asks)


def _functions(unit: Unit) -> set[str]:
    names = {
        "file": {"open_and_get_file_path"},
        "summary": {"open_and_get_file_path", "summarize_pdf"},
        "read_note": {"open_note"},
        "place": {"maps_open_location"},
        "route": {"maps_show_directions"},
        "zoom": {"get_zoom_meeting_link"},
        "email": {"compose_new_email"},
        "text": {"send_sms"},
        "event": {"create_calendar_event"},
        "reminder": {"create_reminder"},
        "note": {"create_note"},
        "append": {"append_note_content"},
        "reply": {"reply_to_email"},
        "forward": {"forward_email"},
    }
    out: set[str] = set()
    for ask in unit.asks:
        out |= names[ask.act]
        if ask.files:
            out.add("open_and_get_file_path")
        if (ask.people and not ask.same) or ask.cc or (ask.same and ask.act == "text"):
            out.add("get_phone_number" if ask.act == "text" else "get_email_address")
    return out


def shape_functions(spec: ShapeSpec) -> frozenset[str]:
    return frozenset().union(*(_functions(u) for u in spec.units))


def _alone() -> list[Unit]:
    """Asks that stand alone: producers whose output the user just wants to see, and asks with their content
    given in the request."""
    units = [Unit(Ask(p), ()) for p in ("file", "summary", "read_note", "place", "route")]
    emails = [
        Ask("email", people=p, literal=lit, cc=c, files=f)
        for p, lit in ((1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (0, 2), (1, 1))
        for c in (0, 1, 2)
        for f in (0, 1, 2)
    ]
    texts = [Ask("text", people=p, literal=lit) for p, lit in ((1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (1, 1))]
    texts += [Ask("text", people=p, separately=True) for p in (2, 3)]
    events = [Ask("event", people=p) for p in (0, 1, 2, 3, 4)]
    singles = [Ask(a) for a in ("reminder", "note", "append")]
    replies = [Ask("reply", cc=c, files=f) for c in (0, 1, 2) for f in (0, 1, 2) if c + f <= 3]
    forwards = [
        Ask("forward", people=p, literal=lit, cc=c, files=f)
        for p, lit in ((1, 0), (2, 0), (3, 0), (0, 1))
        for c in (0, 1, 2)
        for f in (0, 1)
    ]
    units += [Unit(None, (a,)) for a in emails + texts + events + singles + replies + forwards]
    return units


def _consumers(producer: str) -> list[Ask]:
    """The asks that can take a producer's output, with their people variants."""
    options = {
        "email": [Ask("email", people=p, cc=c, uses=True) for p in (1, 2, 3) for c in (0, 1)]
        + [Ask("email", literal=1, uses=True)],
        "text": [Ask("text", people=p, uses=True) for p in (1, 2, 3)],
        "reply": [Ask("reply", cc=c, uses=True) for c in (0, 1)],
        "forward": [Ask("forward", people=p, cc=c, uses=True) for p in (1, 2) for c in (0, 1)],
        "event": [Ask("event", people=p, uses=True) for p in (0, 1, 2)],
        "note": [Ask("note", uses=True)],
        "append": [Ask("append", uses=True)],
    }
    found = [a for act in USES[producer] for a in options[act]]
    if producer == "summary":  # the summarized file attached too
        found += [Ask(a.act, a.people, a.literal, a.cc, uses=True, source=True) for a in found if a.act in _ATTACH]
    if producer == "file":
        found = [a for a in found if a.act in _ATTACH]
    return found


_ATTACH = ("email", "reply", "forward")


def _zoom_units() -> list[Unit]:
    units = []
    for people in (0, 1, 2, 3):
        zoom = Ask("zoom", people=people)
        units.append(Unit(zoom, (Ask("event", uses=True, same=True, people=people),)))
        if people:
            email = Ask("email", people=people, uses=True, same=True)
            units.append(Unit(zoom, (email,)))
            units.append(Unit(zoom, (Ask("event", uses=True, same=True, people=people), email)))
    return units


def _two_consumers() -> list[Unit]:
    """One output used twice: texted to two people apart, texted and put in an event, emailed twice..."""
    units = []
    for producer in ("summary", "read_note", "place", "route"):
        single = [a for a in _consumers(producer) if (a.people + a.literal) <= 1 and not a.cc and not a.source]
        for first, second in combinations_with_replacement(single, 2):
            if first == second and first.act not in ("text", "email"):
                continue
            if first.act == second.act and first.literal and second.literal:
                continue
            units.append(Unit(Ask(producer), (first, second)))
            if {first.act, second.act} == {"event", "text"} and first.people and second.people:
                ordered = (first, second) if first.act == "event" else (second, first)
                units.append(Unit(Ask(producer), (ordered[0], Ask("text", people=1, uses=True, same=True))))
    return units


def enumerate_shapes(max_functions: int, max_steps: int = 8, pair_max_steps: int = 4) -> list[ShapeSpec]:
    """Every shape of at most ``max_steps`` steps and ``max_functions`` distinct functions; two unrelated units
    are paired only when each has at most ``pair_max_steps`` steps and at most two people."""
    units = _alone() + _zoom_units() + _two_consumers()
    units += [Unit(Ask(p), (c,)) for p in PRODUCERS if p != "zoom" for c in _consumers(p)]
    units = [u for u in units if unit_steps(u) <= max_steps and len(_functions(u)) <= max_functions]
    specs = [ShapeSpec((u,)) for u in units]
    small = [
        u
        for u in units
        if unit_steps(u) <= pair_max_steps and _people(u) <= 2 and len(u.consumers) <= 1 and not _texts_numbers(u)
    ]
    for i, a in enumerate(small):
        for b in small[i:]:
            if _act(a) == _act(b) and _act(a) in ("reply", "forward"):
                continue  # one selected email: replying to it twice is not two asks
            if a == b and a.producer is not None:
                continue  # "open X and email it to A, and open Y and email it to B" is two requests
            spec = ShapeSpec((a, b))
            if unit_steps(a) + unit_steps(b) <= max_steps and len(shape_functions(spec)) <= max_functions:
                specs.append(spec)
    return specs


def _texts_numbers(unit: Unit) -> bool:
    """A text to a written number: rare in requests, so it stands alone or with one looked-up person only."""
    return any(a.act == "text" and a.literal for a in unit.asks)


def _people(unit: Unit) -> int:
    return sum(a.people + a.cc for a in unit.asks if not a.same)


def _act(unit: Unit) -> str:
    return unit.consumers[0].act if unit.consumers else (unit.producer.act if unit.producer else "")
