"""Judge a plan: parse it (when text), validate it (every check plus the recipe's rules) and compare it with a
reference (DAG isomorphism, tool overlap and, given the recipe's key arguments, the arguments). The one verdict the
run loop, pairs, corruptions, review, evaluation and the RL reward all use, so a plan is judged the same way
everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planforge.errors import PlanSyntaxError
from planforge.plan import Plan, parse_plan
from planforge.tools import ToolSet
from planforge.validators.arguments_match import ArgumentMatch, KeyArguments, match_arguments
from planforge.validators.equivalence import ToolOverlap, plans_equivalent, tool_overlap
from planforge.validators.errors import ErrorCode, PlanError
from planforge.validators.pipeline import Rule, validate


@dataclass(frozen=True)
class Verdict:
    """``plan`` (arguments bound by name) is None when the text could not be parsed; then ``errors`` holds the
    one syntax error. ``equivalent`` and ``overlap`` are None when there was no reference; ``arguments`` also when
    no key arguments were given."""

    plan: Plan | None
    errors: tuple[PlanError, ...] = ()
    equivalent: bool | None = None
    overlap: ToolOverlap | None = None
    arguments: ArgumentMatch | None = None
    codes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(dict.fromkeys(e.code.value for e in self.errors)))

    @property
    def parsed(self) -> bool:
        return self.plan is not None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def wrong(self) -> bool:
        """Invalid, or not the reference's calls and dependencies: what a rejected plan must be."""
        return bool(self.errors) or self.equivalent is False

    @property
    def arguments_wrong(self) -> bool:
        """Isomorphic to the reference, but a key argument (or, compared, a free text) differs."""
        return self.arguments is not None and self.arguments.isomorphic and not self.arguments.success

    def error_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.errors]


def is_llmcompiler_text(source: Any) -> bool:
    """Text that is not JSON: the one form whose plans end with ``join()``."""
    return isinstance(source, str) and source.lstrip()[:1] not in ("[", "{")


def judge(
    plan: Plan | str | list | dict,
    tools: ToolSet,
    *,
    reference: Plan | None = None,
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    require_join: bool = True,
    key_arguments: KeyArguments | None = None,
    no_call: bool = False,
) -> Verdict:
    """Parse (text or JSON), validate against the offered ``tools`` with the recipe's ``rules`` and ``context``
    (the request and its "now"), and compare with ``reference`` when given: the graph, and with ``key_arguments``
    (:meth:`KeyArguments.of` a recipe's declaration) the arguments too.

    ``require_join`` applies to LLMCompiler text and parsed plans only: JSON calls and tool calls have no
    ``join()`` by nature. ``no_call``: the example is marked no-call (``meta.no_call``), so the empty plan is its
    valid answer and a call an ``unexpected_call`` error; elsewhere the empty plan is an ``empty_plan`` error."""
    if isinstance(plan, Plan):
        parsed = plan.bind(tools.param_order)
    else:
        try:
            parsed = parse_plan(plan, param_order=tools.param_order).bind(tools.param_order)
        except PlanSyntaxError as exc:
            error = PlanError(ErrorCode.SYNTAX, exc.step, str(exc))
            if reference is None:
                return Verdict(None, (error,))
            return Verdict(None, (error,), False, None, ArgumentMatch(False) if key_arguments is not None else None)
        require_join = require_join and is_llmcompiler_text(plan)
    errors = tuple(validate(parsed, tools, require_join=require_join, rules=rules, context=context, no_call=no_call))
    if reference is None:
        return Verdict(parsed, errors)
    arguments = match_arguments(parsed, reference, key_arguments) if key_arguments is not None else None
    equivalent = arguments.isomorphic if arguments is not None else plans_equivalent(parsed, reference)
    return Verdict(parsed, errors, equivalent, tool_overlap(parsed, reference), arguments)
