"""Plan structures: what a plan does, whatever its arguments.

A plan's structure is its function multiset plus its dependency DAG up to isomorphism, nodes labelled by
function name: two plans have the same structure exactly when TinyAgent's metric counts them as the same plan
(:func:`planforge.validators.plans_equivalent`). ``join()`` is not a node.

:func:`structure_key` gives a canonical, hashable text for a structure, so structures can be counted, compared
and targeted. It is exact: colour refinement (each node's colour is refined by the colours of its inputs and
outputs until stable) orders the nodes up to ties, and the remaining ties are broken by trying every order
within each tie and keeping the smallest edge list. Refinement leaves ties only between nodes that look alike,
so the brute force stays small for plans up to ~10 steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import product

from planforge.plan import Plan

LOOKUPS = frozenset({"get_email_address", "get_phone_number"})

Graph = tuple[tuple[str, ...], tuple[tuple[int, int], ...]]  # node names, (producer, consumer) edges


def plan_graph(plan: Plan) -> Graph:
    """The function-calling steps' names and their dependency edges, 0-based in plan order."""
    calls = [s for s in plan.steps if not s.is_join]
    position = {s.index: i for i, s in enumerate(calls)}
    edges = sorted(
        {(position[k], i) for i, s in enumerate(calls) for k in s.references if k in position and position[k] != i}
    )
    return tuple(s.name for s in calls), tuple(edges)


def canonical_key(names: Sequence[str], edges: Sequence[tuple[int, int]]) -> str:
    """``"a,b,c|0>2,1>2"``: node names in canonical order, then edges between canonical positions."""
    order = _canonical_order(list(names), list(edges))
    position = {node: i for i, node in enumerate(order)}
    body = ",".join(names[node] for node in order)
    wires = ",".join(f"{u}>{v}" for u, v in sorted((position[a], position[b]) for a, b in edges))
    return f"{body}|{wires}"


def structure_key(plan: Plan) -> str:
    """The plan's structure as canonical text (equal keys <=> equivalent plans)."""
    return _graph_key(*plan_graph(plan))


#: A run's plans repeat their structures (3,383 distinct among the 9,864 examples of a 2,000-request run of
#: benchmarks/teacher_throughput.py): each is canonicalised once.
_graph_key = lru_cache(maxsize=65_536)(canonical_key)


def parse_key(key: str) -> Graph:
    body, _, wires = key.partition("|")
    names = tuple(body.split(",")) if body else ()
    edges = tuple(tuple(int(x) for x in wire.split(">")) for wire in wires.split(",") if wire)
    return names, edges  # type: ignore[return-value]


def describe(key: str) -> str:
    """A short reading of a structure: each call that uses others with what it uses, then the rest.

    ``"compose_new_email(get_email_address, get_email_address); summarize_pdf(open_and_get_file_path)"``"""
    names, edges = parse_key(key)
    if not names:
        return "no calls"
    inputs: dict[int, list[int]] = {}
    used = set()
    for u, v in edges:
        inputs.setdefault(v, []).append(u)
        used.add(u)
    parts = [f"{names[v]}({', '.join(names[u] for u in sorted(us))})" for v, us in sorted(inputs.items())]
    alone = Counter(names[i] for i in range(len(names)) if i not in inputs and i not in used)
    parts += [name if count == 1 else f"{count}x {name}" for name, count in sorted(alone.items())]
    return "; ".join(parts)


def step_count(plan: Plan) -> int:
    """Function-calling steps (``join()`` aside)."""
    return len(plan.calls)


def max_fan_in(plan: Plan) -> int:
    """The most distinct earlier steps one step takes as inputs (0 for a plan without ``$K``)."""
    return max((len(set(s.references)) for s in plan.calls), default=0)


def people_looked_up(plan: Plan) -> int:
    """Distinct people the plan looks up (by the name argument of get_email_address / get_phone_number)."""
    names = set()
    for step in plan.calls:
        if step.name in LOOKUPS:
            values = list(step.values())
            names.add(str(values[0]).casefold() if values else "")
    return len(names)


def is_parallel(plan: Plan) -> bool:
    """Two or more people looked up independently (lookups never depend on other steps)."""
    return people_looked_up(plan) >= 2


def _canonical_order(names: list[str], edges: list[tuple[int, int]]) -> list[int]:
    n = len(names)
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    colours = _rank([(name,) for name in names])
    while True:
        signatures = [
            (colours[i], tuple(sorted(colours[p] for p in preds[i])), tuple(sorted(colours[s] for s in succs[i])))
            for i in range(n)
        ]
        refined = _rank(signatures)
        if len(set(refined)) == len(set(colours)):
            break
        colours = refined
    cells: dict[int, list[int]] = {}
    for node in range(n):
        cells.setdefault(colours[node], []).append(node)
    ordered = [cells[c] for c in sorted(cells)]
    if all(len(cell) == 1 for cell in ordered):
        return [cell[0] for cell in ordered]
    best: tuple[tuple[int, int], ...] | None = None
    best_order: list[int] = []
    for choice in product(*(_orders(cell, preds, succs) for cell in ordered)):
        order = [node for cell in choice for node in cell]
        position = {node: i for i, node in enumerate(order)}
        wires = tuple(sorted((position[u], position[v]) for u, v in edges))
        if best is None or wires < best:
            best, best_order = wires, order
    return best_order


def _orders(cell: list[int], preds: list[list[int]], succs: list[list[int]]) -> list[tuple[int, ...]]:
    """Every order of a cell, twins (same inputs, same outputs: interchangeable) kept in one order among
    themselves, so ten identical lookups feeding one step cost one order, not 10!."""
    twins: dict[tuple, list[int]] = {}
    for node in cell:
        twins.setdefault((tuple(sorted(preds[node])), tuple(sorted(succs[node]))), []).append(node)
    groups = list(twins.values())
    if len(groups) == 1:
        return [tuple(cell)]
    orders = []
    for labels in _distinct_permutations([g for g, group in enumerate(groups) for _ in group]):
        queues = [iter(group) for group in groups]
        orders.append(tuple(next(queues[g]) for g in labels))
    return orders


def _distinct_permutations(items: list[int]) -> list[tuple[int, ...]]:
    if len(items) <= 1:
        return [tuple(items)]
    out = []
    for first in sorted(set(items)):
        rest = list(items)
        rest.remove(first)
        out += [(first, *tail) for tail in _distinct_permutations(rest)]
    return out


def _rank(signatures: list[tuple]) -> list[int]:
    """Replace each signature by its rank among the distinct signatures (an isomorphism-invariant colour)."""
    ranks = {sig: i for i, sig in enumerate(sorted(set(signatures)))}
    return [ranks[sig] for sig in signatures]
