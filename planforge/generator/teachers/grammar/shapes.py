"""Shapes: what a request asks for, before any words are chosen.

A shape is one to three units (unrelated things asked in one message). A unit is one ask, possibly followed by
asks to the same people ("email Sid the slides and invite him to the review"), or a producer (a file, a summary,
a note's content, a map link, directions, a zoom link, someone's address or number) and the asks that use its
output, possibly followed by an ask to the same people that does not. Each ask says how many people it looks
up, how many it writes literally (an address, a number), its cc and its attachments, so a shape fixes its
plan's structure; the words, names, times and places are drawn when the request is written.

:func:`enumerate_shapes` lists the shapes up to a number of steps and of distinct functions, which the teacher
offers to the sampler: every unit, pairs of units of any two kinds, and triples of small ones."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from itertools import combinations_with_replacement

PRODUCERS = ("file", "summary", "read_note", "place", "route", "zoom", "address", "number")
# what each producer's output can become in each consumer (the README's conventions)
USES = {
    "file": ("email", "reply", "forward"),  # an attachment
    "summary": ("email", "text", "reply", "forward", "note", "append"),
    "read_note": ("email", "text", "reply", "forward"),
    "place": ("text", "email", "reply", "event", "note", "append"),  # a map link (in an event: its notes)
    "route": ("text", "email", "reply", "event", "note", "append"),
    "zoom": ("event", "email", "text"),  # the link: an event's location, an email's context, a text's message
    "address": ("text", "email"),  # someone's email address, sent on
    "number": ("text", "email"),  # someone's phone number, sent on
}
_FUNCTION = {
    "file": "open_and_get_file_path",
    "read_note": "open_note",
    "place": "maps_open_location",
    "route": "maps_show_directions",
    "zoom": "get_zoom_meeting_link",
    "address": "get_email_address",
    "number": "get_phone_number",
    "email": "compose_new_email",
    "text": "send_sms",
    "event": "create_calendar_event",
    "reminder": "create_reminder",
    "note": "create_note",
    "append": "append_note_content",
    "reply": "reply_to_email",
    "forward": "forward_email",
}
_ATTACH = ("email", "reply", "forward")
# Triples of a unit and two side asks are many alike: each unit (but a side ask) gets those with the most
# common side asks
TRIPLES_PER_UNIT = 10


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

    @cached_property
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

    @cached_property
    def label(self) -> str:
        marked = [c.label if c.uses or self.producer is None else f"~{c.label}" for c in self.consumers]
        inner = "&".join(marked)
        if self.producer is None:
            return inner
        return f"{self.producer.label}>{inner}" if inner else self.producer.label


@dataclass(frozen=True)
class ShapeSpec:
    units: tuple[Unit, ...]

    @cached_property
    def id(self) -> str:
        return " + ".join(u.label for u in self.units)


def lookup_function(act: str) -> str | None:
    """How the people of an ask are looked up (None: an ask without recipients)."""
    if act == "text":
        return "get_phone_number"
    return "get_email_address" if act in ("email", "event", "zoom", "forward") else None


def _lookups(unit: Unit) -> list[int]:
    """People each ask of a unit looks up: those it shares with the asks before it (``same``) are looked up
    again only by another lookup function (a person emailed and texted gets one lookup of each kind)."""
    counts, kinds = [], set()
    for ask in unit.asks:
        if not ask.same:
            kinds = set()
        kind = lookup_function(ask.act)
        counts.append((0 if ask.same and kind in kinds else ask.people) + ask.cc)
        kinds.add(kind)
    return counts


def unit_steps(unit: Unit) -> int:
    steps = 0
    for ask, lookups in zip(unit.asks, _lookups(unit), strict=True):
        base = {"summary": 2}.get(ask.act, 1)
        sends = ask.people + ask.literal if ask.separately else 1
        steps += lookups + ask.files + (sends if ask.act == "text" else base)
    return steps


def _functions(unit: Unit) -> set[str]:
    out: set[str] = set()
    for ask in unit.asks:
        out |= {"open_and_get_file_path", "summarize_pdf"} if ask.act == "summary" else {_FUNCTION[ask.act]}
        if ask.files:
            out.add("open_and_get_file_path")
        if ask.people:
            out.add(lookup_function(ask.act) or "get_email_address")
        if ask.cc:
            out.add("get_email_address")
    return out


def shape_functions(spec: ShapeSpec) -> frozenset[str]:
    return frozenset().union(*(_functions(u) for u in spec.units))


def _same(before: Ask, act: str, **fields) -> Ask:
    """An ask to the people of ``before``: addresses stay when both asks email, numbers never become
    addresses (a written address cannot be texted)."""
    literal = before.literal if lookup_function(act) == lookup_function(before.act) else 0
    return Ask(act, people=before.people, literal=literal, same=True, **fields)


_CROWD = {0: 1.0, 1: 1.0, 2: 0.8, 3: 0.5, 4: 0.3, 5: 0.2}  # by recipients of one ask
# how often each kind of ask is asked alone, and each producer's output put to each use
_ALONE = {"email": 1.0, "text": 1.0, "event": 1.0, "reminder": 1.0, "summary": 0.7, "route": 0.7, "file": 0.6,
          "note": 0.6, "place": 0.5, "append": 0.5, "forward": 0.4, "reply": 0.4, "read_note": 0.4}  # fmt: skip
_USE = {
    "zoom": {"event": 1.0, "email": 0.9, "text": 0.6},
    "summary": {"email": 1.0, "text": 0.6, "note": 0.6, "append": 0.5, "reply": 0.4, "forward": 0.3},
    "file": {"email": 1.0, "reply": 0.4, "forward": 0.4},
    "route": {"text": 0.8, "email": 0.6, "event": 0.5, "note": 0.3, "append": 0.3, "reply": 0.3},
    "place": {"text": 0.7, "email": 0.5, "event": 0.5, "note": 0.3, "append": 0.3, "reply": 0.3},
    "read_note": {"email": 0.5, "text": 0.5, "reply": 0.3, "forward": 0.3},
    "address": {"text": 0.3, "email": 0.25},
    "number": {"text": 0.3, "email": 0.25},
}


# how often each kind of ask is the extra one next to another ("... and remind me to call the bank")
_EXTRA = {"reminder": 1.0, "event": 0.7, "text": 0.7, "route": 0.7, "email": 0.6, "file": 0.5, "summary": 0.5,
          "zoom": 0.5, "place": 0.5, "note": 0.4, "append": 0.4, "read_note": 0.3}  # fmt: skip


def shape_weight(spec: ShapeSpec) -> float:
    """How often people ask a shape, relative to others of its plan length: the less common kinds of asks and
    uses, and every further use of one output, ask to the same people, recipient, cc, written address or
    attachment make it rarer; an ask next to the main one is also weighed as an extra, a reminder the most common.
    Most requests people write are simple, and pairs of elaborate units outnumber pairs of simple ones, so
    without this they would crowd them out."""
    weight = 1.0
    main = max(range(len(spec.units)), key=lambda i: unit_steps(spec.units[i]))
    for position, unit in enumerate(spec.units):
        if position != main:
            weight *= _EXTRA.get(unit.asks[0].act, 0.2)
        if unit.producer is None:
            weight *= _ALONE[unit.consumers[0].act] * 0.8 ** (len(unit.consumers) - 1)
        else:
            uses = [c for c in unit.consumers if c.uses]
            weight *= _ALONE.get(unit.producer.act, 1.0) if not uses else 1.0
            for i, use in enumerate(uses):
                weight *= _USE[unit.producer.act][use.act] * (1 if i == 0 or unit.producer.act == "zoom" else 0.8)
            weight *= 0.8 ** (len(unit.consumers) - len(uses))
        for ask in unit.asks:
            if not ask.same:  # a written number is rarer still than a written address
                weight *= _CROWD.get(ask.people + ask.literal, 0.2) * (0.4 if ask.act == "text" else 0.6) ** ask.literal
            weight *= 0.5**ask.cc * 0.7**ask.files * (0.9 if ask.source else 1) * (0.6 if ask.separately else 1)
    return weight**2  # squared: the factors are mild judgements, and the draw needs their differences marked


# ---- units ---------------------------------------------------------------------------------------------


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
    events = [Ask("event", people=p) for p in (0, 1, 2, 3, 4, 5)]
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


def _to_the_same_people() -> list[Unit]:
    """Two asks to the same people: "email Sid the deck and invite him to the review", "text Mom that I
    landed and email her the photos"."""
    leads = [Ask("email", people=p) for p in (1, 2, 3)] + [Ask("email", people=p, files=1) for p in (1, 2)]
    leads += [Ask("text", people=p) for p in (1, 2)] + [Ask("event", people=p) for p in (1, 2, 3)]
    units = []
    for lead in leads:
        for act in ("email", "text", "event"):
            if act == lead.act:
                continue
            units.append(Unit(None, (lead, _same(lead, act))))
            if act == "email":
                units.append(Unit(None, (lead, _same(lead, act, files=1))))
    return units


