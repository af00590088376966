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
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planforge.errors import PlanSyntaxError

#: Limits on what a plan may be, so that reading one costs bounded time and memory and no reader recurses
#: without bound. Text plans are LLMCompiler text; JSON plans are JSON text, or already-decoded JSON, whose
#: size counts one per value plus the characters of its strings and keys.
MAX_PLAN_CHARS = 64 * 1024
MAX_JSON_PLAN_CHARS = 256 * 1024
#: Lists and objects inside one argument value, e.g. ``[[1]]`` is 2.
MAX_NESTING = 32
#: ``$K`` with more digits than this names no step of any plan (plans have far fewer steps).
MAX_STEP_DIGITS = 9
#: Integers must convert to a float, as every JSON reader can take them (larger floats are refused too).
MAX_INTEGER = int(sys.float_info.max)

JOIN = "join"
END_OF_PLAN = "<END_OF_PLAN>"

# ``$K`` or ``${K}`` anywhere inside a string.
REFERENCE = re.compile(r"\$\{(\d+)\}|\$(\d+)")
#: What a ``$K`` of more than :data:`MAX_STEP_DIGITS` digits stands for: a step no plan has.
BEYOND_ANY_STEP = 10**MAX_STEP_DIGITS

# Every pattern here runs in linear time on any input. Step lines are split by hand. A string token may
# run unterminated to the end of the text: its closing quote is optional, so the greedy loop before it never
# gives characters back, and a string that is never closed is consumed once instead of being rescanned from
# every later quote (which made ``open_note("\"\"\"...)`` quadratic).
_STEP_HEAD = re.compile(r"(\d+)\s*\.\s*([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)\s*\(")
_THOUGHT = re.compile(r"Thought\s*:\s*(.*)\Z", re.S)
# Double-quoted strings pass through; bare words must be None/True/False; a single quote means
# the literal is not JSON-shaped. Group 1 is a string's closing quote (absent: unterminated).
_JSONABLE_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(")?|\d[\w.+-]*|[A-Za-z_]\w*|\'', re.S)
_PY_TO_JSON = {"None": "null", "True": "true", "False": "false"}
# Cheap pre-test: a bare reference follows an opening bracket, a comma, a colon or '=' (spaces aside).
_MAYBE_BARE_REFERENCE = re.compile(r"(?:^|[\s,(\[{:=])\$")
# A bare ``$K`` outside any string (``summarize_pdf($1)``), as planners often write it. Triple-quoted
# strings come first: Python reads ``"""a"b"""`` as one string.
_STRING_OR_BARE_REFERENCE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:""")?|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*(?:\'\'\')?'
    r'|"(?:[^"\\]|\\.)*"?|\'(?:[^\'\\]|\\.)*\'?|(\$\{?\d+\}?)',
    re.S,
)
# Where a parsed value might break a limit; only then are the values walked.
_LONG_DIGITS = re.compile(r"(?<!\d)\d{309}")


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
    #: whether this is the final ``join()``; set on creation (the checks ask it of every step, often)
    is_join: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.is_join = self.name == JOIN
        if self.references is None:
            refs: list[int] = []
            for value in self.args:
                _collect_references(value, refs)
            for value in self.kwargs.values():
                _collect_references(value, refs)
            self.references = tuple(refs)

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
            if extra or twice:
                steps.append(step)
            else:  # the same values, so the same references
                steps.append(Step(step.index, step.name, (), named, step.thought, step.references))
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


def step_number(digits: str) -> int:
    """The step a ``$K`` names; :data:`BEYOND_ANY_STEP` for more digits than any plan's steps have (Python
    refuses to read integers of over 4,300 digits, and such a K would be no step anyway)."""
    if len(digits) <= MAX_STEP_DIGITS:
        return int(digits)
    digits = digits.lstrip("0")
    return int(digits or "0") if len(digits) <= MAX_STEP_DIGITS else BEYOND_ANY_STEP


def references_in_text(text: str) -> list[int]:
    """The step numbers of every ``$K``/``${K}`` in ``text`` (a string value, or argument source text)."""
    found = REFERENCE.findall(text)
    try:
        refs = [int(a or b) for a, b in found]  # the same as step_number's, and cheaper, up to 4,300 digits
    except ValueError:
        return [step_number(a or b) for a, b in found]
    return refs if not refs or max(refs) < BEYOND_ANY_STEP else [min(k, BEYOND_ANY_STEP) for k in refs]


def _collect_references(value: Any, found: list[int]) -> None:
    kind = type(value)
    if kind is str:
        if "$" in value:
            found.extend(references_in_text(value))
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
            return step_number(match.group(1) or match.group(2))
    return None


# --------------------------------------------------------------------------------------------------
# JSON values: the one shape every argument has


def json_value_problem(value: Any, *, max_depth: int, max_size: int | None = None) -> tuple[list[Any], str] | None:
    """Why ``value`` is not a bounded JSON value, or None when it is: ``(path, problem)`` for its first part
    that is not JSON (a set, a tuple, a non-string key), a non-finite number, an integer beyond float range,
    nesting deeper than ``max_depth`` (a scalar is 0, ``[1]`` is 1) or a size over ``max_size`` (one per value
    plus the characters of strings and keys). Iterative: any depth is safe to ask about."""
    budget = max_size if max_size is not None else -1
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]  # value, depth, (parent entry, key) for the path
    while stack:
        entry = stack.pop()
        item, depth, _ = entry
        kind = type(item)
        problem = None
        if kind is str:
            budget -= len(item) + 1
        elif kind is dict or kind is list:
            budget -= 1
            if depth >= max_depth:
                problem = f"nested deeper than {max_depth} levels"
            elif kind is dict:
                for key, child in item.items():
                    if type(key) is not str:
                        problem = f"object keys must be strings, got {type(key).__name__}"
                        break
                    budget -= len(key)
                    stack.append((child, depth + 1, (entry, key)))
            else:
                stack.extend((child, depth + 1, (entry, i)) for i, child in enumerate(item))
        elif kind is float:
            budget -= 1
            if not math.isfinite(item):
                problem = "non-finite numbers are not allowed"
        elif kind is int:
            budget -= 1
            if not -MAX_INTEGER <= item <= MAX_INTEGER:
                problem = f"integers beyond ±{sys.float_info.max:.4g} are not allowed"
        elif kind is bool or item is None:
            budget -= 1
        else:
            problem = f"{kind.__name__} values are not allowed"
        if problem is None and max_size is not None and budget < 0:
            problem = f"over the size limit of {max_size:,}"
        if problem is not None:
            return _path_of(entry), problem
    return None


def _path_of(entry: tuple[Any, int, Any]) -> list[Any]:
    path = []
    while entry[2] is not None:
        entry, key = entry[2]
        path.append(key)
    return path[::-1]


def _check_values(values: Sequence[Any], step: int | None, budget: int | None = None) -> None:
    """Raise :class:`PlanSyntaxError` unless every argument value is a JSON value within the limits."""
    found = json_value_problem(list(values), max_depth=MAX_NESTING + 1, max_size=budget)
    if found is not None:
        path, problem = found
        if problem.startswith("nested"):
            problem = f"arguments nest deeper than {MAX_NESTING} levels"
        raise PlanSyntaxError(f"step {step}: {problem}", step)


# --------------------------------------------------------------------------------------------------
# LLMCompiler text


def parse_text(text: str, param_order: Mapping[str, Sequence[str]] | None = None) -> Plan:
    """LLMCompiler text -> :class:`Plan`. Raises :class:`PlanSyntaxError`.

    With ``param_order`` (function name -> parameter names), positional arguments are named as they are
    read, as :meth:`Plan.bind` would do afterwards. Text whose every line is a plain step line is split
    in one pass (:func:`plain_step_lines`); anything else is read line by line, which also words the errors."""
    if len(text) > MAX_PLAN_CHARS:
        raise PlanSyntaxError(f"plan is {len(text):,} characters, over the {MAX_PLAN_CHARS:,} limit for text plans")
    lines = plain_step_lines(text)
    if lines is None or len(lines) >= len(STEP_NUMBERS):
        return _parse_lines(text, param_order)
    last = len(lines)
    steps = []
    for index, (number, name, arg_src, end_marker) in enumerate(lines, start=1):
        if number != STEP_NUMBERS[index] or (end_marker and index != last):
            return _parse_lines(text, param_order)  # "01." is step 1; a misplaced marker is an error to word
        steps.append(_read_step(index, name, arg_src, None, param_order))
    return Plan(tuple(steps), bool(lines[-1][3]))


#: Step numbers as plans spell them, for a string comparison instead of int() per line (longer plans are
#: read line by line).
STEP_NUMBERS = tuple(str(n) for n in range(1000))


def _parse_lines(text: str, param_order: Mapping[str, Sequence[str]] | None) -> Plan:
    """The line-by-line reader: any text :func:`parse_text` accepts, and the message for any it refuses."""
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
        step_line = _split_step_line(line)
        if step_line is None:
            thought_match = _THOUGHT.match(line)
            if thought_match is not None:
                thought = thought_match.group(1).strip()
                continue
            raise PlanSyntaxError(
                f"step {len(steps) + 1} (line {line_no}): expected 'N. function(arguments)', got {_clip(line)!r}",
                len(steps) + 1,
            )
        number, name, arg_src, end_marker = step_line
        expected = len(steps) + 1
        if len(number) > MAX_STEP_DIGITS or int(number) != expected:
            raise PlanSyntaxError(
                f"step {expected} (line {line_no}): numbered {_clip(number, 20)}, expected {expected}", expected
            )
        steps.append(_read_step(expected, name, arg_src, thought, param_order))
        thought = None
        if end_marker:
            end_of_plan = True
    return Plan(tuple(steps), end_of_plan)


def _read_step(
    index: int, name: str, arg_src: str, thought: str | None, param_order: Mapping[str, Sequence[str]] | None
) -> Step:
    args, kwargs = parse_arguments(arg_src, index)
    if param_order is not None and args:
        names = param_order.get(name)
        # Left as written (for the checks to report) with too many positional arguments or one given twice.
        if names is not None and len(args) <= len(names) and kwargs.keys().isdisjoint(names[: len(args)]):
            named = dict(zip(names, args, strict=False))
            named.update(kwargs)
            args, kwargs = (), named
    # Without escapes the references in the source are those in the values; with one, "\u0024" may be a $.
    if "\\" in arg_src:
        refs: tuple[int, ...] | None = None  # derived from the values
    else:
        refs = tuple(references_in_text(arg_src)) if "$" in arg_src else ()
    return Step(index, name, args, kwargs, thought, refs)


def _split_step_line(line: str) -> tuple[str, str, str, bool] | None:
    """``N. name(arguments)`` with an optional ``<END_OF_PLAN>`` -> (N, name, arguments, end marker), or None.

    Split by hand rather than by one pattern: ``\\((.*)\\)\\s*(<END_OF_PLAN>)?\\s*\\Z`` backtracks
    quadratically over long runs of spaces."""
    head = _STEP_HEAD.match(line)
    if head is None:
        return None
    rest = line[head.end() :]
    end_marker = rest.endswith(END_OF_PLAN)
    if end_marker:
        rest = rest[: -len(END_OF_PLAN)].rstrip()
    if not rest.endswith(")"):
        return None
    return head.group(1), head.group(2), rest[:-1], end_marker


# A step line with nothing but spaces, tabs and carriage returns around its parts: how models write plans.
# The optional marker is one group after the closing parenthesis, so no two space runs compete (linear).
_PLAIN_STEP_LINE = re.compile(
    r"^[ \t\r]*(\d+)[ \t\r]*\.[ \t\r]*([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)[ \t\r]*"
    r"\((.*)\)[ \t\r]*(?:(<END_OF_PLAN>)[ \t\r]*)?$",
    re.M,
)


def plain_step_lines(text: str) -> list[tuple[str, str, str, str]] | None:
    """``(number, name, arguments, end marker)`` of every line in one pass, when every line of ``text`` is
    a plain step line (a final ``<END_OF_PLAN>`` line and trailing blank lines aside); None otherwise.

    The fast path's view of a plan: :func:`parse_text` reads such text to the same steps (a property test
    holds the two together), at a fraction of the cost of reading line by line."""
    if len(text) > MAX_PLAN_CHARS:
        return None
    body = text.rstrip(" \t\r\n")
    if body.endswith(END_OF_PLAN) and body[: -len(END_OF_PLAN)].rstrip(" \t\r").endswith("\n"):
        body = body[: -len(END_OF_PLAN)].rstrip(" \t\r\n")
        marker = END_OF_PLAN
    else:
        marker = ""
    lines = _PLAIN_STEP_LINE.findall(body)
    if not lines or len(lines) != body.count("\n") + 1:
        return None
    if marker:
        if lines[-1][3]:
            return None  # the marker twice
        lines[-1] = (*lines[-1][:3], marker)
    return lines


def parse_arguments(src: str, step: int | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The inside of ``f(...)`` -> (positional values, keyword values), as Python literals."""
    values = None
    if "true" not in src and "false" not in src and "null" not in src and "\\/" not in src:
        # Most arguments are JSON as written (no None/True/False, single quotes or keywords): decode them
        # at C speed, here rather than in a helper, as this runs once per step of every plan.
        text = "[" + src + "]"
        try:
            values, end = _scan_json(text, 0)
        except (StopIteration, ValueError, RecursionError):
            values = None
        else:
            values = values if end == len(text) else None
    if values is None:
        values = _parse_converted_json(src)
        if values is None and "$" in src and _MAYBE_BARE_REFERENCE.search(src):
            # A bare $K is never JSON, so quoting it first could not change a text that decodes as it is.
            src = _STRING_OR_BARE_REFERENCE.sub(_quote_bare_reference, src)
            values = _parse_arguments_as_json(src)
        if values is None:
            return _parse_arguments_as_python(src.strip(), step)
    if len(src) > 2 * MAX_NESTING and _may_break_limits(src):  # deeper nesting needs that many brackets
        _check_values(values, step)
    return tuple(values), {}


