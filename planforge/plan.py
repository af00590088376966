"""The plan model: ordered calls whose arguments may reference earlier results as ``$K``.

One model, two wire forms:

* LLMCompiler text: ``N. name(args)`` lines, optional ``Thought: ...`` lines, positional and keyword
  Python-literal arguments, an optional final ``join()`` and ``<END_OF_PLAN>``;
* JSON: a list of ``{"name", "arguments"}`` calls (arguments may be a JSON-encoded string) or OpenAI
  ``tool_calls`` entries.

Arguments are read as Python literals, never evaluated. Most plans are valid JSON inside the
parentheses once ``None/True/False`` are spelled the JSON way, so the parser tries the C JSON decoder
first and falls back to :func:`ast.literal_eval` for everything else (single quotes, keywords,
tuples, implicit concatenation...). Both paths give the same values; the property tests hold them to it.
"""

from __future__ import annotations

import ast
import json
import json.scanner
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from planforge.errors import PlanSyntaxError

MAX_PLAN_CHARS = 64 * 1024
JOIN = "join"
END_OF_PLAN = "<END_OF_PLAN>"

# ``$K`` or ``${K}`` anywhere inside a string.
REFERENCE = re.compile(r"\$\{(\d+)\}|\$(\d+)")

_STEP_LINE = re.compile(
    r"(\d+)\s*\.\s*([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)\s*\((.*)\)\s*(<END_OF_PLAN>)?\s*\Z", re.S
)
_THOUGHT = re.compile(r"Thought\s*:\s*(.*)\Z", re.S)
# Double-quoted strings pass through; bare words must be None/True/False; a single quote means
# the literal is not JSON-shaped.
_JSONABLE_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\d[\w.+-]*|[A-Za-z_]\w*|\'')
_PY_TO_JSON = {"None": "null", "True": "true", "False": "false"}
# Cheap pre-test: a bare reference follows an opening bracket, a comma, a colon or '=' (spaces aside).
_MAYBE_BARE_REFERENCE = re.compile(r"(?:^|[\s,(\[{:=])\$")
# A bare ``$K`` outside any string (``summarize_pdf($1)``), as planners often write it.
_STRING_OR_BARE_REFERENCE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|(\$\{?\d+\}?)')


@dataclass(slots=True)
class Step:
    """One call. ``args`` are positional (as written), ``kwargs`` named; binding to a function's
    parameter order needs the tools (:meth:`Plan.bind`, or ``parse_text(..., param_order=...)``).

    ``references`` (the step numbers its arguments mention as ``$K``) is derived on creation when not
    given. Steps are values: nothing in planforge mutates one after creation (not frozen, because frozen
    dataclasses cost several µs per instance on the validation hot path)."""

    index: int
    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    thought: str | None = None
    references: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.references is None:
            refs: list[int] = []
            for value in self.args:
                _collect_references(value, refs)
            for value in self.kwargs.values():
                _collect_references(value, refs)
            self.references = tuple(refs)

    @property
    def is_join(self) -> bool:
        return self.name == JOIN

    def values(self) -> Iterator[Any]:
        yield from self.args
        yield from self.kwargs.values()


@dataclass(frozen=True, slots=True)
class Plan:
    """Ordered steps (``join()`` included when present, as a step) and whether ``<END_OF_PLAN>`` closed it."""

    steps: tuple[Step, ...]
    end_of_plan: bool = False

    @property
    def calls(self) -> tuple[Step, ...]:
        """The steps that call a function (everything but ``join()``)."""
        return tuple(s for s in self.steps if not s.is_join)

    @property
    def has_join(self) -> bool:
        return any(s.is_join for s in self.steps)

    def function_names(self) -> list[str]:
        return [s.name for s in self.steps if not s.is_join]

    def bind(self, param_order: Mapping[str, Sequence[str]]) -> Plan:
        """Move positional arguments to names using each function's parameter order.

        Steps of unknown functions, with more positional arguments than parameters or an argument given
        twice stay as written (the validators report them)."""
        steps = []
        for step in self.steps:
            names = param_order.get(step.name)
            if names is None or not step.args:
                steps.append(step)
                continue
            named, extra, twice = named_arguments(step, names)
            steps.append(step if extra or twice else replace(step, args=(), kwargs=named))
        return Plan(tuple(steps), self.end_of_plan)