def _consumers(producer: str) -> list[Ask]:
    """The asks that can take a producer's output, with their people variants."""
    options = {
        "email": [Ask("email", people=p, cc=c, uses=True) for p in (1, 2, 3) for c in (0, 1, 2) if p + c <= 3]
        + [Ask("email", literal=1, uses=True)]
        + [Ask("email", people=p, files=1, uses=True) for p in (1, 2)],
        "text": [Ask("text", people=p, uses=True) for p in (1, 2, 3)] + [Ask("text", literal=1, uses=True)],
        "reply": [Ask("reply", cc=c, uses=True) for c in (0, 1)],
        "forward": [Ask("forward", people=p, cc=c, uses=True) for p in (1, 2) for c in (0, 1)],
        "event": [Ask("event", people=p, uses=True) for p in (0, 1, 2, 3)],
        "note": [Ask("note", uses=True)],
        "append": [Ask("append", uses=True)],
    }
    found = [a for act in USES[producer] for a in options[act]]
    if producer == "summary":  # the summarized file attached too (alone: with another, which one is summarized?)
        found += [replace(a, source=True) for a in found if a.act in _ATTACH and not a.files]
    if producer == "file":  # the file is the attachment: another one would be a second file ask
        found = [a for a in found if a.act in _ATTACH and not a.files]
    if producer in ("address", "number"):  # someone's details go to one or two people
        found = [a for a in found if a.people + a.literal <= 2 and not a.cc and not a.files and not a.literal]
    if producer in ("place", "route", "read_note"):
        found = [a for a in found if not (a.act == "text" and a.literal)]
    return found