def _may_break_limits(src: str) -> bool:
    """Could values read from ``src`` nest too deeply or hold a too large integer? (Cheap, and exact enough:
    nesting needs more than MAX_NESTING brackets, an integer beyond float range at least 309 digits.)"""
    return src.count("[") + src.count("{") > MAX_NESTING or (len(src) > 308 and _LONG_DIGITS.search(src) is not None)


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
        if match.group(1) is None or "\\/" in token:  # unterminated; JSON reads \/ as '/', Python keeps the \
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
    return _parse_converted_json(src)


def _parse_converted_json(src: str) -> list[Any] | None:
    """The arguments as JSON once None/True/False are spelled the JSON way, or None if that is not enough."""
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
        with warnings.catch_warnings():
            # ``'\d'`` or ``1if x`` warn on stderr, and turn into errors where warnings are errors: the verdict
            # must not depend on the warning filters.
            warnings.simplefilter("ignore")
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
    _check_values(args + list(kwargs.values()), step)
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
    """Python literal -> JSON-compatible value (tuples become lists); anything else is refused. Literals
    nest at most 200 deep (the Python parser's own limit), so recursing here is safe."""
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


#: a string as a JSON string literal, exactly ``json.dumps(value, ensure_ascii=False)`` without its per-call set-up
#: (the encoder's own C function; a plan's text is mostly quoted strings)
_quoted = json.encoder.encode_basestring


