"""The numbers behind the dataset card and the report: pure functions over rows.

Rows are plain dicts (as ``datasets`` yields them); nothing here does I/O. What ``run.json`` says is read by
:class:`planforge.dataset.RunRecord`."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from planforge.dataset.features import PLANS
from planforge.dataset.rows import ToolCache, iter_rows, message_plan, row_plan
from planforge.plan import Plan
from planforge.validators import plan_graph

SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "1B<n<10B"


# --------------------------------------------------------------------------------------------------
# plans


def dag_levels(graph: nx.DiGraph) -> dict[Any, int]:
    """Node -> 0-based layer: 0 for steps that use no earlier result, else 1 + the deepest producer."""
    levels: dict[Any, int] = {}
    for node in nx.topological_sort(graph):
        preds = list(graph.predecessors(node))
        levels[node] = 1 + max(levels[p] for p in preds) if preds else 0
    return levels


def dag_depth(graph: nx.DiGraph) -> int:
    """Longest dependency chain, in steps (longest path length + 1); 0 for an empty plan."""
    if graph.number_of_nodes() == 0:
        return 0
    return nx.dag_longest_path_length(graph) + 1


def plan_levels(plan: Plan) -> dict[int, int]:
    """:func:`dag_levels` of the plan's graph, in one pass when every reference points to an earlier step
    (as in every valid plan); through networkx otherwise."""
    levels: dict[int, int] = {}
    calls = [s for s in plan.steps if not s.is_join]
    indices = {s.index for s in calls}
    for step in calls:
        refs = [k for k in set(step.references or ()) if k in indices and k != step.index]
        if any(k not in levels for k in refs):
            return dag_levels(plan_graph(plan))
        levels[step.index] = 1 + max(levels[k] for k in refs) if refs else 0
    return levels


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def row_plan_or_none(row: Mapping[str, Any]) -> Plan | None:
    """A plans row's reference plan, or None when it cannot be read (a summary skips it)."""
    try:
        return row_plan(row)
    except (KeyError, TypeError, ValueError, RecursionError):
        return None


# --------------------------------------------------------------------------------------------------
# dataset statistics


@dataclass
class DatasetStats:
    kind: str
    split_sizes: dict[str, int]
    function_plans: Counter[str] = field(default_factory=Counter)  # plans using the function
    function_calls: Counter[str] = field(default_factory=Counter)  # calls, repeats included
    cooccurrence: Counter[tuple[str, str]] = field(default_factory=Counter)  # sorted pairs
    plan_lengths: Counter[int] = field(default_factory=Counter)  # calls per plan
    dag_depths: Counter[int] = field(default_factory=Counter)
    offered: Counter[int] = field(default_factory=Counter)  # functions offered per row
    distractors: Counter[int] = field(default_factory=Counter)
    parallel_plans: int = 0  # plans with two or more steps on the same layer
    unparsable: int = 0
    plans: int = 0
    # pairs
    rejection_kinds: Counter[str] = field(default_factory=Counter)
    rejection_sources: Counter[str] = field(default_factory=Counter)
    rejected_errors: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    agreements: list[float] = field(default_factory=list)  # per pair: share of reviewers agreeing
    review_error_kinds: Counter[str] = field(default_factory=Counter)  # what reviewers said was wrong
    corrected: int = 0  # pairs whose chosen plan a reviewer wrote
    swapped: int = 0  # pairs whose chosen and rejected plans the reviewers swapped

    @property
    def total(self) -> int:
        return sum(self.split_sizes.values())

    @property
    def functions(self) -> list[str]:
        """Functions by how many plans use them, most used first (ties by name)."""
        return sorted(self.function_plans, key=lambda f: (-self.function_plans[f], f))

    def add_plan(self, plan: Plan) -> None:
        self.plans += 1
        names = plan.function_names()
        self.function_calls.update(names)
        distinct = sorted(set(names))
        self.function_plans.update(distinct)
        self.cooccurrence.update(combinations(distinct, 2))
        self.plan_lengths[len(names)] += 1
        levels = plan_levels(plan)
        self.dag_depths[max(levels.values()) + 1 if levels else 0] += 1
        if levels and max(Counter(levels.values()).values()) > 1:
            self.parallel_plans += 1