def _followed(unit: Unit) -> list[Unit]:
    """The unit, and the unit followed by an ask to the people of its last ask that does not use the output
    ("email Sid the summary and invite him to the review on Friday")."""
    last = unit.consumers[-1]
    if not last.people or last.act not in ("email", "text", "event"):
        return [unit]
    follows = [_same(last, act) for act in ("email", "text", "event") if act != last.act]
    return [unit] + [Unit(unit.producer, (*unit.consumers, f)) for f in follows]


def _producer_units() -> list[Unit]:
    units = []
    for producer in PRODUCERS:
        if producer == "zoom":
            continue
        for consumer in _consumers(producer):
            unit = Unit(Ask(producer), (consumer,))
            plain = consumer.people + consumer.literal <= 2 and not consumer.cc and not consumer.files
            units += _followed(unit) if plain and producer not in ("address", "number") else [unit]
    return units


def _zoom_units() -> list[Unit]:
    """A zoom link for its invitees: on the calendar, emailed to them (with cc or an attachment), texted to
    them or to someone else, or several of these."""
    units = []
    for people, literal in ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (1, 1)):
        zoom = Ask("zoom", people=people, literal=literal)
        event = _same(zoom, "event", uses=True)
        emails = [_same(zoom, "email", uses=True, cc=c, files=f) for c in (0, 1) for f in (0, 1)]
        emails = emails if people + literal else []
        text_them = [_same(zoom, "text", uses=True)] if people and not literal else []
        text_other = Ask("text", people=1, uses=True)
        sets = [(event,), (event, text_other)] + [(event, t) for t in text_them]
        for email in emails:
            sets += [(email,), (event, email), (email, text_other), (event, email, text_other)]
            sets += [(event, email, t) for t in text_them if not (email.cc or email.files)]
        units += [Unit(zoom, consumers) for consumers in sets]
    return units


def _two_consumers() -> list[Unit]:
    """One output used twice: texted to two people apart, texted and put in an event, emailed with the file and
    saved to a note..."""
    units = []
    for producer in ("summary", "read_note", "place", "route"):
        found = _consumers(producer)
        single = [a for a in found if a.people + a.literal <= 1 and not a.cc and not a.source and not a.files]
        single += [a for a in found if a.act in ("text", "email") and a.people == 2 and not a.cc and not a.files]
        single += [a for a in found if a.source and a.people <= 2 and not a.cc]
        for first, second in combinations_with_replacement(single, 2):
            if first.source and second.source:
                continue
            if second.source:  # the email with the file and its summary is said first
                first, second = second, first
            if first == second and first.act not in ("text", "email"):
                continue
            if first.act == second.act and (first.literal and second.literal or first.source or second.source):
                continue
            if first.people + second.people > 3:
                continue
            units.append(Unit(Ask(producer), (first, second)))
            if {first.act, second.act} == {"event", "text"} and first.people and second.people:
                ordered = (first, second) if first.act == "event" else (second, first)
                units.append(Unit(Ask(producer), (ordered[0], _same(ordered[0], "text", uses=True))))
    return units


