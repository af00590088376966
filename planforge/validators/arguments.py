"""Argument checks by each function's JSON Schema: missing, unexpected and mistyped arguments."""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError

from planforge.plan import Plan, Step, named_arguments
from planforge.tools import ToolSet
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.schema_check import FunctionChecker, checker_for


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
    argument = path[0] if path else None
    inner = "".join(f"[{p!r}]" for p in path[1:])
    expected = _describe(error.schema) if error.validator in ("type", "enum") else error.message
    return PlanError(
        ErrorCode.TYPE_MISMATCH,
        step.index,
        f"{where} argument {argument!r}{inner} expected {expected}, got {_show(error.instance)}",
    )


def _describe(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict) and schema["items"].get("type"):
        return f"array of {_describe(schema['items'])}"
    return kind or "a value of the declared schema"


def _show(value: Any) -> str:
    kind = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"{kind.get(type(value), 'null')} {shown}" if value is not None else "None"