def named_arguments(step: Step, param_names: Sequence[str]) -> tuple[dict[str, Any], list[Any], list[str]]:
    """Bind a step's arguments to parameter names.

    Returns ``(named, extra_positional, given_twice)``: arguments by name in parameter order, positional
    arguments beyond the parameter list, and names given both positionally and by keyword. ``named`` is
    the step's own mapping when it has no positional arguments: callers must not mutate it."""
    if not step.args:
        return step.kwargs, [], []  # type: ignore[return-value]
    named: dict[str, Any] = {}
    n = len(param_names)
    for i, value in enumerate(step.args[:n]):
        named[param_names[i]] = value
    extra = list(step.args[n:])
    twice = [k for k in step.kwargs if k in named]
    for key, value in step.kwargs.items():
        if key not in named:
            named[key] = value
    return named, extra, twice


# --------------------------------------------------------------------------------------------------
# references


def references_in(value: Any) -> list[int]:
    """Every step number referenced by ``$K``/``${K}`` inside ``value`` (strings, lists, dicts)."""
    found: list[int] = []
    _collect_references(value, found)
    return found


def _collect_references(value: Any, found: list[int]) -> None:
    kind = type(value)
    if kind is str:
        if "$" in value:
            found.extend(int(a or b) for a, b in REFERENCE.findall(value))
    elif kind is list:
        for item in value:
            _collect_references(item, found)
    elif kind is dict:
        for key, item in value.items():
            _collect_references(key, found)
            _collect_references(item, found)


def whole_reference(value: Any) -> int | None:
    """The step K when ``value`` is exactly ``"$K"`` or ``"${K}"`` (its type is K's return type)."""
    if type(value) is str and value[:1] == "$":
        match = REFERENCE.fullmatch(value)
        if match:
            return int(match.group(1) or match.group(2))
    return None


# --------------------------------------------------------------------------------------------------
# LLMCompiler text


def parse_text(text: str, param_order: Mapping[str, Sequence[str]] | None = None) -> Plan:
    """LLMCompiler text -> :class:`Plan`. Raises :class:`PlanSyntaxError`.

    With ``param_order`` (function name -> parameter names), positional arguments are named as they are
    read, as :meth:`Plan.bind` would do afterwards."""
    if len(text) > MAX_PLAN_CHARS:
        raise PlanSyntaxError(f"plan is {len(text)} characters, over the {MAX_PLAN_CHARS} limit")
    steps: list[Step] = []
    thought: str | None = None
    end_of_plan = False
    for line_no, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if end_of_plan:
            raise PlanSyntaxError(f"line {line_no}: text after {END_OF_PLAN}", len(steps) or None)
        if line == END_OF_PLAN:
            end_of_plan = True
            continue
        match = _STEP_LINE.match(line)
        if match is None:
            thought_match = _THOUGHT.match(line)
            if thought_match is not None:
                thought = thought_match.group(1).strip()
                continue
            raise PlanSyntaxError(
                f"step {len(steps) + 1} (line {line_no}): expected 'N. function(arguments)', got {_clip(line)!r}",
                len(steps) + 1,
            )
        number, name, arg_src, end_marker = match.groups()
        expected = len(steps) + 1
        if int(number) != expected:
            raise PlanSyntaxError(f"step {expected} (line {line_no}): numbered {number}, expected {expected}", expected)
        args, kwargs = parse_arguments(arg_src, expected)
        if param_order is not None and args:
            names = param_order.get(name)
            if (
                names is not None
                and len(args) <= len(names)
                and (not kwargs or kwargs.keys().isdisjoint(names[: len(args)]))
            ):
                named = dict(zip(names, args, strict=False))
                named.update(kwargs)
                args, kwargs = (), named
        if "$" not in arg_src:
            refs: tuple[int, ...] | None = ()
        elif "\\" not in arg_src:  # no escapes: the references in the source are those in the values
            refs = tuple(int(a or b) for a, b in REFERENCE.findall(arg_src))
        else:
            refs = None  # derived from the values
        steps.append(Step(expected, name, args, kwargs, thought, refs))
        thought = None
        if end_marker:
            end_of_plan = True
    return Plan(tuple(steps), end_of_plan)