def all_units() -> list[Unit]:
    return _alone() + _to_the_same_people() + _producer_units() + _zoom_units() + _two_consumers()


# ---- shapes ----------------------------------------------------------------------------------------------


def enumerate_shapes(max_functions: int, max_steps: int = 8) -> list[ShapeSpec]:
    """Every unit of at most ``max_steps`` steps and ``max_functions`` distinct functions; pairs of a unit and a
    side ask (one short ask: a reminder, a text, opening a file...) or of two simple units (one ask or one use of
    a producer, four steps at most); a fixed few triples of each unit and two side asks. Within the same limits,
    and with at most five people (three in a triple)."""
    units = [_Info(u) for u in all_units()]
    units = [u for u in units if u.steps <= max_steps and len(u.functions) <= max_functions]
    specs = [ShapeSpec((u.unit,)) for u in units]
    sides = [u for u in units if u.side]
    simple = [u for u in units if u.simple and u.steps <= 4]
    pairs = {}
    for group in ((a, b) for a in units for b in sides), combinations_with_replacement(simple, 2):
        for a, b in group:
            if a.unit.label > b.unit.label:
                a, b = b, a
            if (a.unit, b.unit) in pairs or a.steps + b.steps > max_steps or a.people + b.people > 5:
                continue
            if len(a.functions | b.functions) <= max_functions and _can_pair(a.unit, b.unit):
                pairs[a.unit, b.unit] = ShapeSpec((a.unit, b.unit))
    specs += pairs.values()
    tiny = [u for u in sides if u.tiny]
    # the most common pairs of side asks first (by weight, then label)
    tiny_pairs = [(b, c) for i, b in enumerate(tiny) for c in tiny[i:] if _can_pair(b.unit, c.unit)]
    tiny_pairs.sort(key=lambda p: (-p[0].weight * p[1].weight, p[0].unit.label, p[1].unit.label))
    listed = set()
    for big in units:
        kept = 0
        for b, c in tiny_pairs:
            if kept == TRIPLES_PER_UNIT and not big.tiny:
                break
            if big.steps + b.steps + c.steps > max_steps or big.people + b.people + c.people > 3:
                continue
            if len(big.functions | b.functions | c.functions) <= max_functions and (
                _can_pair(big.unit, b.unit) and _can_pair(big.unit, c.unit)
            ):
                labels = tuple(sorted((big.unit.label, b.unit.label, c.unit.label)))
                if labels not in listed:  # three side asks come up from each of them
                    listed.add(labels)
                    specs.append(ShapeSpec((big.unit, b.unit, c.unit)))
                    kept += 1
    return specs


class _Info:
    """A unit with what pairing it needs, computed once."""

    def __init__(self, unit: Unit):
        self.unit = unit
        self.steps = unit_steps(unit)
        self.functions = frozenset(_functions(unit))
        self.people = _people(unit)
        self.weight = shape_weight(ShapeSpec((unit,)))
        self.simple = len(unit.consumers) <= 1 and self.people <= 2 and not any(a.cc for a in unit.asks)
        self.simple = self.simple and not _texts_numbers(unit)
        ask = unit.asks[0]
        self.side = len(unit.asks) == 1 and self.steps <= 2 and not (ask.cc or ask.literal > 1 or _texts_numbers(unit))
        self.tiny = self.side and ask.act not in ("forward",) and not ask.literal and not ask.files


def _can_pair(a: Unit, b: Unit) -> bool:
    if _act(a) == _act(b) and _act(a) in ("reply", "forward"):
        return False  # one selected email: replying to it twice is not two asks
    if a == b and a.consumers and a.producer is not None:
        return False  # "open X and email it to A, and open Y and email it to B" is two requests
    if _texts_numbers(a) or _texts_numbers(b):
        return False  # a text to a written number is rare: it is asked alone
    return not (a == b and a.producer is None and a.consumers[0].act in ("email", "text", "event") and _people(a))


def _texts_numbers(unit: Unit) -> bool:
    """A text to a written number: rare in requests, so it stands alone or with one looked-up person only."""
    return any(a.act == "text" and a.literal for a in unit.asks)


def _people(unit: Unit) -> int:
    owner = unit.producer is not None and unit.producer.act in ("address", "number")
    return sum(a.people + a.cc for a in unit.asks if not a.same) + owner


def _act(unit: Unit) -> str:
    return unit.consumers[0].act if unit.consumers else (unit.producer.act if unit.producer else "")
