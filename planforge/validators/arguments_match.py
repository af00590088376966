"""Arguments beside the graph: does a plan that TinyAgent's metric accepts also call with the right values?

DAG isomorphism (:func:`~planforge.validators.plans_equivalent`) ignores arguments, so a plan that emails the wrong
person on the wrong day scores 1. :func:`match_arguments` keeps that metric and adds one: the predicted calls are
paired with the reference's by an isomorphism (same function, same wiring), then each pair's arguments are
compared. *Key* arguments (looked-up names, addresses, numbers, dates and times, durations, flags, calendar and
folder names: what a recipe declares in ``key_arguments``) must be equal; every other argument is free text
(titles, subjects, message bodies) and is compared leniently: ``normalized`` (case, punctuation and spacing
ignored) or ``ignore`` (not at all). Either way the ``$K`` a value names must be the step the isomorphism pairs
with the reference's, so the wiring of each argument counts even where its text does not.

Values are compared as a planner means them: text without surrounding or repeated spaces and case-insensitively,
``60 == 60.0``, ``True`` is not ``1``, an omitted argument is ``None``, and lists (recipients, invitees,
attachments) as multisets. Among the isomorphisms, the one agreeing on the most arguments is kept, so
interchangeable calls (two lookups feeding one email) are paired by their values. Everything here is pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planforge.plan import REFERENCE, Plan, Step, references_in, whole_reference
from planforge.validators.equivalence import plans_equivalent

FREE_TEXT_MODES = ("normalized", "ignore")

#: Search nodes tried before the best pairing found so far is kept (plans of ~10 calls need a few dozen).
SEARCH_BUDGET = 50_000

_PUNCTUATION = re.compile(r"[^\w\s\x00]+")
_MISSING = None  # an omitted argument reads as None ("None for an optional parameter means omitted")


@dataclass(frozen=True)
class KeyArguments:
    """Which arguments of each function must match exactly; the others are free text, compared by ``free_text``.

    A function without an entry has key arguments only, so ``KeyArguments()`` compares every argument."""

    by_function: Mapping[str, frozenset[str]] = field(default_factory=dict)
    free_text: str = "normalized"

    def __post_init__(self) -> None:
        if self.free_text not in FREE_TEXT_MODES:
            raise ValueError(f"free_text must be one of {', '.join(FREE_TEXT_MODES)}, not {self.free_text!r}")

    @classmethod
    def of(cls, mapping: Mapping[str, Iterable[str]] | None, free_text: str = "normalized") -> KeyArguments:
        """From a recipe's ``key_arguments`` (function -> its key parameters); ``None``: every argument is key."""
        return cls({name: frozenset(params) for name, params in (mapping or {}).items()}, free_text)

    def is_key(self, function: str, argument: str) -> bool:
        keys = self.by_function.get(function)
        return keys is None or argument in keys


@dataclass(frozen=True)
class ArgumentMatch:
    """The best pairing's figures. ``compared`` counts the arguments compared (key arguments, free text unless
    ignored, ignored free text that carries a ``$K``); ``mismatches`` names the others as ``function.argument
    (step N)`` in the prediction's numbering; ``mapping``: predicted step -> reference step."""

    isomorphic: bool
    compared: int = 0
    matched: int = 0
    mismatches: tuple[str, ...] = ()
    mapping: Mapping[int, int] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """Isomorphic, and every compared argument agrees: ``argument_success``."""
        return self.isomorphic and not self.mismatches

    @property
    def share(self) -> float:
        """Share of the compared arguments that agree (0 when not isomorphic, 1 with nothing to compare)."""
        if not self.isomorphic:
            return 0.0
        return self.matched / self.compared if self.compared else 1.0


def match_arguments(predicted: Plan, reference: Plan, key_arguments: KeyArguments | None = None) -> ArgumentMatch:
    """Pair ``predicted``'s calls with ``reference``'s by the isomorphism that agrees on the most arguments and
    compare them (both plans bound: arguments by name). Not isomorphic: ``ArgumentMatch(False)``."""
    keys = key_arguments if key_arguments is not None else KeyArguments()
    if not plans_equivalent(predicted, reference):
        return ArgumentMatch(False)
    pred, ref = list(predicted.calls), list(reference.calls)
    if not pred:
        return ArgumentMatch(True)
    pred_inputs = _inputs(pred)
    ref_inputs = _inputs(ref)
    order = _topological(pred, pred_inputs)
    candidates = {
        v: [r for r in range(len(ref)) if ref[r].name == pred[v].name and len(ref_inputs[r]) == len(pred_inputs[v])]
        for v in order
    }
    # A lower bound of each pairing's cost: its mismatches among arguments without any $K (which no mapping changes).
    literal = {(v, r): _cost(pred[v], ref[r], keys, None)[0] for v in order for r in candidates[v]}
    for v in order:
        candidates[v].sort(key=lambda r, v=v: literal[(v, r)])
    floor = [0] * (len(order) + 1)
    for depth in range(len(order) - 1, -1, -1):
        v = order[depth]
        floor[depth] = floor[depth + 1] + min((literal[(v, r)] for r in candidates[v]), default=0)

    best: dict[str, Any] = {"cost": None, "mapping": {}}
    mapping: dict[int, int] = {}  # predicted position -> reference position
    used: set[int] = set()
    budget = [SEARCH_BUDGET]

    def search(depth: int, cost: int) -> None:
        if best["cost"] == 0 or budget[0] <= 0:
            return
        if depth == len(order):
            best["cost"], best["mapping"] = cost, dict(mapping)
            return
        v = order[depth]
        for r in candidates[v]:
            if r in used or {mapping[u] for u in pred_inputs[v]} != ref_inputs[r]:
                continue
            budget[0] -= 1
            mapping[v] = r
            step_cost = _cost(pred[v], ref[r], keys, _step_numbers(mapping, pred, ref))[0]
            if best["cost"] is None or cost + step_cost + floor[depth + 1] < best["cost"]:
                used.add(r)
                search(depth + 1, cost + step_cost)
                used.discard(r)
            del mapping[v]
            if best["cost"] == 0 or budget[0] <= 0:
                return

    search(0, 0)
    if best["cost"] is None:  # the budget ran out before any complete pairing (not seen on real plans)
        return ArgumentMatch(True, 1, 0, ("(arguments not compared: search budget exhausted)",))
    found: dict[int, int] = best["mapping"]
    numbers = _step_numbers(found, pred, ref)
    compared = matched = 0
    mismatches: list[str] = []
    for v in range(len(pred)):
        _, n, wrong = _cost(pred[v], ref[found[v]], keys, numbers)
        compared += n
        matched += n - len(wrong)
        mismatches += [f"{pred[v].name}.{name} (step {pred[v].index})" for name in wrong]
    return ArgumentMatch(True, compared, matched, tuple(mismatches), numbers)