def parse_arguments(src: str, step: int | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The inside of ``f(...)`` -> (positional values, keyword values), as Python literals."""
    src = src.strip()
    if not src:
        return (), {}
    if "$" in src and _MAYBE_BARE_REFERENCE.search(src):
        src = _STRING_OR_BARE_REFERENCE.sub(_quote_bare_reference, src)
    fast = _parse_arguments_as_json(src)
    if fast is not None:
        return tuple(fast), {}
    return _parse_arguments_as_python(src, step)


def _quote_bare_reference(match: re.Match[str]) -> str:
    bare = match.group(1)
    return f'"{bare}"' if bare else match.group(0)


class _NotJsonShaped(Exception):
    pass


def _jsonable_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token[0].isdigit():
        return token  # a number (its exponent is no bare word); JSON judges its form
    if token[0] == '"':
        if "\\/" in token:  # JSON reads \/ as '/', Python keeps the backslash
            raise _NotJsonShaped
        return token
    replacement = _PY_TO_JSON.get(token)
    if replacement is None:
        raise _NotJsonShaped
    return replacement


def _parse_arguments_as_json(src: str) -> list[Any] | None:
    if not ("true" in src or "false" in src or "null" in src or "\\/" in src):
        # Already JSON-shaped (no None/True/False, no single quotes, no keywords): one C-speed decode.
        values = _decode_json_list("[" + src + "]")
        if values is not None:
            return values
    try:
        converted = _JSONABLE_TOKEN.sub(_jsonable_token, src)
    except _NotJsonShaped:
        return None
    return _decode_json_list("[" + converted + "]")


def _decode_json_list(text: str) -> list[Any] | None:
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    return value if end == len(text) else None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a Python literal")


# Python and JSON agree on these numbers, but JSON's NaN/Infinity are not Python literals.
_JSON_ARGUMENTS = json.JSONDecoder(parse_float=_finite_float, parse_constant=_reject_constant)
_scan_json = json.scanner.make_scanner(_JSON_ARGUMENTS)  # the C scanner, without decode()'s wrappers


def _parse_arguments_as_python(src: str, step: int | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    try:
        tree = ast.parse(f"_({src})", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise PlanSyntaxError(f"step {step}: arguments are not Python literals ({_reason(exc)})", step) from None
    call = tree.body
    if not isinstance(call, ast.Call) or call.func.__class__ is not ast.Name:
        raise PlanSyntaxError(f"step {step}: arguments are not Python literals", step)
    args = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise PlanSyntaxError(f"step {step}: *arguments are not allowed", step)
        args.append(_literal(node, step))
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise PlanSyntaxError(f"step {step}: **arguments are not allowed", step)
        if keyword.arg in kwargs:
            raise PlanSyntaxError(f"step {step}: argument {keyword.arg!r} given twice", step)
        kwargs[keyword.arg] = _literal(keyword.value, step)
    return tuple(args), kwargs


def _literal(node: ast.AST, step: int | None) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        try:
            shown = _clip(ast.unparse(node), 40)
        except (ValueError, RecursionError):  # pragma: no cover - unparse of a parsed node
            shown = type(node).__name__
        raise PlanSyntaxError(f"step {step}: argument {shown} is not a Python literal", step) from None
    try:
        return _to_json_value(value)
    except (TypeError, ValueError) as exc:
        raise PlanSyntaxError(f"step {step}: {exc}", step) from None


def _to_json_value(value: Any) -> Any:
    """Python literal -> JSON-compatible value (tuples become lists); anything else is refused."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite numbers are not allowed")
        return value
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"dictionary keys must be strings, got {type(key).__name__}")
            out[key] = _to_json_value(item)
        return out
    raise TypeError(f"{type(value).__name__} values are not allowed")


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    return True


def format_value(value: Any) -> str:
    """A JSON-compatible value as a canonical Python literal (double-quoted strings)."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"{type(value).__name__} is not JSON-compatible")


def format_step(step: Step) -> str:
    parts = [format_value(v) for v in step.args]
    parts += [f"{k}={format_value(v)}" for k, v in step.kwargs.items()]
    return f"{step.index}. {step.name}({', '.join(parts)})"


def to_text(plan: Plan, *, thoughts: bool = True) -> str:
    """:class:`Plan` -> canonical LLMCompiler text (the inverse of :func:`parse_text`)."""
    lines: list[str] = []
    for step in plan.steps:
        if thoughts and step.thought is not None:
            lines.append(f"Thought: {step.thought}")
        lines.append(format_step(step))
    if plan.end_of_plan:
        lines.append(END_OF_PLAN)
    return "\n".join(lines)


def positional(plan: Plan, param_order: Mapping[str, Sequence[str]]) -> Plan:
    """Rewrite named arguments positionally (the LLMCompiler convention) where the names form a prefix
    of the function's parameter order; the rest stay keywords."""
    steps = []
    for step in plan.steps:
        names = param_order.get(step.name)
        if names is None:
            steps.append(step)
            continue
        named, extra, _ = named_arguments(step, names)
        named = dict(named)  # named_arguments may hand back the step's own mapping
        args: list[Any] = []
        for name in names:
            if name not in named:
                break
            args.append(named.pop(name))
        steps.append(replace(step, args=tuple(args + extra), kwargs=named))
    return Plan(tuple(steps), plan.end_of_plan)


