"""Frames: one ask's content (who, what, when, where) drawn from the lexicon, and the plan it makes.

The content is drawn before any words: the plan is built from it by the recipe's conventions (README), then the
words are chosen to say exactly that content. Nothing here depends on wording."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from planforge.generator.dates import iso
from planforge.generator.teachers.grammar.lexicon import (
    Event,
    File,
    Lexicon,
    Message,
    Note,
    Person,
    Place,
    ReminderList,
    Transport,
)
from planforge.generator.teachers.grammar.shapes import Ask, ShapeSpec, Unit, lookup_function
from planforge.generator.teachers.grammar.when import Length, Moment, draw_length, draw_moment
from planforge.plan import format_value


@dataclass
class Frame:
    ask: Ask
    people: list[Person] = field(default_factory=list)  # recipients or invitees, literal ones included
    cc: list[Person] = field(default_factory=list)
    files: list[File] = field(default_factory=list)  # attachments opened for this ask
    topic: str | None = None
    message: Message | None = None  # a text's message, or wording dictated for a reply or a forward
    moment: Moment | None = None
    length: Length | None = None
    place: Place | None = None
    origin: Place | None = None
    transport: Transport | None = None
    mode_said: bool = False  # driving is the default: a route may leave it unsaid
    event: Event | None = None
    calendar: str | None = None
    task: str | None = None
    task_is_item: bool = False  # a noun phrase for a list ("oat milk"), not a verb phrase
    reminder_list: ReminderList | None = None
    priority: int = 0
    note: Note | None = None
    folder: str | None = None
    content: str | None = None
    content_is_thing: bool = False  # a noun phrase the note lists, not free text
    file: File | None = None  # the document a producer opens or summarizes
    owner: Person | None = None  # whose email address or phone number a producer looks up to send on


def draw_frames(spec: ShapeSpec, lexicon: Lexicon, rng: random.Random, now: datetime) -> list[list[Frame]]:
    used: set[str] = set()
    frames = []
    for unit in spec.units:
        unit_frames: list[Frame] = []
        for ask in unit.asks:
            before = unit_frames[-1] if unit_frames else None
            unit_frames.append(_draw(ask, unit, before, lexicon, rng, now, used))
        frames.append(unit_frames)
    return frames


def _draw(
    ask: Ask, unit: Unit, before: Frame | None, lex: Lexicon, rng: random.Random, now: datetime, used: set[str]
) -> Frame:
    frame = Frame(ask)
    act = ask.act
    # the producer whose output this ask takes (an ask to the same people that does not use it has none)
    producer = unit.producer.act if unit.producer and ask.uses else None
    if ask.same and before is not None:
        same_kind = lookup_function(act) == lookup_function(before.ask.act)
        frame.people = [p for p in before.people if same_kind or not p.literal]
    else:
        # "my roommate" last: "Sid, my roommate and Maya" could be two people
        frame.people = sorted(lex.people_sample(rng, ask.people, used), key=lambda p: p.name.startswith("my "))
    if ask.literal and not ask.same:
        pool = lex.phones if act == "text" else lex.addresses
        frame.people += [p for p in rng.sample(pool, ask.literal)]
        if rng.random() < 0.5:
            rng.shuffle(frame.people)
    frame.cc = lex.people_sample(rng, ask.cc, used)
    frame.files = _files(lex.files, ask.files, rng, used)
    if act in ("address", "number"):
        frame.owner = lex.people_sample(rng, 1, used)[0]
    if act in ("file", "summary"):
        frame.file = _files(lex.summaries if act == "summary" else lex.files, 1, rng, used)[0]
    if act == "email":
        chance = 0.25 if (ask.uses or ask.files) else 0.9
        frame.topic = rng.choice(lex.topics) if rng.random() < chance or not (ask.uses or ask.files) else None
    elif act == "text" and not ask.uses:
        frame.message = rng.choice(lex.messages)
    elif act in ("reply", "forward") and (rng.random() < 0.45 or (act == "reply" and not _has_content(ask))):
        frame.message = rng.choice([m for m in lex.messages if m.clause])
    if act in ("event", "zoom") and not (act == "event" and producer == "zoom"):
        frame.event = rng.choice(lex.meetings if act == "zoom" else lex.events)
        ranged = act == "event" and rng.random() < 0.3
        frame.moment = draw_moment(now, rng, ranged=ranged)
        if not ranged and rng.random() < (0.4 if act == "zoom" else 0.25):
            frame.length = draw_length(rng)
    if act == "event":
        if producer == "zoom" or rng.random() < 0.2:
            frame.calendar = rng.choice(lex.calendars) if rng.random() < (0.25 if producer == "zoom" else 1) else None
        if producer not in ("zoom", "place", "route") and rng.random() < 0.4:
            frame.place = rng.choice([p for p in lex.places if p.name not in used])
            used.add(frame.place.name)
    if act in ("place", "route"):
        frame.place = rng.choice([p for p in lex.places if p.name not in used])
        used.add(frame.place.name)
    if act == "route":
        if rng.random() < 0.2:
            frame.origin = rng.choice([p for p in lex.places if p.name not in used])
            used.add(frame.origin.name)
        frame.transport = rng.choice(lex.transport)
        frame.mode_said = frame.transport.code != "d" or rng.random() < 0.4
    if act == "reminder":
        _draw_reminder(frame, lex, rng, now)
    if act in ("note", "append", "read_note"):
        frame.note = rng.choice(lex.notes)
        if rng.random() < (0.15 if act == "read_note" else 0.2):
            frame.folder = rng.choice(lex.folders)
        if act != "read_note" and not ask.uses:
            if frame.note.items and rng.random() < 0.6:
                frame.content, frame.content_is_thing = rng.choice(frame.note.items), True
            else:
                frame.content = rng.choice(lex.jottings)
    return frame


def _has_content(ask: Ask) -> bool:
    return bool(ask.cc or ask.files or ask.uses)


def _files(pool: list[File], count: int, rng: random.Random, used: set[str]) -> list[File]:
    chosen = rng.sample([f for f in pool if f.name not in used], count)
    used.update(f.name for f in chosen)
    return chosen


def _draw_reminder(frame: Frame, lex: Lexicon, rng: random.Random, now: datetime) -> None:
    stocked = [r for r in lex.reminder_lists if r.items]
    if rng.random() < 0.25:
        frame.reminder_list = rng.choice(stocked)
        frame.task, frame.task_is_item = rng.choice(frame.reminder_list.items), True
    else:
        frame.task = rng.choice(lex.tasks)
        if rng.random() < 0.2:
            frame.reminder_list = rng.choice([r for r in lex.reminder_lists if not r.items])
    roll = rng.random()
    if roll < 0.1 or (frame.task_is_item and roll < 0.6):
        frame.moment = None
    else:
        frame.moment = draw_moment(now, rng, dated=rng.random() < 0.35, deadline=True)
    if rng.random() < 0.12:
        frame.priority = rng.choice([1, 1, 5, 9])


class PlanBuilder:
    """Numbered calls as LLMCompiler lines; a person is looked up once per lookup function."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.literals: list[str] = []  # every text argument that is not "$K": what the request must say intact
        self._lookups: dict[tuple[str, str], str] = {}

    def call(self, name: str, *args: Any) -> str:
        self.lines.append(f"{name}({', '.join(format_value(a) for a in args)})")
        for arg in args:
            for item in arg if isinstance(arg, list) else [arg]:
                if isinstance(item, str) and item and not item.startswith("$"):
                    self.literals.append(item)
        return f"${len(self.lines)}"

    def contact(self, person: Person, function: str) -> str:
        if person.literal:
            return person.name
        key = (function, person.name)
        if key not in self._lookups:
            self._lookups[key] = self.call(function, person.name)
        return self._lookups[key]

    def text(self) -> str:
        numbered = [f"{i}. {line}" for i, line in enumerate(self.lines, start=1)]
        return "\n".join([*numbered, f"{len(self.lines) + 1}. join()"])


