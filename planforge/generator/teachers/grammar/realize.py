"""Writing a request for drawn frames: slot values, templates, clauses, sentences.

A unit (a producer and its uses, or one ask) is said one of three ways: in one clause that implies the producer
("text Mom the route to SFO": a *combo*), as a producer clause then a clause per use ("get directions to SFO and
text them to Mom"), or as a question then follow-ups ("Where's SFO? Send the link to Mom."). A lead sentence may
come first and name the ask's people or content ("Leo's recital moved to 6. Could you let Grandma know?"):
what a lead names is later referred to by pronoun, what it says (a message, a task) is not said again.

Clauses are verb phrases or whole sentences (see :mod:`.phrases`); verb phrases are joined into sentences with
connectors and framed by a mood ("can you ...?", "I need you to ..."). Words only ever fill typed slots, so
every combination is a sentence of the grammar."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from planforge.generator.teachers.grammar.frames import Frame
from planforge.generator.teachers.grammar.lexicon import Message, Person
from planforge.generator.teachers.grammar.phrases import BACK_REFERENCES, Template
from planforge.generator.teachers.grammar.shapes import ShapeSpec, Unit

# surface slot -> the semantic slot it says (several surfaces say one thing in different grammatical roles)
SEMANTIC = {
    "to": "to", "them": "to", "who": "to", "cc": "cc", "topic": "topic", "subject": "topic", "files": "files",
    "files_it": "files",
    "ref": "ref", "it": "ref", "meeting": "meeting", "statement": "message", "line": "message",
    "separately": "separately", "separate": "separately", "when": "when", "for_length": "length",
    "length_adj": "length", "length_np": "length", "place": "place", "at_place": "place", "there": "place",
    "from": "from", "mode": "mode", "by_mode": "mode", "title": "title", "title_name": "title",
    "calendar": "calendar", "task": "task", "item": "task", "list": "list", "priority": "priority",
    "priority_adj": "priority", "note": "note", "note_name": "note", "folder": "folder", "jotting": "content",
    "thing": "content", "file": "file", "file_it": "file", "owner": "owner",
}  # fmt: skip
_COMMON = {"to", "them", "cc", "files", "files_it", "ref", "it"}
# the surface slots each ask kind's templates may use
SLOTS = {
    "email": _COMMON | {"topic", "subject", "who"},
    "text": {"to", "them", "who", "statement", "line", "ref", "it", "separately", "separate"},
    "event": {"title", "title_name", "when", "for_length", "length_np", "place", "at_place", "there", "to", "them",
              "who", "calendar", "ref", "it", "meeting"},
    "zoom": {"title", "title_name", "when", "for_length", "length_adj", "length_np", "to", "them"},
    "reminder": {"task", "item", "when", "list", "priority", "priority_adj"},
    "note": {"note_name", "folder", "jotting", "thing", "ref", "it"},
    "append": {"note", "note_name", "folder", "jotting", "thing", "ref", "it"},
    "reply": _COMMON - {"to", "them"} | {"statement"},
    "forward": _COMMON | {"statement"},
    "file": {"file", "file_it"},
    "summary": {"file", "file_it"},
    "read_note": {"note", "note_name", "folder"},
    "place": {"place", "there"},
    "route": {"place", "there", "from", "mode", "by_mode"},
    "address": {"owner"},
    "number": {"owner"},
}  # fmt: skip
ENTITY_SLOTS = frozenset({"to", "cc", "files", "file", "place", "note", "owner"})  # named once, then referred to
LEAD_RATE = 0.22
CHATTER_RATE = 0.05
OPENER_RATE = 0.1
CLOSER_RATE = 0.08
MAX_CHATTY_CLAUSES = 3  # requests of more clauses get no chatter, opener or closer
BREAK_RATE = 0.3  # a new sentence instead of "and" between two verb phrases
LATER_PLAIN = 4.0  # how much likelier a mood without a head ("{vp}.") is in a request's later sentences
COMBO_RATE = 0.55
QUESTION_RATE = 0.35  # a producer said as a question when its templates have one
_FIRST_PERSON = re.compile(r"^I(?:\b|'|’)")
_REPEATED = re.compile(r"\b(\w+) \1\b", re.I)


@dataclass
class Discourse:
    """What the request has named so far, for pronouns and back-references."""

    people: list[Person] = field(default_factory=list)
    things: set[str] = field(default_factory=set)  # files, places, notes named (by their plan names)

    def named(self, people: list[Person]) -> bool:
        return bool(people) and all(p in self.people for p in people)

    def pronoun(self, people: list[Person]) -> str | None:
        """her / him / them for people already named, when no one else named could be meant."""
        if not self.named(people) or any(p.literal for p in people):
            return None
        word = people[0].object if len(people) == 1 else "them"
        others = [p for p in self.people if p not in people and (p.object == word or word == "them")]
        return None if others else word


@dataclass
class Clause:
    text: str
    sentence: bool  # a whole sentence (else a verb phrase)
    open: bool  # must end its sentence: what follows could be read as part of its message
    unit: int
    keep_case: bool  # its first word is a name or "I": never lowercased
    colon: bool = False  # a message after a colon: a "?" after it would read as part of the message
    lead: bool = False  # a lead sentence: what follows it needs no "then"


@dataclass
class Said:
    """Values for one clause: text per surface slot, what must be said, which back-references are usable."""

    values: dict[str, str]
    needed: set[str]
    hidden: set[str]  # slots with text that cannot be used here (a pronoun with nothing named before)
    entities: dict[str, list]  # semantic slot -> the named things it stands for
    # surface slot -> (frame, attribute, value): a literal written differently when that surface says it
    rewrites: dict[str, tuple[Frame, str, str]] = field(default_factory=dict)

    def merge(self, other: Said) -> Said:
        return Said(
            {**self.values, **other.values},
            self.needed | other.needed,
            (self.hidden | other.hidden) - (set(self.values) - self.hidden) - (set(other.values) - other.hidden),
            {**self.entities, **{k: self.entities.get(k, []) + v for k, v in other.entities.items()}},
            {**self.rewrites, **other.rewrites},
        )


class Writer:
    """Writes one request for a shape's frames with the grammar ``book``; ``rng`` draws every choice."""

    def __init__(self, book, rng: random.Random):
        self.book = book
        self.rng = rng
        self.discourse = Discourse()

    # ---- words for slots -----------------------------------------------------------------------------

    def _person(self, person: Person, alone: bool) -> str:
        if alone and person.role and person not in self.discourse.people and self.rng.random() < 0.5:
            return self.rng.choice([f"{person.role}, {person.name},", f"{person.role} {person.name}"])
        return person.name

    def people(self, people: list[Person]) -> str:
        pronoun = self.discourse.pronoun(people)
        if pronoun is not None and self.rng.random() < 0.85:
            return pronoun
        names = [self._person(p, len(people) == 1) for p in people]
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            both = self.rng.random() < 0.1 and not any(p.literal for p in people)
            return f"both {names[0]} and {names[1]}" if both else f"{names[0]} and {names[1]}"
        comma = "," if self.rng.random() < 0.4 else ""
        return f"{', '.join(names[:-1])}{comma} and {names[-1]}"

    def _file(self, file) -> str:
        if file.name in self.discourse.things and self.rng.random() < 0.8:
            return f"the {file.noun}"
        if not file.determiner:
            return file.name
        return f"{self.rng.choice(['the', 'the', 'my', 'my', 'our'])} {file.name}"

    def said(self, frame: Frame, output: str | None = None, attached: tuple = ()) -> Said:
        """Values for a frame; ``output``: the producer output it refers to (a key of the grammar's outputs);
        ``attached``: files its producer opened that it attaches."""
        rng, d, ask = self.rng, self.discourse, frame.ask
        v: dict[str, str] = {}
        needed: set[str] = set()
        hidden: set[str] = set()
        entities: dict[str, list] = {}
        rewrites: dict[str, tuple[Frame, str, str]] = {}

        def put(slot: str, semantic: str, text: str) -> None:
            v[slot] = text
            needed.add(semantic)

        if frame.people and not (ask.same and ask.uses and ask.act == "event"):  # a zoom's invitees: said there
            put("to", "to", self.people(frame.people))
            v["them"] = self._them(frame)
            if not d.named(frame.people) or d.pronoun(frame.people) is None:
                hidden.add("them")
            (one,) = frame.people if len(frame.people) == 1 else (None,)
            if one is not None and not one.literal and not d.named([one]):
                v["who"] = self._person(one, True)
            entities["to"] = frame.people
        if frame.cc:
            put("cc", "cc", self.people(frame.cc))
            entities["cc"] = frame.cc
        if frame.topic:
            put("topic", "topic", frame.topic)
            subject = _subject_line(frame.topic)
            v["subject"] = subject
            rewrites["subject"] = (frame, "topic", subject)
        files = list(frame.files) + list(attached)
        if files:
            words = [self._file(f) for f in files]
            put("files", "files", words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}")
            v["files_it"] = "them" if len(files) > 1 or files[0].plural else "it"
            if not all(f.name in d.things for f in files):
                hidden.add("files_it")
            entities["files"] = [f.name for f in files]
        if output == "meeting":
            put("meeting", "meeting", rng.choice(self.book.outputs["meeting"]["np"]))
        elif output is not None:
            words = self.book.outputs[output]
            put("ref", "ref", rng.choice(words["np"]))
            if words.get("it", True):
                v["it"] = "it"
        if frame.message is not None:
            if frame.message.clause:
                v["statement"] = frame.message.text
            put("line", "message", frame.message.text)
        if ask.separately:
            put("separately", "separately", rng.choice(["separately", "individually"]))
            v["separate"] = rng.choice(["separate", "individual"])
        if frame.moment is not None:
            put("when", "when", frame.moment.text)
        if frame.length is not None:
            put("for_length", "length", f"for {frame.length.phrase}")
            v["length_np"], v["length_adj"] = frame.length.phrase, frame.length.adjective
        if frame.place is not None:
            put("place", "place", frame.place.name)
            v["at_place"] = f"{frame.place.prep} {frame.place.name}"
            v["there"] = "there"
            if frame.place.name not in d.things:
                hidden.add("there")
            entities["place"] = [frame.place.name]
        if frame.origin is not None:
            put("from", "from", frame.origin.name)
        if frame.transport is not None and frame.mode_said:
            put("mode", "mode", rng.choice(frame.transport.adjectives))
            v["by_mode"] = rng.choice(frame.transport.adverbs)
        if frame.event is not None and ask.act in ("event", "zoom"):
            put("title", "title", frame.event.phrase())
            v["title_name"] = frame.event.title
        if frame.calendar:
            put("calendar", "calendar", f"{rng.choice(['my', 'my', 'the'])} {frame.calendar} calendar")
        if frame.task is not None:
            put("item" if frame.task_is_item else "task", "task", frame.task)
        if frame.reminder_list is not None:
            put("list", "list", f"{rng.choice(['my', 'my', 'the'])} {frame.reminder_list.name} list")
        if frame.priority:
            phrases, adjectives = self.book.lexicon.priorities[frame.priority]
            put("priority", "priority", rng.choice(phrases))
            v["priority_adj"] = rng.choice(adjectives)
        if frame.note is not None:
            name = frame.note.name
            called = [f"my note called {name}", f"the note titled {name}", f"the note named {name}"]
            forms = [f"my {name} note", f"the {name} note", f"my {name} note", f"the {name} note",
                     f"my {name} note", rng.choice(called)]  # fmt: skip
            put("note", "note", rng.choice(forms))
            v["note_name"] = name
            entities["note"] = [name]
        if frame.folder:
            put("folder", "folder", f"{rng.choice(['my', 'the'])} {frame.folder} folder")
        if frame.content is not None:
            put("thing" if frame.content_is_thing else "jotting", "content", frame.content)
        if frame.file is not None:
            put("file", "file", self._file(frame.file))
            v["file_it"] = frame.file.it
            if frame.file.name not in d.things:
                hidden.add("file_it")
            entities["file"] = [frame.file.name]
        if frame.owner is not None:
            put("owner", "owner", f"{frame.owner.name}'s")
            entities["owner"] = [frame.owner]
        return Said(v, needed, hidden, entities, rewrites)

    def _them(self, frame: Frame) -> str:
        """The recipients as a pronoun later in the same clause; their names when a cc could be meant too."""
        people = frame.people
        word = "them" if len(people) > 1 else people[0].object
        if any(p.object == word or word == "them" for p in frame.cc) or any(p.literal for p in people):
            names = [p.name for p in people]
            return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return word

    # ---- clauses ---------------------------------------------------------------------------------------

    def clause(self, kind: str, said: Said, unit: int, combo: bool = False) -> Clause | None:
        """A clause from the templates of ``kind`` (an ask kind, or a combo key) that says exactly what is needed."""
        templates = (self.book.combos if combo else self.book.acts).get(kind)
        if templates is None:
            return None
        available = frozenset(set(said.values) - said.hidden)
        fitting = templates.fitting(available, frozenset(said.needed))
        if not fitting:
            return None
        return self._render(fitting, said, available, unit)

    def _render(self, fitting: list[Template], said: Said, available: frozenset[str], unit: int) -> Clause:
        """One of the fitting templates, rendered; drawn again (a few times) when words meet badly ("book book
        club", "a check-in in 3 days")."""
        for _ in range(4):
            template = self.rng.choice(fitting)
            text = template.render(said.values, available, self.rng)
            if not _REPEATED.search(text):
                break
        self._name(template, said)
        for slot in template.slots & said.rewrites.keys():
            frame, attribute, value = said.rewrites[slot]
            setattr(frame, attribute, value)
        # a name or "I" first keeps its case; a time ("At 3pm tomorrow, remind me...") does not
        keep = template.source.startswith("{") and not template.source.startswith("{when}")
        keep = keep or bool(_FIRST_PERSON.match(text))
        return Clause(text, template.sentence, template.open, unit, keep, template.colon)

    def _name(self, template: Template, said: Said) -> None:
        for slot in {SEMANTIC.get(s, s) for s in template.slots} & ENTITY_SLOTS:
            things = said.entities.get(slot, [])
            if slot in ("to", "cc", "owner"):
                self.discourse.people += [p for p in things if p not in self.discourse.people]
            else:
                self.discourse.things.update(things)

    def lead(self, frame: Frame, unit: int) -> tuple[Clause, set[str]] | None:
        """A sentence said before the ask that names some of its people or content; returns it and the
        semantic slots it said that need not be said again (messages, tasks, times; not people)."""
        templates = self.book.leads.get(frame.ask.act)
        if not templates:
            return None
        said = self.said(frame)
        hidden = said.hidden | ({"to", "who"} if any(p.literal for p in frame.people) else set())
        available = frozenset(set(said.values) - hidden)
        options = []
        for template in templates.templates:
            slots = template.said(available)
            semantic = {SEMANTIC.get(s, s) for s in slots} if slots is not None else None
            if semantic and semantic <= said.needed:
                options.append((template, semantic))
        if not options:
            return None
        template, semantic = self.rng.choice(options)
        clause = self._render([template], said, available, unit)
        clause.lead = True
        if frame.message is not None and template.source.startswith("{statement}"):  # written as the lead says it
            frame.message = Message(_capitalized(frame.message.text), frame.message.clause)
        return clause, semantic - ENTITY_SLOTS

    # ---- units -----------------------------------------------------------------------------------------

    def unit(self, index: int, unit: Unit, frames: list[Frame], allow_lead: bool) -> list[Clause]:
        """The unit's clauses; asks to the same people that do not use the producer's output come last."""
        if unit.producer is None:
            clauses = self._alone(index, frames[0], allow_lead)
            rest = frames[1:]
        else:
            uses = [f for f in frames[1:] if f.ask.uses]
            clauses = self._produced(index, frames[0], uses)
            rest = frames[1 + len(uses) :]
        return clauses + [self._require(f.ask.act, self.said(f), index) for f in rest]

    def _produced(self, index: int, producer: Frame, consumers: list[Frame]) -> list[Clause]:
        made = producer.ask.act
        if not consumers:
            return [self._require(made, self.said(producer), index)]
        keys = [f"{made}>{'+'.join(c.ask.act for c in consumers)}", f"{made}>{consumers[0].ask.act}"]
        for key in keys:
            if key in self.book.combos and self.rng.random() < COMBO_RATE:
                covered = len(key.split(">")[1].split("+"))
                said = self.said(producer)
                for consumer in consumers[:covered]:
                    said = said.merge(self._use(consumer, producer, made, in_combo=True))
                if consumers[0].ask.source:
                    said.needed.discard("file")
                clause = self.clause(key, said, index, combo=True)
                if clause is not None:
                    return [clause] + [self._follow(index, c, producer, made, True) for c in consumers[covered:]]
        first = None
        if self.rng.random() < QUESTION_RATE:
            first = self._question(made, self.said(producer), index)
        first = first or self._require(made, self.said(producer), index, verb_phrase=True)
        return [first] + [self._follow(index, c, producer, made, i > 0) for i, c in enumerate(consumers)]

    def _alone(self, index: int, frame: Frame, allow_lead: bool) -> list[Clause]:
        clauses: list[Clause] = []
        consumed: set[str] = set()
        if allow_lead and self.rng.random() < LEAD_RATE:
            found = self.lead(frame, index)
            if found is not None:
                clauses.append(found[0])
                consumed = found[1]
        said = self.said(frame)
        said.needed -= consumed
        clause = self.clause(frame.ask.act, said, index)
        if clause is None and consumed:  # no template says only what is left: say it all without the lead
            self.discourse = Discourse()
            return self._alone(index, frame, False)
        return clauses + [clause or self._require(frame.ask.act, said, index)]

    def _use(self, consumer: Frame, producer: Frame, made: str, in_combo: bool) -> Said:
        """What a consumer says about the producer's output: nothing more in a combo (the combo's words say it),
        the output by name or pronoun after a producer clause."""
        attached = (producer.file,) if made == "file" or consumer.ask.source else ()
        if in_combo:
            said = self.said(consumer, None, attached if consumer.ask.source else ())
            if made == "file":
                said.needed.discard("files")
            return said
        if made == "file":
            return self.said(consumer, None, attached)
        output = "meeting" if made == "zoom" and consumer.ask.act == "event" else made
        return self.said(consumer, output, attached)

    def _follow(self, index: int, consumer: Frame, producer: Frame, made: str, later: bool = False) -> Clause:
        """A clause that uses the producer's output; a ``later`` one names the output again, since "it" would
        now read as whatever the clause before made."""
        said = self._use(consumer, producer, made, in_combo=False)
        if later:
            said.hidden |= {"it", "files_it"}
        return self._require(consumer.ask.act, said, index)

    def _question(self, kind: str, said: Said, index: int) -> Clause | None:
        templates = self.book.acts[kind]
        available = frozenset(set(said.values) - said.hidden)
        fitting = [t for t in templates.fitting(available, frozenset(said.needed)) if t.sentence]
        if not fitting:
            return None
        return self._render(fitting, said, available, index)

    def _require(self, kind: str, said: Said, index: int, verb_phrase: bool = False) -> Clause:
        templates = self.book.acts[kind]
        available = frozenset(set(said.values) - said.hidden)
        fitting = templates.fitting(available, frozenset(said.needed))
        if verb_phrase:
            fitting = [t for t in fitting if not t.sentence] or fitting
        if not fitting:
            raise LookupError(f"no {kind} template says exactly {sorted(said.needed)} with {sorted(available)}")
        return self._render(fitting, said, available, index)

    # ---- the request -----------------------------------------------------------------------------------

    def request(self, spec: ShapeSpec, frames: list[list[Frame]]) -> str:
        order = list(range(len(spec.units)))
        self.rng.shuffle(order)
        clauses: list[Clause] = []
        for position, i in enumerate(order):
            clauses += self.unit(i, spec.units[i], frames[i], allow_lead=position == 0)
        sentences = self._sentences(clauses)
        rng, book = self.rng, self.book
        talk = 1.0 if len(clauses) <= MAX_CHATTY_CLAUSES else 0.0  # a long request has no room for small talk
        if rng.random() < CHATTER_RATE * talk:
            sentences.insert(0, rng.choice(book.chatter))
        elif rng.random() < OPENER_RATE * talk:
            opener = rng.choice(book.openers)
            sentences[0] = opener + _lower_first(sentences[0], self._first_keep)
        if rng.random() < CLOSER_RATE * talk:
            if sentences[-1].endswith(".") and rng.random() < 0.4:
                sentences[-1] = sentences[-1][:-1] + rng.choice([", thanks.", ", thanks!", ", thank you."])
            else:
                sentences.append(rng.choice(book.closers))
        ended = [s if re.search(r"[.?!:][\"”']?$", s) else s + "." for s in sentences[:-1]]
        return _tidy(" ".join([*ended, sentences[-1]]))

    def _sentences(self, clauses: list[Clause]) -> list[str]:
        self._connectors_used: set[str] = set()
        sentences: list[str] = []
        group: list[Clause] = []
        self._first_keep = clauses[0].keep_case
        previous: Clause | None = None

        def flush() -> None:
            if group:
                sentences.append(self._framed(group, later=bool(sentences)))

        for clause in clauses:
            if clause.sentence:
                flush()
                group = []
                sentences.append(self._joined(clause.text, clause, previous, sentences))
                previous = clause
                continue
            joined = sum(c.text.count(" and ") + 1 for c in group)
            if group and (group[-1].open or joined >= 3 or self.rng.random() < BREAK_RATE):
                flush()
                group = []
            if not group:
                if sentences:
                    self._lead_in = self._connector(clause, previous)
                else:
                    self._lead_in = ""
            group.append(clause)
            previous = clause
        flush()
        return sentences

    def _connector(self, clause: Clause, previous: Clause | None) -> str:
        if previous is None or previous.lead:
            return ""
        words = self.book.connectors["next" if previous.unit == clause.unit else "also"]
        word = self.rng.choice(words)
        if word and word in self._connectors_used:  # "Additionally, ... Additionally, ..." reads as a list gone wrong
            word = self.rng.choice([w for w in words if w not in self._connectors_used] or [""])
        self._connectors_used.add(word)
        return word

    def _joined(self, text: str, clause: Clause, previous: Clause | None, sentences: list[str]) -> str:
        """A whole-sentence clause, after a sentence connector when it is not the first sentence."""
        text = _capitalized(text)
        if not sentences:
            return text
        lead_in = self._connector(clause, previous)
        return lead_in + _lower_first(text, clause.keep_case) if lead_in else text

    def _framed(self, group: list[Clause], later: bool) -> str:
        """The verb phrases of a sentence joined and framed by a mood; a later sentence of a request is more often
        a plain command, as people stop repeating "can you" once they have started."""
        rng = self.rng
        text = group[0].text
        for before, clause in zip(group, group[1:], strict=False):
            joins = self.book.connectors["and" if before.unit == clause.unit else "and_also"]
            text += rng.choice(joins) + clause.text
        last = group[-1]
        ends_in_mark = bool(re.search(r"[?!.][\"”']?$", text))
        moods = [
            m
            for m in self.book.moods
            if (not last.open or m.tail in ("", ".", "?"))
            and (not last.colon or "?" not in m.tail)
            and (not ends_in_mark or m.tail in ("", "."))
            and (not self._lead_in or m.after_connector)
        ]
        mood = rng.choices(moods, [m.weight * (LATER_PLAIN if later and not m.head else 1) for m in moods])[0]
        body = text if mood.head == "" else _lower_first(text, group[0].keep_case)
        tail = "" if ends_in_mark and mood.tail == "." else mood.tail
        sentence = _capitalized(mood.head + body + tail)
        if self._lead_in:
            sentence = self._lead_in + _lower_first(sentence, group[0].keep_case and mood.head == "")
        self._lead_in = ""
        return sentence


