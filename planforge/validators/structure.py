"""Checks on the shape of a plan: is there anything to do, are the functions offered, is join() last."""

from __future__ import annotations

from planforge.plan import Plan
from planforge.tools import ToolSet
from planforge.validators.errors import ErrorCode, PlanError


def check_not_empty(plan: Plan, tools: ToolSet, *, no_call: bool = False) -> list[PlanError]:
    """A plan calls something, unless its request is marked no-call (no offered function serves it): then the
    empty plan (``join()`` alone, or nothing) is the one right answer and any call is an error."""
    if no_call:
        first = next((step for step in plan.steps if not step.is_join), None)
        if first is None:
            return []
        message = (
            f"step {first.index}: {first.name}() is called, but no offered function serves this request "
            "(a no-call example: the plan is join() alone)"
        )
        return [PlanError(ErrorCode.UNEXPECTED_CALL, first.index, message)]
    if any(not step.is_join for step in plan.steps):
        return []
    return [PlanError(ErrorCode.EMPTY_PLAN, None, "the plan calls no function")]


def check_functions_known(plan: Plan, tools: ToolSet) -> list[PlanError]:
    errors = []
    for step in plan.steps:
        if not step.is_join and step.name not in tools:
            offered = ", ".join(tools) or "none"
            errors.append(
                PlanError(
                    ErrorCode.UNKNOWN_FUNCTION,
                    step.index,
                    f"step {step.index}: {step.name}() is not among the offered functions ({offered})",
                )
            )
    return errors


def check_join(plan: Plan, tools: ToolSet, *, require_join: bool = False) -> list[PlanError]:
    errors = []
    joins = [s for s in plan.steps if s.is_join]
    last = plan.steps[-1].index if plan.steps else None
    for position, step in enumerate(joins):
        if position > 0:
            errors.append(PlanError(ErrorCode.JOIN, step.index, f"step {step.index}: a second join()"))
        elif step.index != last:
            errors.append(PlanError(ErrorCode.JOIN, step.index, f"step {step.index}: join() must be the last step"))
        if step.args or step.kwargs:
            errors.append(PlanError(ErrorCode.JOIN, step.index, f"step {step.index}: join() takes no arguments"))
    if require_join and not joins and plan.steps:
        errors.append(PlanError(ErrorCode.JOIN, None, "the plan must end with join()"))
    return errors
