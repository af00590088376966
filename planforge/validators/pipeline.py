"""Run every check over one plan. Never raises on bad input: problems come back as :class:`PlanError`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from planforge.plan import Plan, PlanSyntaxError, parse_plan
from planforge.tools import ToolSet
from planforge.validators.arguments import check_arguments
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.references import check_acyclic, check_reference_types, check_references
from planforge.validators.screen import screen_for
from planforge.validators.structure import check_functions_known, check_join, check_not_empty

#: A recipe-level rule: (plan, tools, context) -> errors with code ``rule``. ``context`` carries what
#: the plan alone does not say (the request text, the example's fixed "now").
Rule = Callable[[Plan, ToolSet, Mapping[str, Any]], list[PlanError]]

_CHECKS = (
    check_functions_known,
    check_references,
    check_acyclic,
    check_arguments,
    check_reference_types,
)


def validate(
    plan: Plan | str | list | dict,
    tools: ToolSet,
    *,
    fmt: str = "auto",
    require_join: bool = False,
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    no_call: bool = False,
) -> list[PlanError]:
    """All errors of ``plan`` (text, JSON or a parsed :class:`Plan`) against the offered ``tools``.

    ``no_call``: the example is marked no-call (``meta.no_call``: no offered function serves its request), so the
    empty plan is valid there and a call is an ``unexpected_call``; elsewhere the empty plan is an ``empty_plan``.

    Plain LLMCompiler text goes through :mod:`~planforge.validators.screen` first (not on a no-call example, where
    a plan the screen passes is still an error); a plan it shows valid has no errors to find, anything else gets
    :func:`check_plan`."""
    if not no_call and type(plan) is str and fmt != "json" and not rules and screen_for(tools)(plan, require_join):
        return []
    return check_plan(plan, tools, fmt=fmt, require_join=require_join, rules=rules, context=context, no_call=no_call)


def check_plan(
    plan: Plan | str | list | dict,
    tools: ToolSet,
    *,
    fmt: str = "auto",
    require_join: bool = False,
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    no_call: bool = False,
) -> list[PlanError]:
    """Every check, in full, with no shortcut: what :func:`validate` answers, and the reference its screen is
    tested against."""
    if not isinstance(plan, Plan):
        try:
            plan = parse_plan(plan, fmt, tools.param_order)
        except PlanSyntaxError as exc:
            return [PlanError(ErrorCode.SYNTAX, exc.step, str(exc))]
    errors: list[PlanError] = check_not_empty(plan, tools, no_call=no_call)
    for check in _CHECKS:
        errors.extend(check(plan, tools))
    errors.extend(check_join(plan, tools, require_join=require_join))
    if rules:
        ctx = context or {}
        plan = plan.bind(tools.param_order)  # rules read arguments by name
        for rule in rules:
            errors.extend(rule(plan, tools, ctx))
    return errors
