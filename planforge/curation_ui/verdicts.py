"""The validator verdict of one plan as written: parsed?, its errors, equivalent to the reference?

Pairs (``gen pairs``) record one for each side of a pair; the review pull re-checks corrected plans with the
same function, so a plan is judged the same way everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from planforge.generator.records import parse_row_plan
from planforge.plan import Plan, PlanSyntaxError
from planforge.tools import ToolSet
from planforge.validators import ErrorCode, PlanError, Rule, plans_equivalent, validate


@dataclass(frozen=True)
class Verdict:
    """``plan`` is None when the text could not be parsed (then ``errors`` holds the one syntax error)."""

    plan: Plan | None
    errors: tuple[PlanError, ...] = ()
    equivalent: bool | None = None  # None: no reference to compare with
    codes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(dict.fromkeys(e.code.value for e in self.errors)))

    @property
    def valid(self) -> bool:
        return not self.errors

    def error_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.errors]


def judge(
    plan_or_text: Plan | str,
    tools: ToolSet,
    *,
    reference: Plan | None = None,
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    require_join: bool = True,
) -> Verdict:
    """Parse (when text), validate and compare with ``reference`` (DAG isomorphism)."""
    if isinstance(plan_or_text, Plan):
        plan = plan_or_text.bind(tools.param_order)
    else:
        try:
            plan = parse_row_plan(plan_or_text, tools)
        except PlanSyntaxError as exc:
            return Verdict(None, (PlanError(ErrorCode.SYNTAX, exc.step, str(exc)),), False if reference else None)
    errors = tuple(validate(plan, tools, require_join=require_join, rules=rules, context=context))
    equivalent = plans_equivalent(plan, reference) if reference is not None else None
    return Verdict(plan, errors, equivalent)


@lru_cache(maxsize=32)
def recipe_rules(recipe: str) -> tuple[Rule, ...]:
    """The rules of a recipe known by name or path; none when it cannot be loaded (a foreign dataset)."""
    if not recipe:
        return ()
    from planforge.recipes.loader import RecipeError, load_recipe

    try:
        return tuple(load_recipe(recipe).rule_functions())
    except (RecipeError, OSError, ValueError):
        return ()
