"""Programmatic corruptions of a valid plan: the rejected side of a preference pair, each of a named kind.

Every kind is a pure generator of candidate plans (random order, from ``rng``); :func:`corrupt` returns the
first candidate that is really wrong: it fails validation (with the recipe's rules) or is not equivalent
(DAG isomorphism) to the original. Five kinds change the multiset of called functions, so they can never
be equivalent; a candidate of those kinds that is not wrong is a bug and raises :class:`CorruptionError`.
The others (``broken_dependency``, ``swapped_arguments``, ``type_error``) may produce harmless candidates
(swapping two cc lists), which are skipped. ``None`` means the kind does not apply to this plan.

Kinds:

* ``wrong_function``: one call goes to another offered function (arguments carried over by type);
* ``hallucinated_function``: one call goes to a plausible function that was not offered;
* ``missing_step``: a call whose output nobody uses is dropped (plans of two calls or more);
* ``extra_step``: a call is repeated, or an offered function nobody asked for is called;
* ``broken_dependency``: a ``$K`` points at the wrong step, a later step, or appears where none belongs;
* ``swapped_arguments``: two arguments of one call trade values;
* ``type_error``: an argument gets a value of the wrong type (``"90"`` for 90, ``"$1"`` for ``["$1"]``);
* ``missing_lookup``: a lookup (``get_email_address("Sid")``) is skipped and its key used as its result.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planforge.errors import CorruptionError
from planforge.plan import JOIN, REFERENCE, Plan, Step, format_value, references_in, whole_reference
from planforge.tools import ToolSet
from planforge.validators import PlanError, Rule, judge

KINDS: tuple[str, ...] = (
    "wrong_function",
    "hallucinated_function",
    "missing_step",
    "extra_step",
    "broken_dependency",
    "swapped_arguments",
    "type_error",
    "missing_lookup",
)
#: Kinds that change which functions are called: never equivalent to the original by construction.
STRUCTURAL: frozenset[str] = frozenset(
    {"wrong_function", "hallucinated_function", "missing_step", "extra_step", "missing_lookup"}
)

DESCRIPTIONS: dict[str, str] = {
    "wrong_function": "a call goes to the wrong (offered) function",
    "hallucinated_function": "a call goes to a function that was not offered",
    "missing_step": "a needed call is missing",
    "extra_step": "an unneeded call is added",
    "broken_dependency": "a $K reference points at the wrong step (or is missing/added)",
    "swapped_arguments": "two arguments of a call are swapped",
    "type_error": "an argument has the wrong type",
    "missing_lookup": "a lookup is skipped and its key used instead of its result",
}


@dataclass(frozen=True)
class Corruption:
    """A corrupted plan, what was done, and why it is wrong (its validation errors, its equivalence)."""

    kind: str
    plan: Plan
    description: str
    errors: tuple[PlanError, ...]
    equivalent: bool

    @property
    def valid(self) -> bool:
        return not self.errors


Candidate = tuple[Plan, str]


# --------------------------------------------------------------------------------------------------
# plan surgery (pure)


def with_join(plan: Plan) -> Plan:
    """The plan ending in ``join()`` (added when missing)."""
    if plan.has_join:
        return plan
    return Plan((*plan.steps, Step(len(plan.steps) + 1, JOIN)), plan.end_of_plan)


def remap_references(value: Any, mapping: Callable[[int], int | None]) -> Any:
    """``value`` with every ``$K``/``${K}`` renumbered by ``mapping`` (None keeps the reference as written)."""

    def sub(match: re.Match[str]) -> str:
        k = int(match.group(1) or match.group(2))
        new = mapping(k)
        if new is None:
            return match.group(0)
        return f"${{{new}}}" if match.group(1) is not None else f"${new}"

    if isinstance(value, str):
        return REFERENCE.sub(sub, value) if "$" in value else value
    if isinstance(value, list):
        return [remap_references(v, mapping) for v in value]
    if isinstance(value, dict):
        return {remap_references(k, mapping): remap_references(v, mapping) for k, v in value.items()}
    return value


def substitute_reference(value: Any, k: int, literal: Any) -> Any:
    """``value`` with ``"$k"`` replaced by ``literal`` (inside longer strings: by its text)."""
    if whole_reference(value) == k:
        return literal
    if isinstance(value, str):
        text = literal if isinstance(literal, str) else str(literal)
        return REFERENCE.sub(lambda m: text if int(m.group(1) or m.group(2)) == k else m.group(0), value)
    if isinstance(value, list):
        return [substitute_reference(v, k, literal) for v in value]
    if isinstance(value, dict):
        return {key: substitute_reference(v, k, literal) for key, v in value.items()}
    return value


def _step(index: int, name: str, kwargs: Mapping[str, Any], args: Sequence[Any] = ()) -> Step:
    return Step(index, name, tuple(args), dict(kwargs))


def _map_step(step: Step, index: int, fn: Callable[[Any], Any]) -> Step:
    return _step(index, step.name, {k: fn(v) for k, v in step.kwargs.items()}, [fn(v) for v in step.args])


def remove_step(plan: Plan, k: int, replacement: Any = None) -> Plan:
    """Drop step ``k``; later steps move up. References to ``k`` become ``replacement`` when given."""

    def renumber(j: int) -> int | None:
        return j - 1 if j > k else None

    steps = []
    for step in plan.steps:
        if step.index == k:
            continue

        def fix(value: Any) -> Any:
            if replacement is not None:
                value = substitute_reference(value, k, replacement)
            return remap_references(value, renumber)

        steps.append(_map_step(step, len(steps) + 1, fix))
    return Plan(tuple(steps), plan.end_of_plan)


def insert_step(plan: Plan, position: int, name: str, kwargs: Mapping[str, Any]) -> Plan:
    """A new step at ``position`` (1-based); steps from there move down. ``kwargs`` use the new numbering."""

    def renumber(j: int) -> int | None:
        return j + 1 if j >= position else None

    steps: list[Step] = []
    for step in plan.steps:
        if step.index == position:
            steps.append(_step(len(steps) + 1, name, kwargs))
        steps.append(_map_step(step, len(steps) + 1, lambda v: remap_references(v, renumber)))
    if position > len(plan.steps):
        steps.append(_step(len(steps) + 1, name, kwargs))
    return Plan(tuple(steps), plan.end_of_plan)


def replace_step(plan: Plan, k: int, name: str, kwargs: Mapping[str, Any]) -> Plan:
    steps = tuple(_step(k, name, kwargs) if s.index == k else s for s in plan.steps)
    return Plan(steps, plan.end_of_plan)


def _consumers(plan: Plan, k: int) -> list[Step]:
    return [s for s in plan.steps if k in (s.references or ())]


# --------------------------------------------------------------------------------------------------
# values


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return list(kind) if isinstance(kind, list) else [kind]


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """Does a literal (or ``$K``) roughly fit the schema's type? Used to carry arguments over."""
    kinds = _types(schema)
    if not kinds:
        return True
    if whole_reference(value) is not None:
        return "string" in kinds
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    if "enum" in schema and value not in schema["enum"]:
        return False
    return any(checks.get(k, lambda v: True)(value) for k in kinds)


