"""Validators: small pure checks over (plan, tools) returning typed errors, plus plan equivalence.

:func:`validate` runs every check; each family lives in its own module so a recipe or a caller can
run or replace one alone. :func:`judge` is what every stage calls: parse, validate, compare with a reference
(the graph, and with the recipe's key arguments, the arguments: :mod:`~planforge.validators.arguments_match`).
"""

from planforge.validators.arguments_match import (
    FREE_TEXT_MODES,
    ArgumentMatch,
    KeyArguments,
    arguments_match,
    match_arguments,
)
from planforge.validators.equivalence import ToolOverlap, plan_graph, plans_equivalent, tool_overlap
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.judge import Verdict, judge
from planforge.validators.pipeline import Rule, check_plan, validate

__all__ = [
    "FREE_TEXT_MODES",
    "ArgumentMatch",
    "ErrorCode",
    "KeyArguments",
    "PlanError",
    "Rule",
    "ToolOverlap",
    "Verdict",
    "arguments_match",
    "check_plan",
    "judge",
    "match_arguments",
    "plan_graph",
    "plans_equivalent",
    "tool_overlap",
    "validate",
]
