"""Argument checks by each function's JSON Schema: missing, unexpected and mistyped arguments."""

from __future__ import annotations

import reprlib
from typing import Any

from planforge.plan import Plan, Step, named_arguments
from planforge.tools import ToolSet
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.schema_check import FunctionChecker, Mismatch, checker_for


def check_arguments(plan: Plan, tools: ToolSet) -> list[PlanError]:
    errors: list[PlanError] = []
    for step in plan.steps:
        if not step.is_join and step.name in tools:
            errors += check_step_arguments(step, checker_for(tools, step.name))
    return errors


def check_step_arguments(step: Step, checker: FunctionChecker) -> list[PlanError]:
    if step.args:
        named, extra, twice = named_arguments(step, checker.param_names)
    else:  # bound when parsed, as most are
        named, extra, twice = step.kwargs, (), ()
    missing, unexpected, type_errors = checker.problems(named)
    if not (extra or twice or missing or unexpected or type_errors):
        return []
    errors: list[PlanError] = []
    where = f"step {step.index}: {step.name}()"
    takes = ", ".join(checker.param_names) or "none"
    if extra:
        errors.append(
            PlanError(
                ErrorCode.UNEXPECTED_ARGUMENT,
                step.index,
                f"{where} takes {len(checker.param_names)} arguments ({takes}), got {len(step.args)} positional",
            )
        )
    for name in twice:
        errors.append(
            PlanError(
                ErrorCode.UNEXPECTED_ARGUMENT,
                step.index,
                f"{where} argument {name!r} given both by position and by name",
            )
        )
    for name in missing:
        expected = _describe(checker.properties.get(name, {}))
        errors.append(
            PlanError(
                ErrorCode.MISSING_ARGUMENT,
                step.index,
                f"{where} is missing required argument {name!r}" + (f" ({expected})" if expected else ""),
            )
        )
    for name in unexpected:
        errors.append(
            PlanError(
                ErrorCode.UNEXPECTED_ARGUMENT,
                step.index,
                f"{where} got unexpected argument {name!r}; it takes {takes}",
            )
        )
    for error in type_errors:
        errors.append(_type_error(error, step, where))
    return errors


def _type_error(error: Mismatch, step: Step, where: str) -> PlanError:
    path = error.path
    if not path:  # a rule on the arguments together (dependentRequired, minProperties, not...)
        return PlanError(ErrorCode.TYPE_MISMATCH, step.index, f"{where} arguments: {_clip(error.message, 160)}")
    inner = "".join(f"[{_short(p)}]" for p in path[1:])
    expected = _describe(error.schema) if error.validator in ("type", "enum") else _clip(error.message, 160)
    return PlanError(
        ErrorCode.TYPE_MISMATCH,
        step.index,
        f"{where} argument {_short(path[0])}{inner} expected {expected}, got {_show(error.instance)}",
    )


def _describe(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    if "enum" in schema:
        return _clip("one of " + ", ".join(_short(v) for v in schema["enum"][:20]), 300)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict) and schema["items"].get("type"):
        return f"array of {_describe(schema['items'])}"
    return kind or "a value of the declared schema"


def _show(value: Any) -> str:
    kind = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
    return f"{kind.get(type(value), 'null')} {_clip(_short(value), 40)}" if value is not None else "None"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any) -> str:
    """A bounded repr: a message never costs more than a few hundred characters, whatever the value.
    Scalars take the builtin repr (reprlib's costs a microsecond a call, and messages are built often)."""
    kind = type(value)
    if kind is str:
        return repr(value if len(value) <= 80 else value[:80])
    if kind in (int, float, bool) or value is None:
        return repr(value)  # integers in plans stay within float range, so at most 309 digits
    return _CONTAINERS.repr(value)


_CONTAINERS = reprlib.Repr()
_CONTAINERS.maxstring = _CONTAINERS.maxother = 80
_CONTAINERS.maxlist = _CONTAINERS.maxdict = 8
