"""Argument checks by each function's JSON Schema: missing, unexpected and mistyped arguments."""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any

from planforge.plan import Plan, Step, named_arguments
from planforge.tools import ToolSet
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.schema_check import FunctionChecker, checker_for

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


def check_arguments(plan: Plan, tools: ToolSet) -> list[PlanError]:
    errors: list[PlanError] = []
    for step in plan.steps:
        if step.is_join or step.name not in tools:
            continue
        checker = checker_for(tools, step.name)
        errors.extend(check_step_arguments(step, checker))
    return errors


def check_step_arguments(step: Step, checker: FunctionChecker) -> list[PlanError]:
    named, extra, twice = named_arguments(step, checker.param_names)
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


def _type_error(error: ValidationError, step: Step, where: str) -> PlanError:
    path = list(error.absolute_path)
    if not path:  # a rule on the arguments together (dependentRequired, minProperties, not...)
        return PlanError(ErrorCode.TYPE_MISMATCH, step.index, f"{where} arguments: {_clip(error.message, 160)}")
    inner = "".join(f"[{_SHORT.repr(p)}]" for p in path[1:])
    expected = _describe(error.schema) if error.validator in ("type", "enum") else _clip(error.message, 160)
    return PlanError(
        ErrorCode.TYPE_MISMATCH,
        step.index,
        f"{where} argument {_SHORT.repr(path[0])}{inner} expected {expected}, got {_show(error.instance)}",
    )


def _describe(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    if "enum" in schema:
        return _clip("one of " + ", ".join(_SHORT.repr(v) for v in schema["enum"][:20]), 300)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict) and schema["items"].get("type"):
        return f"array of {_describe(schema['items'])}"
    return kind or "a value of the declared schema"


def _show(value: Any) -> str:
    kind = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
    return f"{kind.get(type(value), 'null')} {_clip(_SHORT.repr(value), 40)}" if value is not None else "None"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Bounded reprs: a message never costs more than a few hundred characters, whatever the value.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxdict = 8