def build_plan(spec: ShapeSpec, frames: list[list[Frame]]) -> tuple[str, list[str]]:
    """The plan's LLMCompiler text and its text literals."""
    plan = PlanBuilder()
    for unit, unit_frames in zip(spec.units, frames, strict=True):
        _build_unit(unit, unit_frames, plan)
    return plan.text(), plan.literals


def _end(frame: Frame) -> datetime:
    assert frame.moment is not None
    if frame.moment.end is not None:
        return frame.moment.end
    start = frame.moment.start
    assert isinstance(start, datetime)
    return start + timedelta(minutes=frame.length.minutes if frame.length else 60)


def _build_unit(unit: Unit, frames: list[Frame], plan: PlanBuilder) -> None:
    output, source, made = "", "", None
    producer = frames[0] if unit.producer else None
    if producer is not None:
        made = producer.ask.act
        if made == "file":
            output = plan.call("open_and_get_file_path", producer.file.name)
        elif made == "summary":
            source = plan.call("open_and_get_file_path", producer.file.name)
            output = plan.call("summarize_pdf", source)
        elif made == "read_note":
            output = plan.call("open_note", producer.note.name, producer.folder or "")
        elif made == "place":
            output = plan.call("maps_open_location", producer.place.name)
        elif made == "route":
            origin = producer.origin.name if producer.origin else ""
            output = plan.call("maps_show_directions", origin, producer.place.name, producer.transport.code)
        elif made in ("address", "number"):
            output = plan.contact(producer.owner, "get_email_address" if made == "address" else "get_phone_number")
        elif made == "zoom":
            invitees = [plan.contact(p, "get_email_address") for p in producer.people]
            minutes = producer.length.minutes if producer.length else 60
            start = producer.moment.start_iso
            output = plan.call("get_zoom_meeting_link", producer.event.title, start, minutes, invitees)
    for frame in frames[1:] if producer is not None else frames:
        _build_consumer(frame, plan, output if frame.ask.uses else "", made, source, producer)


