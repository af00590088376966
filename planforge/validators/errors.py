"""The fixed vocabulary of validation errors. Every check returns a list of :class:`PlanError`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    SYNTAX = "syntax"
    EMPTY_PLAN = "empty_plan"  # no call, where the example is not marked no-call
    UNEXPECTED_CALL = "unexpected_call"  # a call, where the example is marked no-call
    UNKNOWN_FUNCTION = "unknown_function"
    MISSING_ARGUMENT = "missing_argument"
    UNEXPECTED_ARGUMENT = "unexpected_argument"
    TYPE_MISMATCH = "type_mismatch"
    BAD_REFERENCE = "bad_reference"
    CYCLE = "cycle"
    JOIN = "join"
    REFERENCE_TYPE = "reference_type"
    RULE = "rule"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PlanError:
    """One problem: its code, the 1-based step it concerns (None for the whole plan) and a sentence
    naming the step, the argument and what was expected."""

    code: ErrorCode
    step: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "step": self.step, "message": self.message}
