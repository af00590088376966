"""Phrase templates: the small language a grammar file writes requests in.

    {slot}     a typed slot: the grammar fills it with words of the right kind (a clause, a noun phrase, a
               time...); the grammar file's header lists the slots
    [ ... ]    an optional part, said when every slot in it has a value and left out otherwise
    (a|b|c)    one of several wordings, drawn at random (plain words only; an empty one is allowed)

A template fits an ask when it says everything the ask needs said and nothing more: every semantic slot the ask
has a value for is said by some slot of the template (outside optional parts, or inside an optional part whose
slots all have values), and every slot outside optional parts has a value. So "email {to}[ about {topic}]" fits
an email with or without a subject, and never one with an attachment.

A template that ends in ".", "?" or "!" is a whole sentence; any other is a verb phrase the grammar may put
after "can you" or join to another with "and". A template with a message slot ({statement}, {line},
{jotting}) outside quotes is open-ended: whatever follows it in the sentence could be read as part of the
message, so it always ends its sentence."""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from planforge.errors import PhraseError

OPEN_SLOTS = frozenset({"statement", "line", "jotting"})
# A back-reference ("them", "it", "there") may be used where the thing it refers to is said earlier in the
# same template; elsewhere it has a value only when the thing was named before in the request.
BACK_REFERENCES = {"them": "to", "it": "ref", "files_it": "files", "file_it": "file", "there": "place"}
_TOKEN = re.compile(r"\{(\w+)\}|\[|\]|\(|\)|\||[^{}\[\]()|]+")


@dataclass(frozen=True)
class Slot:
    name: str
    quoted: bool = False  # written inside quotes in the template
    after_colon: bool = False  # written right after ": "


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]


@dataclass(frozen=True)
class Optional:
    parts: tuple[str | Slot | Choice, ...]

    @property
    def slots(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parts if isinstance(p, Slot))


Part = str | Slot | Choice | Optional


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[Part, ...]
    required: frozenset[str] = field(init=False)
    sentence: bool = field(init=False)
    open: bool = field(init=False)
    colon: bool = field(init=False)  # an open slot right after ":" (then no "?" may follow the clause)

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", frozenset(p.name for p in self.parts if isinstance(p, Slot)))
        object.__setattr__(self, "sentence", self.source.rstrip().endswith((".", "?", "!")))
        slots = [p for p in self.parts if isinstance(p, Slot)]
        slots += [s for p in self.parts if isinstance(p, Optional) for s in p.parts if isinstance(s, Slot)]
        object.__setattr__(self, "open", any(s.name in OPEN_SLOTS and not s.quoted for s in slots))
        object.__setattr__(self, "colon", any(s.name in OPEN_SLOTS and s.after_colon for s in slots))

    @property
    def slots(self) -> frozenset[str]:
        return self.required.union(*(p.slots for p in self.parts if isinstance(p, Optional)))

    @property
    def backed(self) -> frozenset[str]:
        """Back-references this template can always use: what they refer to is said in it too."""
        return frozenset(b for b, full in BACK_REFERENCES.items() if full in self.required)

    def said(self, available: Collection[str]) -> frozenset[str] | None:
        """The slots this template says given the slots that have values, or None if a required one has none."""
        usable = set(available) | self.backed
        if not self.required <= usable:
            return None
        said = set(self.required)
        for part in self.parts:
            if isinstance(part, Optional) and part.slots <= usable:
                said |= part.slots
        return frozenset(said)

    def render(self, values: Mapping[str, str], available: Collection[str], rng: random.Random) -> str:
        """The template's words; ``values`` holds text for every slot ``available`` names, and for every
        back-reference whose thing the ask has."""
        usable = set(available) | self.backed
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Optional):
                if part.slots <= usable:
                    out += [_word(p, values, rng) for p in part.parts]
            else:
                out.append(_word(part, values, rng))
        return "".join(out)


def _word(part: str | Slot | Choice, values: Mapping[str, str], rng: random.Random) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Slot):
        return values[part.name]
    return rng.choice(part.options)


def parse(source: str) -> Template:
    """A template from its text (raises PhraseError naming what is wrong)."""
    tokens = [m.group(0) for m in _TOKEN.finditer(source)]
    if "".join(tokens) != source:
        raise PhraseError(f"{source!r}: stray '{{' or '}}'")
    parts: list[Part] = []
    group: list[str | Slot | Choice] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        target = group if group is not None else parts
        if token == "[":
            if group is not None:
                raise PhraseError(f"{source!r}: optional parts cannot nest")
            group = []
        elif token == "]":
            if group is None:
                raise PhraseError(f"{source!r}: ']' without '['")
            if not any(isinstance(p, Slot) for p in group):
                raise PhraseError(f"{source!r}: an optional part needs a slot")
            parts.append(Optional(tuple(group)))
            group = None
        elif token == "(":
            close = tokens.index(")", i) if ")" in tokens[i:] else -1
            if close < 0:
                raise PhraseError(f"{source!r}: '(' without ')'")
            inner = tokens[i + 1 : close]
            if any(t in ("(", "[", "]") or t.startswith("{") for t in inner):
                raise PhraseError(f"{source!r}: a choice holds plain words only")
            options, current = [], ""
            for t in inner:
                if t == "|":
                    options.append(current)
                    current = ""
                else:
                    current += t
            options.append(current)
            if len(options) < 2:
                raise PhraseError(f"{source!r}: a choice needs '|' between its wordings")
            target.append(Choice(tuple(options)))
            i = close
        elif token in (")", "|"):
            raise PhraseError(f"{source!r}: '{token}' outside a choice")
        elif token.startswith("{"):
            previous = target[-1] if target else (parts[-1] if parts and group is not None else None)
            quoted = isinstance(previous, str) and previous.endswith(('"', "“", "'"))
            after_colon = isinstance(previous, str) and previous.endswith(": ")
            target.append(Slot(token[1:-1], quoted, after_colon))
        else:
            target.append(token)
        i += 1
    if group is not None:
        raise PhraseError(f"{source!r}: '[' without ']'")
    return Template(source, tuple(parts))


class TemplateSet:
    """The templates of one ask kind, with the fitting ones cached by (slots with values, slots to say)."""

    def __init__(self, templates: list[Template], semantic: Mapping[str, str]):
        self.templates = templates
        self.semantic = semantic  # surface slot -> the semantic slot it says
        self._fits: dict[tuple[frozenset[str], frozenset[str]], list[Template]] = {}

    def fitting(self, available: frozenset[str], needed: frozenset[str]) -> list[Template]:
        key = (available, needed)
        found = self._fits.get(key)
        if found is None:
            found = []
            for template in self.templates:
                said = template.said(available)
                if said is not None and frozenset(self.semantic.get(s, s) for s in said) == needed:
                    found.append(template)
            self._fits[key] = found
        return found