def format_value(value: Any) -> str:
    """A JSON-compatible value as a canonical Python literal (double-quoted strings)."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, str):
        return _quoted(value)
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
        # the same values, so the same references (a direct call: ``dataclasses.replace`` costs 4x as much)
        steps.append(Step(step.index, step.name, tuple(args + extra), named, step.thought, step.references))
    return Plan(tuple(steps), plan.end_of_plan)


# --------------------------------------------------------------------------------------------------
# JSON


def parse_calls(data: Any) -> Plan:
    """A decoded JSON list of calls (``{"name", "arguments"}`` or OpenAI ``tool_calls`` entries, or an
    object with a ``tool_calls`` list) -> :class:`Plan`. Raises :class:`PlanSyntaxError`.

    The arguments are held to the limits of JSON plan text (:data:`MAX_JSON_PLAN_CHARS` as a size,
    :data:`MAX_NESTING`) before anything else reads them."""
    if isinstance(data, Mapping) and isinstance(data.get("tool_calls"), list):
        data = data["tool_calls"]
    if not isinstance(data, list):
        raise PlanSyntaxError(f"a JSON plan must be a list of calls, got {type(data).__name__}")
    budget = MAX_JSON_PLAN_CHARS
    calls: list[tuple[str, Mapping[str, Any], str | None]] = []
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, Mapping):
            raise PlanSyntaxError(f"step {position}: a call must be an object", position)
        call = entry.get("function") if isinstance(entry.get("function"), Mapping) else entry
        name = call.get("name")
        if not isinstance(name, str) or not name:
            raise PlanSyntaxError(f"step {position}: call has no function name", position)
        thought = entry.get("thought")
        thought = thought if isinstance(thought, str) else None
        arguments = call.get("arguments", {})
        budget -= len(name) + (len(thought) if thought else 0) + (len(arguments) if isinstance(arguments, str) else 0)
        if budget < 0:
            raise PlanSyntaxError(_over_json_limit())
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):
                raise PlanSyntaxError(f"step {position}: arguments are not valid JSON", position) from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            raise PlanSyntaxError(f"step {position}: arguments must be an object", position)
        calls.append((name, arguments, thought))
    arguments_by_step = [dict(arguments) for _, arguments, _ in calls]
    found = json_value_problem(arguments_by_step, max_depth=MAX_NESTING + 2, max_size=max(budget, 0))
    if found is not None:
        path, problem = found
        if problem.startswith("over the size"):
            raise PlanSyntaxError(_over_json_limit())
        step = path[0] + 1 if path else None
        if problem.startswith("nested"):
            problem = f"arguments nest deeper than {MAX_NESTING} levels"
        raise PlanSyntaxError(f"step {step}: {problem}", step)
    steps = [
        Step(position, name, (), arguments, thought)
        for position, ((name, _, thought), arguments) in enumerate(zip(calls, arguments_by_step, strict=True), 1)
    ]
    return Plan(tuple(steps))


def _over_json_limit() -> str:
    return f"JSON plan is over the {MAX_JSON_PLAN_CHARS:,} limit (characters of text, or values and characters)"


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
    if fmt == "json" or (fmt == "auto" and _JSON_START.match(source)):
        if len(source) > MAX_JSON_PLAN_CHARS:
            raise PlanSyntaxError(
                f"plan is {len(source):,} characters, over the {MAX_JSON_PLAN_CHARS:,} limit for JSON plans"
            )
        try:
            data = json.loads(source)
        except RecursionError:
            raise PlanSyntaxError(f"plan is not valid JSON (nested deeper than {MAX_NESTING} levels)") from None
        except ValueError:
            raise PlanSyntaxError("plan is not valid JSON") from None
        return parse_calls(data)
    return parse_text(source, param_order)


_JSON_START = re.compile(r"\s*[\[{]")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg or "syntax error"
    if isinstance(exc, (RecursionError, MemoryError)):
        return "nested too deeply"
    return str(exc) or type(exc).__name__