# --------------------------------------------------------------------------------------------------
# JSON


def parse_calls(data: Any) -> Plan:
    """A decoded JSON list of calls (``{"name", "arguments"}`` or OpenAI ``tool_calls`` entries, or an
    object with a ``tool_calls`` list) -> :class:`Plan`. Raises :class:`PlanSyntaxError`."""
    if isinstance(data, Mapping) and isinstance(data.get("tool_calls"), list):
        data = data["tool_calls"]
    if not isinstance(data, list):
        raise PlanSyntaxError(f"a JSON plan must be a list of calls, got {type(data).__name__}")
    steps: list[Step] = []
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, Mapping):
            raise PlanSyntaxError(f"step {position}: a call must be an object", position)
        call = entry.get("function") if isinstance(entry.get("function"), Mapping) else entry
        name = call.get("name")
        if not isinstance(name, str) or not name:
            raise PlanSyntaxError(f"step {position}: call has no function name", position)
        arguments = call.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):
                raise PlanSyntaxError(f"step {position}: arguments are not valid JSON", position) from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            raise PlanSyntaxError(f"step {position}: arguments must be an object", position)
        if not _all_finite(dict(arguments)):
            raise PlanSyntaxError(f"step {position}: non-finite numbers are not allowed", position)
        thought = entry.get("thought")
        steps.append(Step(position, name, (), dict(arguments), thought if isinstance(thought, str) else None))
    return Plan(tuple(steps))


def to_calls(plan: Plan) -> list[dict[str, Any]]:
    """:class:`Plan` -> list of ``{"name", "arguments"}`` (the inverse of :func:`parse_calls`).

    Positional arguments must be bound first (:meth:`Plan.bind`): JSON calls name every argument."""
    out = []
    for step in plan.steps:
        if step.args:
            raise ValueError(f"step {step.index} has positional arguments; bind the plan to its tools first")
        call: dict[str, Any] = {"name": step.name, "arguments": dict(step.kwargs)}
        if step.thought is not None:
            call["thought"] = step.thought
        out.append(call)
    return out


def to_tool_calls(plan: Plan, *, id_prefix: str = "call_") -> list[dict[str, Any]]:
    """OpenAI/TRL assistant ``tool_calls`` for the function-calling steps (``join()`` is implicit there)."""
    calls = []
    for step in plan.calls:
        if step.args:
            raise ValueError(f"step {step.index} has positional arguments; bind the plan to its tools first")
        calls.append(
            {
                "id": f"{id_prefix}{step.index}",
                "type": "function",
                "function": {"name": step.name, "arguments": dict(step.kwargs)},
            }
        )
    return calls


# --------------------------------------------------------------------------------------------------
# any form


def parse_plan(source: Any, fmt: str = "auto", param_order: Mapping[str, Sequence[str]] | None = None) -> Plan:
    """Text, a JSON string or already-decoded JSON -> :class:`Plan`. ``fmt``: auto | llmcompiler | json."""
    if fmt not in ("auto", "llmcompiler", "json"):
        raise ValueError(f"unknown plan format {fmt!r}")
    if isinstance(source, Plan):
        return source
    if not isinstance(source, str):
        if fmt == "llmcompiler":
            raise PlanSyntaxError("expected LLMCompiler text, got JSON")
        return parse_calls(source)
    if len(source) > MAX_PLAN_CHARS:
        raise PlanSyntaxError(f"plan is {len(source)} characters, over the {MAX_PLAN_CHARS} limit")
    stripped = source.lstrip()
    if fmt == "json" or (fmt == "auto" and stripped[:1] in ("[", "{")):
        try:
            data = json.loads(source)
        except (ValueError, RecursionError):
            raise PlanSyntaxError("plan is not valid JSON") from None
        return parse_calls(data)
    return parse_text(source, param_order)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg or "syntax error"
    if isinstance(exc, (RecursionError, MemoryError)):
        return "nested too deeply"
    return str(exc) or type(exc).__name__
