"""Checks on ``$K`` references: they point backwards at a real step, the graph is a DAG, and the
producer's declared return type can fill the parameter."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from planforge.plan import BEYOND_ANY_STEP, MAX_STEP_DIGITS, Plan, named_arguments, whole_reference
from planforge.tools import ToolSet, ToolSpec
from planforge.validators.errors import ErrorCode, PlanError


def check_references(plan: Plan, tools: ToolSet) -> list[PlanError]:
    errors = []
    count = len(plan.steps)
    for step in plan.steps:
        for k in sorted(set(step.references)):
            problem = None
            if k == 0:
                problem = "$0 does not exist (steps are numbered from 1)"
            elif k >= BEYOND_ANY_STEP:
                problem = f"a $K of over {MAX_STEP_DIGITS} digits refers to a step that does not exist"
            elif k > count:
                problem = f"${k} refers to a step that does not exist (the plan has {count})"
            elif k == step.index:
                problem = f"${k} refers to the step itself"
            elif k > step.index:
                problem = f"${k} refers to a later step"
            elif plan.steps[k - 1].is_join:
                problem = f"${k} refers to join(), which has no output"
            if problem:
                errors.append(PlanError(ErrorCode.BAD_REFERENCE, step.index, f"step {step.index}: {problem}"))
    return errors


def dependency_edges(plan: Plan) -> list[tuple[int, int]]:
    """(producer, consumer) pairs for every reference to an existing other step."""
    count = len(plan.steps)
    return [(k, step.index) for step in plan.steps for k in set(step.references) if 1 <= k <= count and k != step.index]


def check_acyclic(plan: Plan, tools: ToolSet) -> list[PlanError]:
    # Backward references alone make a DAG by construction; only a forward one can close a cycle.
    for step in plan.steps:
        if step.references and max(step.references) >= step.index:
            break
    else:
        return []
    loop = find_cycle(dependency_edges(plan))
    if loop is None:
        return []
    start = loop.index(min(loop))
    loop = loop[start:] + loop[:start] + [min(loop)]
    return [
        PlanError(
            ErrorCode.CYCLE,
            min(loop),
            "steps " + " -> ".join(str(n) for n in loop) + " depend on each other in a cycle",
        )
    ]


def find_cycle(edges: list[tuple[int, int]]) -> list[int] | None:
    """The nodes of one cycle of the directed graph ``edges`` (in edge order), or None for a DAG.

    Depth-first and iterative: a plan of thousands of steps recurses nowhere."""
    successors: dict[int, list[int]] = {}
    for producer, consumer in edges:
        successors.setdefault(producer, []).append(consumer)
        successors.setdefault(consumer, [])
    state: dict[int, int] = {}  # 1: on the current path, 2: finished
    for root in sorted(successors):
        if root in state:
            continue
        path = [root]
        pending = [iter(successors[root])]
        state[root] = 1
        while pending:
            node = next(pending[-1], None)
            if node is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(node) == 1:
                return path[path.index(node) :]
            elif node not in state:
                state[node] = 1
                path.append(node)
                pending.append(iter(successors[node]))
    return None


def check_reference_types(plan: Plan, tools: ToolSet) -> list[PlanError]:
    sensitive = reference_sensitive_parameters(tools)
    if not sensitive:
        return []
    errors = []
    count = len(plan.steps)
    for step in plan.steps:
        if not step.references:
            continue
        parameters = sensitive.get(step.name)
        if not parameters:
            continue
        named, _, _ = named_arguments(step, tools.param_order[step.name])
        for parameter in parameters:
            if parameter.name not in named:
                continue
            for k, target in parameter.references_to_check(named[parameter.name]):
                if not 1 <= k < step.index or k > count:
                    continue  # reported by check_references
                producer = plan.steps[k - 1]
                if producer.name not in tools:
                    continue
                returns = tools[producer.name].returns
                if returns is not None and not schema_can_fit(returns, target):
                    errors.append(
                        PlanError(
                            ErrorCode.REFERENCE_TYPE,
                            step.index,
                            f"step {step.index}: {step.name}() argument {parameter.name!r} expects "
                            f"{_type_words(target)}, but ${k} ({producer.name}) returns {_type_words(returns)}",
                        )
                    )
    return errors


class SensitiveParameter(NamedTuple):
    """A parameter that some ``$K`` of the tool set cannot fill: the schema a whole ``"$K"`` value must
    fit, and the one a ``"$K"`` list item must fit, each None where every declared return type fits."""

    name: str
    whole: dict[str, Any] | None
    item: dict[str, Any] | None

    def references_to_check(self, value: Any) -> list[tuple[int, dict[str, Any]]]:
        """(K, schema the output must fit) for each ``"$K"`` in ``value`` that could be the wrong type."""
        if type(value) is str:
            k = whole_reference(value) if self.whole is not None else None
            return [(k, self.whole)] if k is not None else []  # type: ignore[list-item]
        if type(value) is list and self.item is not None:
            found = ((whole_reference(entry), self.item) for entry in value)
            return [(k, schema) for k, schema in found if k is not None]
        return []


def reference_sensitive_parameters(tools: ToolSet) -> dict[str, tuple[SensitiveParameter, ...]]:
    """function -> the parameters that some function's declared return type cannot fill, as the whole
    value or as a list item; computed once per tool set. Everything else can take any ``$K`` of this tool
    set and needs no check.

    A function's answer depends only on the distinct return types on offer, which a recipe's subsets share:
    each function keeps its answer per such group, so a run that offers a new subset with every request
    compares schemas once per group, not once per request."""
    cached = tools.compiled.get(_SENSITIVE_KEY)
    if cached is not None:
        return cached
    produced = {_returns_key(spec): spec.returns for spec in tools.specs if spec.returns is not None}
    group = frozenset(produced)
    sensitive: dict[str, tuple[SensitiveParameter, ...]] = {}
    for spec in tools.specs:
        answers = spec.compiled.setdefault(_SENSITIVE_KEY, {})
        parameters = answers.get(group)
        if parameters is None:
            if len(answers) >= _GROUPS_KEPT:  # bounded, whatever tool sets come by
                answers.clear()
            parameters = answers[group] = _sensitive_parameters(spec, list(produced.values()))
        if parameters:
            sensitive[spec.name] = parameters
    tools.compiled[_SENSITIVE_KEY] = sensitive
    return sensitive


def _sensitive_parameters(spec: ToolSpec, produced: list[dict[str, Any]]) -> tuple[SensitiveParameter, ...]:
    def unless_all_fit(schema: Any) -> dict[str, Any] | None:
        fits = not isinstance(schema, dict) or all(schema_can_fit(r, schema) for r in produced)
        return None if fits else schema

    parameters = []
    for name, schema in spec.parameters.get("properties", {}).items():
        parameter = SensitiveParameter(name, unless_all_fit(schema), unless_all_fit(schema.get("items")))
        if parameter.whole is not None or parameter.item is not None:
            parameters.append(parameter)
    return tuple(parameters)


def _returns_key(spec: ToolSpec) -> str:
    key = spec.compiled.get(_RETURNS_KEY)
    if key is None:
        key = spec.compiled[_RETURNS_KEY] = json.dumps(spec.returns, sort_keys=True, default=str)
    return key


_RETURNS_KEY = "returns_key"
_GROUPS_KEPT = 1024
_SENSITIVE_KEY = "__reference_sensitive_parameters__"


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    return set(kind) if isinstance(kind, list) else {kind}


def schema_can_fit(produced: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Can some value of ``produced`` satisfy ``expected``'s types? Unknown types are accepted."""
    have, want = _types(produced), _types(expected)
    if have is None or want is None:
        return True
    if "integer" in have:
        have = have | {"number"}
    if "number" in have:
        have = have | {"integer"}  # a number may be whole
    common = have & want
    if not common:
        return False
    if common == {"array"} and isinstance(produced.get("items"), dict) and isinstance(expected.get("items"), dict):
        return schema_can_fit(produced["items"], expected["items"])
    return True


def _type_words(schema: dict[str, Any]) -> str:
    kinds = _types(schema)
    return " or ".join(sorted(kinds)) if kinds else "any value"