def arguments_match(predicted: Plan, reference: Plan, key_arguments: KeyArguments | None = None) -> bool:
    """``argument_success``: isomorphic and every compared argument agrees."""
    return match_arguments(predicted, reference, key_arguments).success


# --------------------------------------------------------------------------------------------------
# pairing


def _inputs(calls: Sequence[Step]) -> list[frozenset[int]]:
    """Each call's producers, as positions among the calls (references to non-calls or to itself dropped)."""
    position = {s.index: i for i, s in enumerate(calls)}
    return [
        frozenset(position[k] for k in s.references or () if k in position and position[k] != i)
        for i, s in enumerate(calls)
    ]


def _topological(calls: Sequence[Step], inputs: Sequence[frozenset[int]]) -> list[int]:
    """Producers before consumers (plan order among the ready ones); isomorphic to a DAG, so every node comes."""
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(calls):
        ready = [i for i in range(len(calls)) if i not in done and inputs[i] <= done]
        if not ready:  # a cycle: cannot happen for a plan isomorphic to a DAG; keep plan order for the rest
            ready = [i for i in range(len(calls)) if i not in done]
        order.append(ready[0])
        done.add(ready[0])
    return order


def _step_numbers(mapping: Mapping[int, int], pred: Sequence[Step], ref: Sequence[Step]) -> dict[int, int]:
    """Predicted step number -> the reference step number it is paired with (for comparing ``$K``)."""
    return {pred[v].index: ref[r].index for v, r in mapping.items()}


# --------------------------------------------------------------------------------------------------
# values


def _cost(pred: Step, ref: Step, keys: KeyArguments, numbers: Mapping[int, int] | None) -> tuple[int, int, list[str]]:
    """``(mismatches, compared, wrong names)`` of one pairing. ``numbers`` None: only arguments free of ``$K`` on
    both sides count (the lower bound of the search)."""
    names = list(dict.fromkeys([*_named(pred), *_named(ref)]))
    compared = 0
    wrong: list[str] = []
    for name in names:
        a, b = _named(pred).get(name, _MISSING), _named(ref).get(name, _MISSING)
        referenced = bool(references_in(a) or references_in(b))
        if numbers is None and referenced:
            continue
        key = keys.is_key(pred.name, name)
        if not key and keys.free_text == "ignore":
            if not referenced:
                continue
            same = _mapped_references(a, numbers) == sorted(references_in(b))
        else:
            same = _canonical(a, numbers, key) == _canonical(b, None, key)
        compared += 1
        if not same:
            wrong.append(name)
    return len(wrong), compared, wrong


def _named(step: Step) -> Mapping[str, Any]:
    """Arguments by name; positional ones a binding could not name are ``#0``, ``#1``..."""
    if not step.args:
        return step.kwargs
    return {**{f"#{i}": v for i, v in enumerate(step.args)}, **step.kwargs}


def _mapped_references(value: Any, numbers: Mapping[int, int] | None) -> list[int]:
    return sorted(_renumber(k, numbers) for k in references_in(value))


def _renumber(k: int, numbers: Mapping[int, int] | None) -> int:
    """A predicted ``$K`` in the reference's numbering (-K when it names no paired step: it then matches nothing)."""
    if numbers is None:
        return k
    return numbers.get(k, -k)


def _canonical(value: Any, numbers: Mapping[int, int] | None, key: bool) -> Any:
    """A hashable form in which two values a planner would mean alike are equal (``numbers``: renumber ``$K``)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, str):
        k = whole_reference(value)
        if k is not None:
            return ("ref", _renumber(k, numbers))
        return ("text", _text(value, numbers, key))
    if isinstance(value, list):
        return ("list", tuple(sorted((_canonical(v, numbers, key) for v in value), key=repr)))
    if isinstance(value, dict):
        items = ((_text(str(k), numbers, True), _canonical(v, numbers, key)) for k, v in value.items())
        return ("dict", tuple(sorted(items, key=repr)))
    return ("other", repr(value))


def _text(text: str, numbers: Mapping[int, int] | None, key: bool) -> str:
    if "$" in text:
        text = REFERENCE.sub(lambda m: f"\x00{_renumber(int(m.group(1) or m.group(2)), numbers)}\x00", text)
    if not key:
        text = _PUNCTUATION.sub(" ", text)
    return " ".join(text.split()).casefold()