SFT_STATS_COLUMNS = ("plan", "tools", "meta")
PAIR_STATS_COLUMNS = (
    "chosen",
    "tools",
    "rejection_kind",
    "rejection_source",
    "rejected_errors",
    "verdict",
    "agreement",
    "agreed",
    "annotators",
    "error_kinds",
    "corrected",
    "swapped",
)


def compute_stats(
    splits: Mapping[str, Iterable[Mapping[str, Any]]], kind: str, split_sizes: dict[str, int]
) -> DatasetStats:
    """Statistics over every row of every split (rows as dicts, or ``datasets.Dataset`` splits, read in
    batches of the columns used)."""
    stats = DatasetStats(kind, dict(split_sizes))
    tool_cache = ToolCache()
    pairs = kind != PLANS
    for rows in splits.values():
        for row in iter_rows(rows, PAIR_STATS_COLUMNS if pairs else SFT_STATS_COLUMNS):
            if pairs:
                _add_pair_row(stats, row, tool_cache)
            else:
                _add_sft_row(stats, row)
    return stats


def _add_sft_row(stats: DatasetStats, row: Mapping[str, Any]) -> None:
    plan = row_plan_or_none(row)
    if plan is None:
        stats.unparsable += 1
    else:
        stats.add_plan(plan)
    offered = _offered_count(row.get("tools"))
    if offered is not None:
        stats.offered[offered] += 1
    meta = row.get("meta")
    if isinstance(meta, Mapping) and isinstance(meta.get("distractors"), list):
        stats.distractors[len(meta["distractors"])] += 1


def _offered_count(raw: Any) -> int | None:
    """How many functions a row offered (``tools``: OpenAI entries, or a JSON string in rows of planforge 0.1)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, list):
        return len(raw)
    return 1 if isinstance(raw, dict) else None


def _add_pair_row(stats: DatasetStats, row: Mapping[str, Any], tool_cache: ToolCache) -> None:
    tools = tool_cache.find(row.get("tools"))
    plan = message_plan(row.get("chosen"), tools)
    if plan is None:
        stats.unparsable += 1
    else:
        stats.add_plan(plan)
    if tools is not None:
        stats.offered[len(tools)] += 1
    for column, counter in (("rejection_kind", stats.rejection_kinds), ("rejection_source", stats.rejection_sources)):
        value = row.get(column)
        if isinstance(value, str) and value:
            counter[value] += 1
    errors = row.get("rejected_errors")
    if isinstance(errors, str):
        try:
            errors = json.loads(errors)
        except ValueError:
            errors = [errors] if errors else []
    if isinstance(errors, list):
        for error in errors:
            code = error.get("code") if isinstance(error, Mapping) else error
            if isinstance(code, str):
                stats.rejected_errors[code] += 1
    if "verdict" in row:
        verdict = row.get("verdict")
        stats.verdicts[verdict if isinstance(verdict, str) and verdict else "disputed"] += 1
    agreement = _number(row.get("agreement"))
    if agreement is None:  # `gen review pull`: agreeing annotators out of all who reviewed the pair
        agreed, annotators = _number(row.get("agreed")), _number(row.get("annotators"))
        agreement = agreed / annotators if agreed is not None and annotators else None
    if agreement is not None:
        stats.agreements.append(float(agreement))
    kinds = row.get("error_kinds")
    if isinstance(kinds, list):
        stats.review_error_kinds.update(k for k in kinds if isinstance(k, str) and k)
    stats.corrected += row.get("corrected") is True
    stats.swapped += row.get("swapped") is True


def cooccurrence_matrix(stats: DatasetStats, top: int = 15) -> tuple[list[str], list[list[int]]]:
    """The ``top`` most used functions and a symmetric matrix: plans using both (the diagonal: plans using
    the function)."""
    names = stats.functions[:top]
    matrix = []
    for a in names:
        line = []
        for b in names:
            if a == b:
                line.append(stats.function_plans[a])
            else:
                line.append(stats.cooccurrence[(a, b) if a < b else (b, a)])
        matrix.append(line)
    return names, matrix


def distribution_summary(counter: Mapping[int, int]) -> dict[str, float] | None:
    """min / mean / median / max of a value -> count histogram (``None`` when empty)."""
    total = sum(counter.values())
    if not total:
        return None
    values = sorted(counter)
    mean = sum(v * c for v, c in counter.items()) / total
    seen, median = 0, values[0]
    for v in values:
        seen += counter[v]
        if seen * 2 >= total:
            median = v
            break
    return {"min": values[0], "mean": mean, "median": median, "max": values[-1]}
