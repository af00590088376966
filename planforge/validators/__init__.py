"""Validators: small pure checks over (plan, tools) returning typed errors, plus plan equivalence.

:func:`validate` runs every check; each family lives in its own module so a recipe or a caller can
run or replace one alone. :func:`judge` is what every stage calls: parse, validate, compare with a reference.
"""

from planforge.validators.equivalence import ToolOverlap, plan_graph, plans_equivalent, tool_overlap
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.judge import Verdict, judge
from planforge.validators.pipeline import Rule, check_plan, validate

__all__ = [
    "ErrorCode",
    "PlanError",
    "Rule",
    "ToolOverlap",
    "Verdict",
    "check_plan",
    "judge",
    "plan_graph",
    "plans_equivalent",
    "tool_overlap",
    "validate",
]