def default_value(schema: Mapping[str, Any]) -> Any:
    """A plain value of the schema's type (first enum value, ``""``, 0, ``[]``...)."""
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    kinds = _types(schema)
    kind = kinds[0] if kinds else "string"
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}, "null": None}.get(
        kind, ""
    )


def adapt_arguments(old: Mapping[str, Any], spec_parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for another function: same-named values first, then old values of a fitting type in order,
    else a default of the parameter's type. Every parameter gets a value."""
    props: Mapping[str, Any] = spec_parameters.get("properties", {})
    unused = [v for k, v in old.items() if k not in props]
    out: dict[str, Any] = {}
    for name, schema in props.items():
        if name in old and _fits(old[name], schema):
            out[name] = old[name]
            continue
        for i, value in enumerate(unused):
            if _fits(value, schema):
                out[name] = unused.pop(i)
                break
        else:
            out[name] = default_value(schema)
    return out


def wrong_type_values(value: Any, schema: Mapping[str, Any]) -> list[Any]:
    """Values of another type that a planner might write instead of ``value`` (most plausible first)."""
    out: list[Any] = []
    if isinstance(value, bool):
        out += ["true" if value else "false", int(value)]
    elif isinstance(value, (int, float)):
        out += [str(value), f"{value} minutes", [value]]
    elif isinstance(value, str):
        out += [[value], len(value) if value else 1, {"value": value}]
    elif isinstance(value, list):
        if len(value) == 1:
            out.append(value[0])
        out += [", ".join(str(v) for v in value), len(value)]
    elif isinstance(value, dict):
        out += [str(value), list(value.values())]
    return [v for v in out if not _fits(v, schema) or not _types(schema)]


# --------------------------------------------------------------------------------------------------
# the kinds: each yields (candidate plan, description) in random order


def _calls(plan: Plan) -> list[Step]:
    return [s for s in plan.steps if not s.is_join]


def _shuffled(items: Sequence[Any], rng: random.Random) -> list[Any]:
    out = list(items)
    rng.shuffle(out)
    return out


def _signature(step: Step) -> str:
    first = next(iter(step.kwargs.values()), None) if step.kwargs else (step.args[0] if step.args else None)
    return f"{step.name}({format_value(first)}{', ...' if len(step.kwargs) + len(step.args) > 1 else ''})"


def _edit(plan: Plan, step: Step, kwargs: Mapping[str, Any], what: str, name: str | None = None) -> Candidate:
    """``plan`` with ``step`` rewritten (new arguments, optionally another function) and its description."""
    return replace_step(plan, step.index, name or step.name, kwargs), f"step {step.index}: {what}"


def _wrong_function(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    used = set(plan.function_names())
    for step in _shuffled(_calls(plan), rng):
        others = [n for n in tools if n != step.name]
        # A function nobody in the plan uses first (the plausible confusion with a distractor), then the rest.
        unused = _shuffled([n for n in others if n not in used], rng)
        for name in unused + _shuffled([n for n in others if n in used], rng):
            kwargs = adapt_arguments(step.kwargs, tools[name].parameters)
            yield _edit(plan, step, kwargs, f"{step.name}() -> {name}()", name)


_VERB_SYNONYMS = {
    "get": ["fetch", "find", "lookup", "retrieve"],
    "create": ["add", "make", "new"],
    "compose": ["send", "write", "draft"],
    "send": ["text", "deliver", "post"],
    "open": ["show", "launch", "find"],
    "summarize": ["summarise", "summary", "digest"],
    "append": ["add", "update"],
    "forward": ["fwd", "share"],
    "reply": ["respond", "answer"],
    "maps": ["map", "google_maps"],
    "search": ["find", "query"],
    "list": ["get", "show"],
    "delete": ["remove"],
    "update": ["edit", "modify"],
}


def hallucinated_names(name: str, offered: Sequence[str]) -> list[str]:
    """Plausible function names close to ``name`` that are not offered (synonym verbs, shortenings)."""
    parts = name.split("_")
    out: list[str] = []
    for synonym in _VERB_SYNONYMS.get(parts[0].lower(), []):
        out.append("_".join([synonym, *parts[1:]]))
    if len(parts) > 2:
        out.append("_".join(parts[:-1]))  # get_email_address -> get_email
        out.append("_".join([parts[0], parts[-1]]))  # get_email_address -> get_address
    out += [f"{name}_v2", f"do_{name}", f"{name}s"]
    seen = set(offered)
    unique = []
    for candidate in out:
        if candidate not in seen and candidate != name and re.fullmatch(r"[A-Za-z_]\w*", candidate):
            seen.add(candidate)
            unique.append(candidate)
    return unique


def _hallucinated_function(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    for step in _shuffled(_calls(plan), rng):
        names = hallucinated_names(step.name, list(tools))
        for name in _shuffled(names[:3], rng) + names[3:]:  # synonyms first: the likeliest slips
            yield _edit(plan, step, step.kwargs, f"{step.name}() -> {name}() (not offered)", name)


def _missing_step(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    calls = _calls(plan)
    if len(calls) < 2:
        return
    sinks = [s for s in calls if not _consumers(plan, s.index)]
    for step in _shuffled(sinks, rng):
        yield remove_step(plan, step.index), f"step {step.index} ({_signature(step)}) left out"


def _extra_step(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    calls = _calls(plan)
    candidates: list[Candidate] = []
    for step in calls:  # the same call twice in a row (its references point backwards: unchanged)
        repeated = insert_step(plan, step.index + 1, step.name, step.kwargs)
        candidates.append((repeated, f"step {step.index} ({step.name}) repeated"))
    used = set(plan.function_names())
    literals = [v for s in calls for v in s.kwargs.values() if not references_in(v)]
    for name in [n for n in tools if n not in used]:  # a call nobody asked for
        position = rng.randint(1, len(calls) + 1)
        kwargs = adapt_arguments({f"_{i}": v for i, v in enumerate(literals)}, tools[name].parameters)
        candidates.append((insert_step(plan, position, name, kwargs), f"{name}() added as step {position}"))
    yield from _shuffled(candidates, rng)


def _redirected(step: Step, k: int, j: int) -> dict[str, Any]:
    """``step``'s arguments with every ``$k`` pointing at ``j`` instead."""
    return {name: remap_references(v, lambda x: j if x == k else None) for name, v in step.kwargs.items()}


def _broken_dependency(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    calls = _calls(plan)
    n = len(plan.steps)
    redirect: list[Candidate] = []  # to another earlier step: valid references, another graph
    invalid: list[Candidate] = []  # to the step itself or a later one
    for step in calls:
        for k in sorted(set(step.references or ())):
            for j in (s.index for s in calls if s.index < step.index and s.index != k):
                redirect.append(_edit(plan, step, _redirected(step, k, j), f"${k} -> ${j}"))
            for j, what in ((step.index, "itself"), (step.index + 1, "a later step")):
                invalid.append(_edit(plan, step, _redirected(step, k, j), f"${k} -> ${j} ({what})"))
    added: list[Candidate] = []  # a dependency where there is none
    for step in calls:
        strings = [name for name, v in step.kwargs.items() if isinstance(v, str) and not references_in(v)]
        earlier = [s.index for s in calls if s.index < step.index and s.index not in (step.references or ())]
        for name in strings:
            for j in earlier:
                added.append(_edit(plan, step, {**step.kwargs, name: f"${j}"}, f"{name} = ${j} (no such dependency)"))
            if not earlier:
                added.append(_edit(plan, step, {**step.kwargs, name: f"${n + 1}"}, f"{name} = ${n + 1} (no such step)"))
    yield from _shuffled(redirect, rng)
    yield from _shuffled(invalid, rng)
    yield from _shuffled(added, rng)


def _swapped_arguments(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    different: list[Candidate] = []  # values of different types first: the swaps most likely to be wrong
    same: list[Candidate] = []
    for step in _calls(plan):
        names = list(step.kwargs)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                x, y = step.kwargs[names[a]], step.kwargs[names[b]]
                if x == y:
                    continue
                candidate = _edit(plan, step, {**step.kwargs, names[a]: y, names[b]: x}, f"{names[a]} <-> {names[b]}")
                (different if type(x) is not type(y) else same).append(candidate)
    yield from _shuffled(different, rng)
    yield from _shuffled(same, rng)


def _type_error(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    primary: list[Candidate] = []  # the most plausible wrong value of each argument
    secondary: list[Candidate] = []
    for step in _calls(plan):
        props = tools[step.name].parameters.get("properties", {}) if step.name in tools else {}
        for name, value in step.kwargs.items():
            if value is None:
                continue
            for i, wrong in enumerate(wrong_type_values(value, props.get(name, {}))):
                candidate = _edit(plan, step, {**step.kwargs, name: wrong}, f"{name} = {format_value(wrong)}")
                (secondary if i else primary).append(candidate)
    yield from _shuffled(primary, rng)
    yield from _shuffled(secondary, rng)


def _lookup_key(step: Step) -> Any:
    for value in step.kwargs.values():
        if isinstance(value, str) and value and not references_in(value):
            return value
    return None


def _missing_lookup(plan: Plan, tools: ToolSet, rng: random.Random) -> Iterator[Candidate]:
    single, other = [], []  # one-argument lookups (get_email_address("Sid")) first
    for step in _calls(plan):
        key = _lookup_key(step)
        if key is None or not _consumers(plan, step.index):
            continue
        what = f"step {step.index} ({_signature(step)}) skipped; {format_value(key)} used as its result"
        (single if len(step.kwargs) == 1 else other).append((remove_step(plan, step.index, key), what))
    yield from _shuffled(single, rng)
    yield from _shuffled(other, rng)


GENERATORS: dict[str, Callable[[Plan, ToolSet, random.Random], Iterator[Candidate]]] = {
    "wrong_function": _wrong_function,
    "hallucinated_function": _hallucinated_function,
    "missing_step": _missing_step,
    "extra_step": _extra_step,
    "broken_dependency": _broken_dependency,
    "swapped_arguments": _swapped_arguments,
    "type_error": _type_error,
    "missing_lookup": _missing_lookup,
}
assert tuple(GENERATORS) == KINDS


# --------------------------------------------------------------------------------------------------
# entry points


def corrupt(
    plan: Plan,
    tools: ToolSet,
    kind: str,
    rng: random.Random,
    *,
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    require_join: bool = True,
    max_candidates: int = 200,
) -> Corruption | None:
    """A corruption of ``kind`` of the (valid) ``plan``, checked wrong; ``None`` when the kind does not apply."""
    if kind not in GENERATORS:
        raise ValueError(f"unknown corruption kind {kind!r} (known: {', '.join(KINDS)})")
    base = with_join(plan.bind(tools.param_order))
    for tried, (candidate, description) in enumerate(GENERATORS[kind](base, tools, rng)):
        if tried >= max_candidates:
            break
        verdict = judge(candidate, tools, reference=base, rules=rules, context=context, require_join=require_join)
        if verdict.wrong:
            return Corruption(kind, candidate, description, verdict.errors, bool(verdict.equivalent))
        if kind in STRUCTURAL:
            raise CorruptionError(f"{kind} produced a plan that is valid and equivalent: {description}")
    return None
