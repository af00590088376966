"""Seeded mutation fuzzing of everything planforge reads from outside: LLMCompiler text, JSON plans, tool
specs and whole ``gen validate`` lines.

Each input goes through the public entry point that would receive it (:func:`planforge.validators.validate`,
:func:`planforge.tools.tools_from_json`, and for lines the in-process path of ``gen validate``). The only
acceptable outcomes are a verdict (a list of :class:`PlanError`) or the documented error (``ToolSpecError``,
``InputError``); anything else is a crash, and an input that takes over a second of CPU is a hang. Text
plans are also validated without the screen's shortcut: a different verdict counts as a crash. A crash
is keyed by its exception type and the innermost planforge frame, so one bug found a thousand times counts
once.

Used by ``tests/test_fuzz_inputs.py`` (a short run in the suite) and ``benchmarks/fuzz.py`` (a long one).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import InputError, ToolSpecError
from planforge.plan_files import validate_text
from planforge.tools import ToolSet, tools_from_json
from planforge.validators import PlanError, validate
from planforge.validators.pipeline import check_plan

ROOT = Path(__file__).resolve().parents[2]
HANG_SECONDS = 1.0

# -- seeds -------------------------------------------------------------------------------------------

TEXT_SEEDS = [
    '1. get_email_address("Sid")\n2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()<END_OF_PLAN>",
    "Thought: find the file first\n1. open_and_get_file_path('Q3 report')\n2. summarize_pdf($1)\n3. join()",
    '1. get_phone_number(name=\'Lutfi\')\n2. send_sms(recipients=[${1}], message="late, \\"sorry\\" $5")\n'
    "<END_OF_PLAN>",
    '1. create_reminder("Pay rent", "2026-12-01 09:00:00", "", "", "high", True)\n2. join()',
    '1. f(None, True, False, -3, 2.5e3, (1, 2), {"k": [None, {"x": "${1}"}]}, "a" "b")',
    '1. hotel_booking.book("Ritz", ["single", "suite"], 3)\n2. plot_points([[1.0, 2], [3, 4.5]])',
    "1. calculate_triangle_area(base=10, height=5, unit='cm')\n2. geometry.circumference(\"$1\")\n3. join()",
    '1. open_note("\\"\\"\\"")\n2. append_note_content("$1", """x""")',
    "1. use(n=1e308, s='\\u00e9\\x00', t='''it's''', u=r\"raw\\d\")",
]

JSON_SEEDS: list[Any] = [
    [
        {"name": "get_phone_number", "arguments": {"name": "Lutfi"}},
        {"name": "send_sms", "arguments": {"recipients": ["$1"], "message": "Running late"}},
        {"name": "join", "arguments": {}},
    ],
    [
        {"id": "c1", "type": "function", "function": {"name": "get_email_address", "arguments": '{"name": "Sid"}'}},
        {"id": "c2", "type": "function", "function": {"name": "compose_new_email", "arguments": "{}"}},
    ],
    {"tool_calls": [{"function": {"name": "maps_open_location", "arguments": {"location": "Paris"}}}]},
    [{"name": "plot_points", "arguments": {"points": [[1.5, 2], [3, 4]], "style": {"size": 2}}, "thought": "t"}],
    [{"name": "use", "arguments": {"n": 3, "tags": ["a", "a"], "code": "ab-12", "any": {"x": [None, True]}}}],
]

RICH_TOOLS: list[dict[str, Any]] = [
    {
        "name": "use",
        "description": "Exercises the schema keywords outside the fast subset.",
        "parameters": {
            "type": "object",
            "required": ["n"],
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 1e6, "multipleOf": 0.5},
                "s": {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 5},
                "code": {"type": "string", "pattern": "^[a-z]+-\\d+$", "minLength": 2},
                "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]},
                "shape": {"$ref": "#/$defs/shape"},
                "any": {},
                "level": {"enum": [1, 2, "three", None]},
                "flag": {"const": True},
                "choice": {"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]},
                "obj": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "patternProperties": {"^x-": {"type": "integer"}},
                    "additionalProperties": False,
                    "dependentRequired": {"a": ["b"]},
                },
            },
            "$defs": {"shape": {"type": "object", "properties": {"sides": {"type": "integer"}}}},
        },
        "returns": {"type": "integer"},
    },
    {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}, "returns": {}},
]


def _load_json(relative: str) -> Any:
    return json.loads((ROOT / relative).read_text(encoding="utf-8"))


def tool_seeds() -> list[list[dict[str, Any]]]:
    mac = _load_json("planforge/recipes/mac_assistant/tools.json")
    bfcl = _load_json("tests/data/bfcl_functions.json")
    return [mac, bfcl, RICH_TOOLS, [{"type": "function", "function": spec} for spec in mac[:4]]]


# -- mutation ----------------------------------------------------------------------------------------

_ALPHABET = "\"'\\$(){}[],:=.-+eE0123456789 \n\t\rabcxyzNTF_#/é\u2028\x00\ud800"
_TOKENS = [
    "None", "True", "False", "null", "true", "NaN", "Infinity", "-Infinity", "1e999", "$1", "${2}", "$0",
    "$" + "9" * 5000, "9" * 5000, "9" * 400, "1" * 40, "<END_OF_PLAN>", "Thought: ", "join()", "\\u", "\\ud800",
    '"""', "'''", "\\", "\\/", "*", "**", "x=", ")", "(", "[", "{", "0.", ".5", "0x1f", "1_000", "-",
    "lambda: 0", "__import__('os')", "f'{x}'", "b'x'", "{1, 2}", "\ud800", "\udfff", "\U0001f600",
]  # fmt: skip
# Short units that, repeated, once made patterns backtrack: escaped quotes, spaces, brackets, stray '$'.
_UNITS = ['\\"', "\\'", " ", '"x', "'x", " $", "$1", "[", "{", "(", "\\\\", '"', "'", "\t", ","]
_SCHEMA_KEYS = [
    "type", "properties", "required", "items", "enum", "additionalProperties", "pattern", "$ref", "$defs",
    "minimum", "maximum", "multipleOf", "uniqueItems", "anyOf", "oneOf", "allOf", "not", "if", "then", "else",
    "format", "$id", "$anchor", "$dynamicRef", "const", "prefixItems", "contains", "minItems", "maxLength",
    "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
    "optional", "default", "description", "returns", "parameters", "name", "function", "arguments", "tool_calls",
    "id", "plan", "tools", "definitions", "exclusiveMinimum", "minProperties",
]  # fmt: skip


def _deep(depth: int, kind: str = "list") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"x": value}
    return value


def _interesting_values() -> list[Any]:
    return [
        5, -1, 0, 0.5, 1e308, 10**400, True, False, None, "", "(", "[", "x", "\ud800", "#", "#/$defs/shape",
        "#/properties", "#/nope", "http://example.com/s", "any", "dict", "HashMap", "float", [], [1], [["a"]],
        ["a", "a"], ["string", "null"], [True], {}, {"type": 5}, {"$ref": "#"}, {"items": True}, {"enum": 5},
        float("nan"), float("inf"), _deep(40), _deep(900), _deep(40, "dict"), _deep(900, "dict"),
        {"type": "array", "enum": ["a"], "items": True}, {"type": "string", "pattern": "("}, {"not": {}},
        {"anyOf": []}, {"required": 5}, {"properties": [1]}, {"multipleOf": 0}, {"minimum": "x"},
        list(range(300)), [{}] * 300, "a" * 3000, {"$ref": "#/$defs/shape", "$defs": {"shape": {"$ref": "#"}}},
    ]  # fmt: skip


_VALUES = _interesting_values()


def mutate_text(rng: random.Random, text: str, others: list[str]) -> str:
    """One to four character-level edits, now and then an amplifying one (a slice repeated many times)."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        i, j = sorted((rng.randint(0, n), rng.randint(0, n)))
        roll = rng.random()
        if roll < 0.25:
            text = text[:i] + rng.choice(_ALPHABET) + text[i:]
        elif roll < 0.4:
            text = text[:i] + text[j:]
        elif roll < 0.55:
            text = text[:i] + rng.choice(_TOKENS) + text[i:]
        elif roll < 0.65 and n:
            text = text[:i] + rng.choice(_ALPHABET) + text[i + 1 :]
        elif roll < 0.75:
            text = text[:j] + text[i:j] + text[j:]
        elif roll < 0.85:
            other = rng.choice(others)
            k = rng.randint(0, len(other))
            text = text[:i] + other[k:] if rng.random() < 0.5 else other[:k] + text[i:]
        else:
            unit = text[i : min(j, i + 8)] if rng.random() < 0.5 else rng.choice(_UNITS)
            text = text[:i] + (unit or " ") * rng.choice((50, 900, 3000, 30_000)) + text[i:]
    return text


def _nodes(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    stack = [(path, value)]
    while stack:
        here, node = stack.pop()
        yield here, node
        if isinstance(node, dict):
            stack.extend((here + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((here + (i,), v) for i, v in enumerate(node))


def _replace(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return root


def _copy(value: Any) -> Any:
    """A deep copy without recursion (values here nest a thousand levels)."""
    if not isinstance(value, (dict, list)):
        return value
    root = type(value)()
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, (dict, list)):
                item_copy = type(item)()
                stack.append((item, item_copy))
            else:
                item_copy = item
            if isinstance(target, dict):
                target[key] = item_copy
            else:
                target.append(item_copy)
    return root


def mutate_value(rng: random.Random, value: Any) -> Any:
    """One to three structural edits of decoded JSON: a node replaced, a key added or dropped."""
    value = _copy(value)
    for _ in range(rng.randint(1, 3)):
        nodes = [(p, n) for p, n in _nodes(value) if len(p) < 40][:400]
        path, node = rng.choice(nodes)
        roll = rng.random()
        if roll < 0.45:
            value = _replace(value, path, _copy(rng.choice(_VALUES)))
        elif roll < 0.8 and isinstance(node, dict):
            node[rng.choice(_SCHEMA_KEYS)] = _copy(rng.choice(_VALUES))
        elif roll < 0.9 and isinstance(node, dict) and node:
            node.pop(rng.choice(list(node)))
        elif isinstance(node, list) and node:
            node.insert(rng.randint(0, len(node)), _copy(rng.choice(node)))
        else:
            value = _replace(value, path, _copy(rng.choice(_VALUES)))
    return value


def _dumps(rng: random.Random, value: Any) -> str | None:
    try:
        return json.dumps(value, ensure_ascii=rng.random() < 0.5)
    except (ValueError, RecursionError, TypeError):
        return None  # a 5,000-digit integer or a 900-deep value the encoder refuses: no input this round


# -- targets -----------------------------------------------------------------------------------------


class Crash(Exception):
    """An exception no caller is promised."""


class _Timeout(Exception):
    pass


def _check_verdict(errors: Any) -> None:
    if not isinstance(errors, list) or not all(isinstance(e, PlanError) for e in errors):
        raise Crash(f"validate returned {type(errors).__name__}, not a list of PlanError")
    for error in errors:
        json.dumps(error.to_dict(), ensure_ascii=False)


@dataclass
class Corpus:
    tool_sets: list[ToolSet]
    tool_docs: list[list[dict[str, Any]]]
    texts: list[str]
    json_plans: list[Any]

    @classmethod
    def default(cls) -> Corpus:
        docs = tool_seeds()
        return cls([tools_from_json(d) for d in docs], docs, list(TEXT_SEEDS), list(JSON_SEEDS))


def fuzz_text(rng: random.Random, corpus: Corpus) -> Callable[[], None]:
    text = mutate_text(rng, rng.choice(corpus.texts), corpus.texts)
    tools = rng.choice(corpus.tool_sets)
    require_join = rng.random() < 0.5

    def run() -> None:
        errors = validate(text, tools, require_join=require_join)
        _check_verdict(errors)
        if errors != check_plan(text, tools, require_join=require_join):  # the screen is only a shortcut
            raise Crash("validate() and the full checks disagree")

    return run


def fuzz_json(rng: random.Random, corpus: Corpus) -> Callable[[], None]:
    plan: Any = mutate_value(rng, rng.choice(corpus.json_plans))
    if rng.random() < 0.4:
        encoded = _dumps(rng, plan)
        if encoded is not None:
            plan = mutate_text(rng, encoded, corpus.texts) if rng.random() < 0.5 else encoded
    tools = rng.choice(corpus.tool_sets)
    return lambda: _check_verdict(validate(plan, tools))


def fuzz_tools(rng: random.Random, corpus: Corpus) -> Callable[[], None]:
    doc: Any = mutate_value(rng, rng.choice(corpus.tool_docs))
    if rng.random() < 0.2:
        encoded = _dumps(rng, doc)
        if encoded is not None:
            with contextlib.suppress(ValueError, RecursionError):  # not JSON any more: mutate the decoded form only
                doc = json.loads(mutate_text(rng, encoded, corpus.texts))
    plans = [
        rng.choice(corpus.texts),
        rng.choice(corpus.json_plans),
        mutate_text(rng, rng.choice(corpus.texts), corpus.texts),
    ]

    def run() -> None:
        try:
            tools = tools_from_json(doc)
        except ToolSpecError:
            return
        for plan in plans:
            _check_verdict(validate(plan, tools))
        for spec in tools.specs:  # a plan calling every function with made-up arguments of every kind
            for value in ("x", 1, 2.5, None, ["$1"], {"a": 1}, "$1", [1, "a", 1]):
                arguments = {name: value for name in spec.param_names}
                _check_verdict(validate([{"name": spec.name, "arguments": arguments}], tools))

    return run


def fuzz_lines(rng: random.Random, corpus: Corpus) -> Callable[[], None]:
    rows = []
    for line_no in range(rng.randint(1, 3)):
        row: dict[str, Any] = {"id": rng.choice([line_no, f"p{line_no}", "\ud800", None, [1, {"a": 2}]])}
        row["plan"] = rng.choice(corpus.texts) if rng.random() < 0.6 else rng.choice(corpus.json_plans)
        if rng.random() < 0.3:
            row["tools"] = rng.choice(corpus.tool_docs)
        rows.append(mutate_value(rng, row) if rng.random() < 0.5 else row)
    lines = [_dumps(rng, r) or "{}" for r in rows]
    if rng.random() < 0.4:
        i = rng.randrange(len(lines))
        lines[i] = mutate_text(rng, lines[i], corpus.texts)
    text = "\n".join(lines) + "\n"
    default_tools = rng.choice([None, *corpus.tool_sets])
    fmt = rng.choice(["auto", "auto", "json", "llmcompiler"])

    def run() -> None:
        out = io.StringIO()
        try:
            validate_text(text, "fuzz.jsonl", default_tools, fmt=fmt, out=out)
        except InputError as exc:
            if "\n" in str(exc):
                raise Crash("an InputError message over several lines") from exc
            return
        for line in out.getvalue().split("\n")[:-1]:
            line.encode("utf-8")  # what the command writes to stdout
            json.loads(line)

    return run


TARGETS: dict[str, tuple[float, Callable[[random.Random, Corpus], Callable[[], None]]]] = {
    "text": (0.35, fuzz_text),
    "json": (0.25, fuzz_json),
    "tools": (0.15, fuzz_tools),
    "line": (0.25, fuzz_lines),
}


# -- the loop ----------------------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str  # crash | hang
    target: str
    key: str  # exception type and innermost planforge frame, or the hang's target
    example: str  # the input, clipped
    count: int = 1


@dataclass
class Report:
    inputs: int = 0
    by_target: dict[str, int] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)
    slowest: float = 0.0
    seconds: float = 0.0

    @property
    def crashes(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.kind == "crash"]

    @property
    def hangs(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.kind == "hang"]


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/planforge/" in f.filename.replace("\\", "/")]
    frame = (ours or frames)[-1]
    name = frame.filename.replace("\\", "/").split("/planforge/")[-1]
    where = f"{type(exc).__name__} at {name}:{frame.lineno} ({frame.name})"
    if frames and frames[-1] is not frame:  # raised inside a dependency: say where, too
        inner = frames[-1]
        where += f" <- {Path(inner.filename).parent.name}/{Path(inner.filename).name}:{inner.lineno}"
    return where


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def run(
    count: int,
    seed: int = 0,
    *,
    corpus: Corpus | None = None,
    abort_seconds: float = 20.0,
    slow_seconds: float | None = HANG_SECONDS,
) -> Report:
    """Generate and run ``count`` inputs (deterministic for a seed); the report keys each distinct problem.

    An input still running after ``abort_seconds`` (wall) is a hang; one that finished but took more than
    ``slow_seconds`` of this thread's CPU is reported as one too (``None``: only the alarm counts, for tests).
    """
    corpus = corpus or Corpus.default()
    rng = random.Random(seed)
    names = list(TARGETS)
    weights = [TARGETS[n][0] for n in names]
    report = Report()
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.process_time()
    try:
        for _ in range(count):
            name = rng.choices(names, weights)[0]
            case = TARGETS[name][1](rng, corpus)
            report.inputs += 1
            report.by_target[name] = report.by_target.get(name, 0) + 1
            signal.setitimer(signal.ITIMER_REAL, abort_seconds)
            begin = time.thread_time()
            try:
                case()
                problem = None
            except _Timeout:
                problem = "hang"
            except Exception as exc:  # noqa: BLE001 - anything escaping is what the fuzzer looks for
                problem = _where(exc)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            spent = time.thread_time() - begin
            report.slowest = max(report.slowest, spent)
            if problem is None and slow_seconds is not None and spent > slow_seconds:
                problem = "hang"
            if problem is not None:
                kind = "hang" if problem == "hang" else "crash"
                key = f"{name}: {problem}" if kind == "hang" else problem
                if key in report.findings:
                    report.findings[key].count += 1
                else:
                    report.findings[key] = Finding(kind, name, key, _describe_case(case))
    finally:
        signal.signal(signal.SIGALRM, previous)
    report.seconds = time.process_time() - started
    return report


def _describe_case(case: Callable[[], None]) -> str:
    cells = getattr(case, "__closure__", None) or ()
    shown = []
    for cell in cells:
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (str, list, dict)):
            text = value if isinstance(value, str) else repr(value)
            shown.append(text[:300] + (f"... ({len(text)} chars)" if len(text) > 300 else ""))
    return " | ".join(shown)[:1000]
