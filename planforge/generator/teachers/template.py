"""The offline teacher: composes requests and gold plans from the recipe's intents and vocabularies.

An intent is a set of request paraphrases and a plan template over slots; a follow-up consumes the output
of the intent before it ("... and text Lutfi the link"). The teacher enumerates the function sets its
compositions can cover (single intents, intent + follow-up, two independent intents) and offers them to the
sampler as candidate targets. It answers in the same JSON wire format as an LLM teacher, so its examples
go through exactly the same parsing and validation."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from planforge.errors import RecipeError as TemplateError  # a templates file that cannot be used
from planforge.generator.dates import iso, resolve_day, resolve_time
from planforge.generator.teachers.base import TeacherReply, TeacherRequest
from planforge.plan import format_value

_SLOT = re.compile(r"\{(\w+?)(\d*)(?:\.(\w+))?\}")
_LOCAL_REF = re.compile(r"\$(\d+)")
_CALL_NAME = re.compile(r"^\s*([\w.]+)\s*\(")

TEMPLATES_SCHEMA = {
    "type": "object",
    "required": ["vocabulary", "intents"],
    "additionalProperties": False,
    "properties": {
        "vocabulary": {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}},
        "prefixes": {"type": "array", "items": {"type": "string"}},
        "suffixes": {"type": "array", "items": {"type": "string"}},
        "connectors": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "intents": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/intent"}},
        "follow_ups": {"type": "array", "items": {"$ref": "#/$defs/intent"}},
    },
    "$defs": {
        "intent": {
            "type": "object",
            "required": ["id", "requests", "plan"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "requests": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "plan": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "output": {"type": "string"},
                "accepts": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}


@dataclass(frozen=True)
class Intent:
    id: str
    requests: tuple[str, ...]
    plan: tuple[str, ...]
    functions: frozenset[str]
    output: str | None = None
    accepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shape:
    """A composition: one intent, an intent and its follow-up, or two independent intents."""

    parts: tuple[Intent, ...]
    follows: bool = False  # the second part consumes the first's output

    @property
    def functions(self) -> frozenset[str]:
        return frozenset().union(*(p.functions for p in self.parts))


@dataclass
class TemplateBook:
    vocabulary: dict[str, list[Any]]
    intents: list[Intent]
    follow_ups: list[Intent]
    prefixes: list[str] = field(default_factory=lambda: [""])
    suffixes: list[str] = field(default_factory=lambda: [""])
    connectors: list[str] = field(default_factory=lambda: [" and "])

    def shapes(self, offered: set[str], max_functions: int) -> dict[frozenset[str], list[Shape]]:
        """Every composition whose functions are all known, by function set."""
        by_functions: dict[frozenset[str], list[Shape]] = defaultdict(list)
        singles = [Shape((i,)) for i in self.intents]
        followed = [
            Shape((i, f), follows=True)
            for i in self.intents
            for f in self.follow_ups
            if i.output and i.output in f.accepts
        ]
        pairs = [Shape((a, b)) for a, b in combinations(self.intents, 2)]
        for shape in singles + followed + pairs:
            if shape.functions <= offered and len(shape.functions) <= max_functions:
                by_functions[shape.functions].append(shape)
        return dict(by_functions)


def load_templates(path: Path, known_functions: set[str]) -> TemplateBook:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: cannot read ({' '.join(str(exc).split())})") from None
    errors = sorted(Draft202012Validator(TEMPLATES_SCHEMA).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "top level"
        raise TemplateError(f"{path}: field '{where}': {errors[0].message}")
    vocabulary = raw["vocabulary"]

    def build(item: dict[str, Any], kind: str, index: int) -> Intent:
        functions = set()
        for line in item["plan"]:
            match = _CALL_NAME.match(line)
            if not match:
                raise TemplateError(f"{path}: field '{kind}.{index}.plan': expected 'function(args)', got {line!r}")
            functions.add(match.group(1))
        unknown = functions - known_functions
        if unknown:
            raise TemplateError(f"{path}: field '{kind}.{index}.plan': unknown function(s) {sorted(unknown)}")
        for text in (*item["requests"], *item["plan"]):
            for slot, _, _ in _SLOT.findall(text):
                if slot not in vocabulary and slot not in ("when",):
                    raise TemplateError(f"{path}: field '{kind}.{index}': slot {{{slot}}} has no vocabulary")
        return Intent(
            item["id"],
            tuple(item["requests"]),
            tuple(item["plan"]),
            frozenset(functions),
            item.get("output"),
            tuple(item.get("accepts", ())),
        )

    return TemplateBook(
        vocabulary=vocabulary,
        intents=[build(item, "intents", i) for i, item in enumerate(raw["intents"])],
        follow_ups=[build(item, "follow_ups", i) for i, item in enumerate(raw.get("follow_ups", []))],
        prefixes=raw.get("prefixes", [""]),
        suffixes=raw.get("suffixes", [""]),
        connectors=raw.get("connectors", [" and "]),
    )


class _Slots:
    """Draws slot values for one intent instance; the same name gives the same value in request and plan."""

    def __init__(self, book: TemplateBook, rng: random.Random, now: datetime):
        self.book, self.rng, self.now = book, rng, now
        self.values: dict[str, Any] = {}

    def value(self, name: str, suffix: str) -> Any:
        key = name + suffix
        if key not in self.values:
            if name == "when":
                day = self.rng.choice(self.book.vocabulary["day"])
                clock = self.rng.choice(self.book.vocabulary["time"])
                start = datetime.combine(resolve_day(day, self.now), resolve_time(clock))
                self.values[key] = {
                    "text": f"{day} {clock}",
                    "start": iso(start),
                    "end": iso(start + timedelta(minutes=60)),
                }
            elif name == "day":
                day = self.rng.choice(self.book.vocabulary["day"])
                self.values[key] = {"text": day, "date": iso(resolve_day(day, self.now))}
            else:
                taken = {repr(v) for k, v in self.values.items() if _SLOT.fullmatch("{" + k + "}")[1] == name}
                pool = [v for v in self.book.vocabulary[name] if repr(v) not in taken] or self.book.vocabulary[name]
                self.values[key] = self.rng.choice(pool)
        return self.values[key]

    def text(self, template: str) -> str:
        return _SLOT.sub(lambda m: _as_text(self.value(m[1], m[2]), m[3]), template)

    def literal(self, template: str) -> str:
        return _SLOT.sub(lambda m: format_value(_attribute(self.value(m[1], m[2]), m[3])), template)


def _attribute(value: Any, attr: str | None) -> Any:
    if isinstance(value, dict):
        return value[attr or "text"]
    return value


def _as_text(value: Any, attr: str | None) -> str:
    return str(_attribute(value, attr))


class TemplateTeacher:
    """Offline teacher over a :class:`TemplateBook`. Deterministic for a given request and seed."""

    name = "template"
    model = "template"
    endpoint = None
    stats = None

    def __init__(self, book: TemplateBook, offered: set[str], max_functions: int, seed: int):
        self.book = book
        self.seed = seed
        self.shapes = book.shapes(offered, max_functions)
        if not self.shapes:
            raise TemplateError("the templates cover none of the recipe's functions")

    @property
    def candidate_targets(self) -> list[frozenset[str]]:
        return list(self.shapes)

    def render(self, request: TeacherRequest) -> str:
        return f"(template teacher: composes {request.num_examples} examples using {', '.join(request.targets)})"

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        return self.reply(request)

    def reply(self, request: TeacherRequest) -> TeacherReply:
        rng = random.Random(f"{self.seed}:template:{request.seq}")
        shapes = self._shapes_for(request)
        now = datetime.fromisoformat(request.now)
        examples = [self.compose(rng.choice(shapes), rng, now) for _ in range(request.num_examples)]
        return TeacherReply(json.dumps({"examples": examples}, ensure_ascii=False))

    async def aclose(self) -> None:
        return None

    def _shapes_for(self, request: TeacherRequest) -> list[Shape]:
        targets = frozenset(request.targets)
        if targets in self.shapes:
            return self.shapes[targets]
        offered = set(request.tools)
        usable = [s for shapes in self.shapes.values() for s in shapes if s.functions <= offered]
        best = max(len(s.functions & targets) for s in usable)
        return [s for s in usable if len(s.functions & targets) == best]

    def compose(self, shape: Shape, rng: random.Random, now: datetime) -> dict[str, str]:
        requests: list[str] = []
        lines: list[str] = []
        previous_output = 0
        for position, intent in enumerate(shape.parts):
            slots = _Slots(self.book, rng, now)
            offset = len(lines)
            for line in intent.plan:
                line = _LOCAL_REF.sub(lambda m, o=offset: f"${int(m[1]) + o}", line)
                line = line.replace("$prev", f"${previous_output}")
                lines.append(slots.literal(line))
            previous_output = len(lines)
            request = slots.text(rng.choice(intent.requests))
            requests.append(request if position == 0 else request[0].lower() + request[1:])
        query = requests[0]
        for part in requests[1:]:
            connector = rng.choice(self.book.connectors)
            query += connector + (part[0].upper() + part[1:] if connector.endswith(". ") else part)
        prefix, suffix = rng.choice(self.book.prefixes), rng.choice(self.book.suffixes)
        query = prefix + query if prefix else query[0].upper() + query[1:]
        if query[-1] not in "?!.":
            query += suffix
        plan = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)) + f"\n{len(lines) + 1}. join()"
        return {"query": query, "plan": plan}