def _build_consumer(frame: Frame, plan: PlanBuilder, output: str, made: str | None, source: str, producer) -> None:
    act = frame.ask.act
    email = "get_email_address"
    if act in ("email", "forward", "reply"):
        recipients = [plan.contact(p, email) for p in frame.people]
        cc = [plan.contact(p, email) for p in frame.cc]
        attachments = [plan.call("open_and_get_file_path", f.name) for f in frame.files]
        context = output if output and made != "file" else ""
        if made == "file" and output:
            attachments.append(output)
        if frame.ask.source:
            attachments.append(source)
        if act == "email":
            plan.call("compose_new_email", recipients, cc, frame.topic or "", context, attachments)
        elif act == "forward":
            plan.call("forward_email", recipients, cc, context, attachments)
        else:
            plan.call("reply_to_email", cc, context, attachments)
    elif act == "text":
        numbers = [plan.contact(p, "get_phone_number") for p in frame.people]
        message = output or frame.message.text
        if frame.ask.separately:
            for number in numbers:
                plan.call("send_sms", [number], message)
        else:
            plan.call("send_sms", numbers, message)
    elif act == "event":
        invitees = [plan.contact(p, email) for p in frame.people]
        if made == "zoom" and output:
            start, end = producer.moment.start, _end(producer)
            title, location, notes = producer.event.title, output, ""
        else:
            start, end = frame.moment.start, _end(frame)
            title, notes = frame.event.title, output
            place = producer.place if made in ("place", "route") and output else frame.place
            location = place.name if place else ""
        plan.call("create_calendar_event", title, iso(start), iso(end), location, invitees, notes, frame.calendar)
    elif act == "reminder":
        due = frame.moment.start_iso if frame.moment else ""
        all_day = bool(frame.moment and frame.moment.all_day)
        list_name = frame.reminder_list.name if frame.reminder_list else ""
        plan.call("create_reminder", frame.task, due, "", list_name, frame.priority, all_day)
    elif act in ("note", "append"):
        name = "create_note" if act == "note" else "append_note_content"
        plan.call(name, frame.note.name, output or frame.content, frame.folder or "")
    else:
        raise ValueError(f"unknown ask {act!r}")