def _capitalized(text: str) -> str:
    """The first letter in capitals, unless the first word is written its own way (an address, "iMessage")."""
    first = text.split(" ", 1)[0]
    if "@" in first or first[1:2].isupper():
        return text
    return text[:1].upper() + text[1:]


def _subject_line(topic: str) -> str:
    """A topic as a subject line: "the Q3 budget" -> "Q3 budget"."""
    for article in ("the ", "our ", "my "):
        if topic.startswith(article):
            topic = topic[len(article) :]
            break
    return topic[:1].upper() + topic[1:]


def _lower_first(text: str, keep: bool) -> str:
    if keep or _FIRST_PERSON.match(text) or text[1:2].isupper():  # a name, "I", "TL;DR"
        return text
    return text[:1].lower() + text[1:]


_SPACES = re.compile(r"\s+")
_COMMA_BEFORE_MARK = re.compile(r",+\s*([.?!:;])")
_DOUBLE_COMMA = re.compile(r",\s*,")
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.?!:;])")
_A_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[AEIO][a-z])")


def _tidy(text: str) -> str:
    """Appositive commas before a mark or another comma go; spaces are single; "a" before a capitalized vowel
    (a note or a file named "Ideas") is "an"."""
    text = _SPACES.sub(" ", text).strip()
    text = _A_BEFORE_VOWEL.sub(r"\1n ", text)
    text = _DOUBLE_COMMA.sub(",", text)
    text = _COMMA_BEFORE_MARK.sub(r"\1", text)
    return _SPACE_BEFORE_MARK.sub(r"\1", text)


__all__ = ["BACK_REFERENCES", "Clause", "Discourse", "SEMANTIC", "SLOTS", "Writer"]
