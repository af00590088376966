"""A grammar file: loading, checking and the parsed grammar the writer uses.

The file (``templates.yaml`` of a recipe) is checked against :data:`GRAMMAR_SCHEMA`, then every template is
parsed and its slots checked against the ask kind it is written for (:data:`.realize.SLOTS`), so a typo in a
slot name is a load error naming the file and the field, never a strange request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from planforge.errors import PhraseError, RecipeError
from planforge.generator.teachers.grammar.lexicon import Lexicon, build_lexicon
from planforge.generator.teachers.grammar.phrases import TemplateSet, parse
from planforge.generator.teachers.grammar.realize import SEMANTIC, SLOTS
from planforge.generator.teachers.grammar.shapes import PRODUCERS

_STRINGS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_TEMPLATES = {"type": "object", "additionalProperties": _STRINGS}


def _entries(key: str, fields: dict, min_items: int = 1) -> dict:
    """A list of plain strings or of mappings with ``key`` and optional ``fields``."""
    mapping = {"type": "object", "required": [key], "additionalProperties": False,
               "properties": {key: {"type": "string"}, **fields}}  # fmt: skip
    return {"type": "array", "minItems": min_items, "items": {"anyOf": [{"type": "string"}, mapping]}}


_WORDS = {"type": "array", "items": {"type": "string"}}
_LEXICON = {
    "people": _entries("name", {"pronoun": {"enum": ["she", "he", "they"]}, "role": {"type": "string"}}, 8),
    "addresses": _STRINGS,
    "phones": _STRINGS,
    "places": _entries("name", {"prep": {"enum": ["at", "in", "on"]}}, 4),
    "files": _entries(
        "name",
        {
            "noun": {"type": "string"},
            "plural": {"type": "boolean"},
            "determiner": {"type": "boolean"},
            "summary": {"type": "boolean"},
        },
        4,
    ),  # fmt: skip
    "notes": _entries("name", {"items": _WORDS}),
    "reminder_lists": _entries("name", {"items": _WORDS}),
    "folders": _STRINGS,
    "calendars": _STRINGS,
    "events": _entries("title", {"det": {"enum": ["a", "the", "our", ""]}, "online": {"type": "boolean"}}),
    "topics": _STRINGS,
    "statements": _STRINGS,
    "lines": _STRINGS,
    "tasks": _STRINGS,
    "jottings": _STRINGS,
    "transport": {
        "type": "object",
        "required": ["d", "w", "r"],
        "additionalProperties": {
            "type": "object",
            "required": ["adjectives", "adverbs"],
            "additionalProperties": False,
            "properties": {"adjectives": _STRINGS, "adverbs": _STRINGS},
        },
    },  # fmt: skip
    "priorities": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["phrases", "adjectives"],
            "additionalProperties": False,
            "properties": {"phrases": _STRINGS, "adjectives": _STRINGS},
        },
    },  # fmt: skip
}
_MOOD = {"type": "object", "required": ["mood"], "additionalProperties": False,
         "properties": {"mood": {"type": "string"}, "weight": {"type": "number", "minimum": 0},
                        "first_only": {"type": "boolean"}}}  # fmt: skip

GRAMMAR_SCHEMA = {
    "type": "object",
    "required": ["lexicon", "outputs", "acts", "moods", "connectors", "mix"],
    "additionalProperties": False,
    "properties": {
        "lexicon": {
            "type": "object",
            "additionalProperties": False,
            "required": list(_LEXICON),
            "properties": _LEXICON,
        },  # fmt: skip
        "outputs": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["np"],
                "additionalProperties": False,
                "properties": {"np": _STRINGS, "it": {"type": "boolean"}},
            },
        },  # fmt: skip
        "acts": _TEMPLATES,
        "combos": _TEMPLATES,
        "leads": _TEMPLATES,
        "chatter": _STRINGS,
        "openers": _STRINGS,
        "closers": _STRINGS,
        "moods": {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "string"}, _MOOD]}},
        "connectors": {
            "type": "object",
            "required": ["and", "and_also", "next", "also"],
            "additionalProperties": False,
            "properties": {k: _STRINGS for k in ("and", "and_also", "next", "also")},
        },  # fmt: skip
        "noise": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rate": {"type": "number", "minimum": 0, "maximum": 1},
                "abbreviations": {"type": "object", "additionalProperties": _STRINGS},
            },
        },  # fmt: skip
        "mix": {
            "type": "object",
            "required": ["calls"],
            "additionalProperties": False,
            "properties": {
                "calls": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                "two_asks": {"type": "number", "minimum": 0, "maximum": 1},
                "three_asks": {"type": "number", "minimum": 0, "maximum": 1},
                "max_functions": {"type": "integer", "minimum": 1},
            },
        },  # fmt: skip
    },
}
ASK_KINDS = tuple(SLOTS)


GrammarError = RecipeError  # a grammar file that cannot be used; the message names the file and the field


@dataclass(frozen=True)
class Mood:
    head: str  # words before the verb phrase: "can you "
    tail: str  # after it, closing punctuation included: "?"
    weight: float = 1.0
    after_connector: bool = True  # may follow "Also, " (False for moods that open a request only)


@dataclass
class Book:
    lexicon: Lexicon
    outputs: dict[str, dict[str, Any]]
    acts: dict[str, TemplateSet]
    combos: dict[str, TemplateSet]
    leads: dict[str, TemplateSet]
    moods: list[Mood]
    connectors: dict[str, list[str]]
    chatter: list[str]
    openers: list[str]
    closers: list[str]
    noise_rate: float
    abbreviations: dict[str, list[str]]
    mix_calls: dict[int, float]
    two_asks: float  # share of the requests of a plan length that join two unrelated asks
    three_asks: float  # ... that join three
    max_functions: int  # the most distinct functions one request's plan uses


def load_book(path: Path) -> Book:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GrammarError(f"{path}: cannot read ({' '.join(str(exc).split())})") from None
    errors = sorted(Draft202012Validator(GRAMMAR_SCHEMA).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "top level"
        raise GrammarError(f"{path}: field '{where}': {errors[0].message}")
    for section in ("acts", "leads"):
        for kind in raw.get(section, {}):
            _kind(path, section, kind)
    missing = sorted(set(ASK_KINDS) - set(raw["acts"]))
    if missing:
        raise GrammarError(f"{path}: field 'acts': no templates for {', '.join(missing)}")
    if raw["mix"].get("two_asks", 0) + raw["mix"].get("three_asks", 0) > 1:
        raise GrammarError(f"{path}: field 'mix': two_asks and three_asks add up to more than 1")
    unknown_outputs = sorted({*PRODUCERS, "meeting"} - {"file"} - set(raw["outputs"]))
    if unknown_outputs:
        raise GrammarError(f"{path}: field 'outputs': missing {', '.join(unknown_outputs)}")
    return Book(
        lexicon=build_lexicon(raw["lexicon"]),
        outputs=raw["outputs"],
        acts={k: _templates(path, f"acts.{k}", v, SLOTS[_kind(path, "acts", k)]) for k, v in raw["acts"].items()},
        combos={k: _templates(path, f"combos.{k}", v, _combo_slots(path, k)) for k, v in raw.get("combos", {}).items()},
        leads={k: _templates(path, f"leads.{k}", v, SLOTS[_kind(path, "leads", k)], sentences=True)
               for k, v in raw.get("leads", {}).items()},
        moods=[_mood(path, i, m) for i, m in enumerate(raw["moods"])],
        connectors=raw["connectors"],
        chatter=raw.get("chatter", []),
        openers=raw.get("openers", []),
        closers=raw.get("closers", []),
        noise_rate=raw.get("noise", {}).get("rate", 0.0),
        abbreviations=raw.get("noise", {}).get("abbreviations", {}),
        mix_calls={int(k): float(v) for k, v in raw["mix"]["calls"].items()},
        two_asks=float(raw["mix"].get("two_asks", 0.0)),
        three_asks=float(raw["mix"].get("three_asks", 0.0)),
        max_functions=int(raw["mix"].get("max_functions", 4)),
    )  # fmt: skip


def _kind(path: Path, section: str, kind: str) -> str:
    if kind not in SLOTS:
        raise GrammarError(f"{path}: field '{section}.{kind}': unknown ask kind (known: {', '.join(ASK_KINDS)})")
    return kind


def _combo_slots(path: Path, key: str) -> set[str]:
    producer, _, consumers = key.partition(">")
    kinds = [producer, *consumers.split("+")] if consumers else []
    if not kinds or producer not in PRODUCERS or any(k not in SLOTS for k in kinds):
        raise GrammarError(f"{path}: field 'combos.{key}': expected 'producer>ask' or 'producer>ask+ask'")
    return set().union(*(SLOTS[k] for k in kinds)) - {"ref", "it", "meeting"}


def _templates(path: Path, field: str, sources: list[str], allowed: set[str], sentences: bool = False) -> TemplateSet:
    templates = []
    for i, source in enumerate(sources):
        try:
            template = parse(source)
        except PhraseError as exc:
            raise GrammarError(f"{path}: field '{field}.{i}': {exc}") from None
        stray = sorted(template.slots - allowed)
        if stray:
            raise GrammarError(f"{path}: field '{field}.{i}': {source!r} uses slot(s) {stray} not known here")
        if sentences and not template.sentence:
            raise GrammarError(f"{path}: field '{field}.{i}': a lead is a whole sentence ending in . ? or !")
        templates.append(template)
    return TemplateSet(templates, SEMANTIC)


def _mood(path: Path, index: int, raw: Any) -> Mood:
    entry = raw if isinstance(raw, dict) else {"mood": raw}
    text = entry["mood"]
    if text.count("{vp}") != 1:
        raise GrammarError(f"{path}: field 'moods.{index}': a mood holds {{vp}} once, got {text!r}")
    head, _, tail = text.partition("{vp}")
    return Mood(head, tail, float(entry.get("weight", 1.0)), not entry.get("first_only", False))
