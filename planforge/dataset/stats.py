"""The numbers behind ``gen stats``, the dataset card and the report, computed with polars over the Arrow data.

A split is read column by column from its Arrow table (``datasets`` memory-maps it; polars reads it without a
copy), counts are polars group-bys, and what needs a plan's graph (depth, parallel steps, repeated calls) is
computed once per distinct plan *structure* (:mod:`planforge.structures`), not once per row: a million rows
of a few thousand structures take seconds. Rows written by ``gen run`` carry their structure key
(``meta.structure``); other rows get it from their plan. What ``run.json`` says is read by
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
from planforge.dataset.rows import message_plan, row_plan
from planforge.plan import Plan
from planforge.structures import LOOKUPS, parse_key, structure_key
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
    structures: Counter[str] = field(default_factory=Counter)  # plans per structure key
    offered_functions: frozenset[str] = frozenset()  # every function some row offers
    parallel_plans: int = 0  # plans with two or more steps on the same layer
    parallel_lookups: int = 0  # plans that look up two or more people (lookups side by side)
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

    @property
    def single_call_share(self) -> float:
        return self.plan_lengths.get(1, 0) / self.plans if self.plans else 0.0

    @property
    def pair_coverage(self) -> tuple[int, int]:
        """(function pairs some plan uses together, pairs of the functions the rows offer)."""
        n = len(self.offered_functions)
        return len(self.cooccurrence), n * (n - 1) // 2

    def add_structure(self, key: str, count: int = 1) -> None:
        """Count ``count`` plans of one structure: every plan figure comes from its graph."""
        names, edges = parse_key(key)
        self.plans += count
        self.structures[key] += count
        calls = Counter(names)
        for name, n in calls.items():
            self.function_calls[name] += n * count
        distinct = sorted(calls)
        for name in distinct:
            self.function_plans[name] += count
        for pair in combinations(distinct, 2):
            self.cooccurrence[pair] += count
        self.plan_lengths[len(names)] += count
        levels = _levels(len(names), edges)
        self.dag_depths[max(levels) + 1 if levels else 0] += count
        if levels and max(Counter(levels).values()) > 1:
            self.parallel_plans += count
        if sum(calls[name] for name in LOOKUPS) >= 2:
            self.parallel_lookups += count


def _levels(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """0-based layer of each of ``n`` nodes (edges go from earlier to later canonical positions or not: the
    layers are computed to a fixed point, which a DAG reaches in ``n`` rounds)."""
    preds: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        preds[v].append(u)
    levels = [0] * n
    for _ in range(n):
        changed = False
        for v in range(n):
            level = 1 + max((levels[u] for u in preds[v]), default=-1)
            if level != levels[v]:
                levels[v], changed = level, True
        if not changed:
            break
    return levels


PLAN_STATS_COLUMNS = ("meta", "target_tools")  # plan and tools only where meta lacks what they hold
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


def frame(rows: Any, columns: Iterable[str]) -> Any:
    """The ``columns`` a split has, as a polars DataFrame: an Arrow-backed ``datasets.Dataset`` without a copy,
    or a list of row dicts (tests, hand-made data)."""
    import polars as pl

    if hasattr(rows, "with_format") and hasattr(rows, "column_names"):
        wanted = [c for c in columns if c in rows.column_names]
        table = rows.select_columns(wanted).with_format("arrow")[:] if wanted else None
        return pl.from_arrow(table) if table is not None else pl.DataFrame()
    rows = list(rows)
    wanted = [c for c in columns if any(c in row for row in rows)]
    return pl.DataFrame([{c: row.get(c) for c in wanted} for row in rows], infer_schema_length=None, strict=False)


def compute_stats(splits: Mapping[str, Any], kind: str, split_sizes: dict[str, int]) -> DatasetStats:
    """Statistics over every row of every split (``datasets.Dataset`` splits or lists of row dicts).

    Only small columns are read where the rows allow it (a ``gen run`` row's ``meta`` holds its structure and
    distractors): the large ones (``tools``, ``plan``) stay on disk, so memory stays flat on a million rows."""
    stats = DatasetStats(kind, dict(split_sizes))
    offered: set[str] = set()
    for rows in splits.values():
        df = frame(rows, PAIR_STATS_COLUMNS if kind != PLANS else PLAN_STATS_COLUMNS)
        if not len(df):
            continue
        keys = _plan_structures(df, rows) if kind == PLANS else _chosen_structures(df)
        _count_structures(stats, keys)
        _count_offered(stats, df, rows, offered)
        if kind != PLANS:
            _count_pairs(stats, df)
    stats.offered_functions = frozenset(offered)
    return stats


def _count_structures(stats: DatasetStats, keys: Any) -> None:
    import polars as pl

    counted = pl.DataFrame({"key": keys}).group_by("key").len()
    for key, count in counted.iter_rows():
        if key is None:
            stats.unparsable += count
        else:
            stats.add_structure(key, count)


def _plan_structures(df: Any, rows: Any) -> list[str | None]:
    """Each row's structure key: ``meta.structure`` where ``gen run`` wrote it, else from its ``plan`` (read for
    those rows only)."""
    import polars as pl

    if "structure" in _meta_fields(df):
        keys = df.select(pl.col("meta").struct.field("structure")).to_series().to_list()
    else:
        keys = [None] * len(df)
    todo = [i for i, key in enumerate(keys) if key is None]
    if todo:
        plans = frame(rows, ("plan",))
        plans = plans["plan"].to_list() if "plan" in plans.columns else []
        for i in todo:
            parsed = row_plan_or_none({"plan": plans[i]}) if i < len(plans) and plans[i] is not None else None
            keys[i] = structure_key(parsed) if parsed is not None else None
    return keys


def _chosen_structures(df: Any) -> list[str | None]:
    """Each pair's chosen plan's structure (from the distinct chosen texts, each parsed once)."""
    import polars as pl

    if "chosen" not in df.columns:
        return [None] * len(df)
    texts = df.select(pl.col("chosen").list.last().struct.field("content")).to_series()
    keys: dict[str, str | None] = {}
    for text in texts.unique().to_list():
        plan = message_plan([{"role": "assistant", "content": text}], None) if text else None
        keys[text] = structure_key(plan) if plan is not None and plan.calls else None
    return [keys.get(t) for t in texts.to_list()]


def _count_offered(stats: DatasetStats, df: Any, rows: Any, offered: set[str]) -> None:
    """Functions offered per row and their union: from ``target_tools`` + ``meta.distractors`` when a row has
    them (no need to read the large ``tools`` column), else from ``tools``."""
    import polars as pl

    if "distractors" in _meta_fields(df):
        distractors = df.select(pl.col("meta").struct.field("distractors")).to_series()
        stats.distractors.update(dict(distractors.drop_nulls().list.len().value_counts().iter_rows()))
        if "target_tools" in df.columns:
            counts = df["target_tools"].list.len() + distractors.list.len()
            stats.offered.update(dict(counts.drop_nulls().value_counts().iter_rows()))
            offered.update(df["target_tools"].explode().drop_nulls().unique().to_list())
            offered.update(distractors.explode().drop_nulls().unique().to_list())
            return
    tools = df["tools"] if "tools" in df.columns else frame(rows, ("tools",)).get_column("tools", default=None)
    if tools is None:
        return
    if tools.dtype == pl.String:  # rows of planforge 0.1: a JSON string per row
        for raw in tools.unique().to_list():
            offered.update(_names_of(raw))
        stats.offered.update(n for n in map(_offered_count, tools.to_list()) if n is not None)
    else:
        stats.offered.update(dict(tools.list.len().value_counts().iter_rows()))
        for raw in tools.explode().drop_nulls().unique().to_list():
            offered.update(_names_of([raw]))


def _meta_fields(df: Any) -> set[str]:
    import polars as pl

    kind = df.schema.get("meta") if "meta" in df.columns else None
    return {f.name for f in kind.fields} if isinstance(kind, pl.Struct) else set()


def _names_of(raw: Any) -> set[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return set()
    names = set()
    for entry in raw if isinstance(raw, list) else [raw]:
        if isinstance(entry, str):
            try:
                entry = json.loads(entry)
            except ValueError:
                continue
        if isinstance(entry, Mapping):
            function = entry.get("function") if isinstance(entry.get("function"), Mapping) else entry
            if isinstance(function.get("name"), str):
                names.add(function["name"])
    return names


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


def _value_counts(series: Any) -> Counter[str]:
    return Counter({k: v for k, v in series.drop_nulls().value_counts().iter_rows() if k != ""})


def _count_pairs(stats: DatasetStats, df: Any) -> None:
    import polars as pl

    for column, counter in (("rejection_kind", stats.rejection_kinds), ("rejection_source", stats.rejection_sources)):
        if column in df.columns:
            counter.update(_value_counts(df[column]))
    if "rejected_errors" in df.columns and df["rejected_errors"].dtype != pl.String:
        errors = df["rejected_errors"].explode().drop_nulls()
        codes = errors.struct.field("code") if isinstance(errors.dtype, pl.Struct) else errors
        stats.rejected_errors.update(_value_counts(codes))
    if "verdict" in df.columns:
        stats.verdicts.update(_value_counts(df["verdict"].fill_null("").replace("", "disputed")))
    if "agreement" in df.columns:
        stats.agreements += [float(a) for a in df["agreement"].drop_nulls().to_list()]
    elif "agreed" in df.columns and "annotators" in df.columns:
        shares = df.select((pl.col("agreed") / pl.col("annotators")).alias("share"))["share"]
        stats.agreements += [float(a) for a in shares.drop_nulls().to_list() if a == a]
    if "error_kinds" in df.columns:
        stats.review_error_kinds.update(_value_counts(df["error_kinds"].explode()))
    for column in ("corrected", "swapped"):
        if column in df.columns:
            setattr(stats, column, getattr(stats, column) + int(df[column].fill_null(False).cast(pl.Int64).sum()))


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


# --------------------------------------------------------------------------------------------------
# gen stats


def stats_summary(stats: DatasetStats, top: int = 10) -> dict[str, Any]:
    """What ``gen stats`` prints (and ``--json`` writes): coverage of functions, pairs and structures."""
    from planforge.structures import describe

    seen, feasible = stats.pair_coverage
    plans = stats.plans or 1
    return {
        "kind": stats.kind,
        "rows": stats.total,
        "splits": stats.split_sizes,
        "plans": stats.plans,
        "unparsable": stats.unparsable,
        "distinct_structures": len(stats.structures),
        "single_call_share": round(stats.single_call_share, 4),
        "parallel_lookup_share": round(stats.parallel_lookups / plans, 4),
        "parallel_step_share": round(stats.parallel_plans / plans, 4),
        "pair_coverage": {"seen": seen, "feasible": feasible},
        "plan_lengths": dict(sorted(stats.plan_lengths.items())),
        "dag_depths": dict(sorted(stats.dag_depths.items())),
        "functions": {f: {"plans": stats.function_plans[f], "calls": stats.function_calls[f]} for f in stats.functions},
        "unused_functions": sorted(stats.offered_functions - set(stats.function_plans)),
        "top_structures": [
            {"plans": n, "structure": describe(key), "key": key} for key, n in stats.structures.most_common(top)
        ],
    }


def structure_coverage(stats: DatasetStats, reference: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """How many of a reference set's structures (``(group, key)`` per item, e.g. a hand-written dev set's
    difficulty and structure) the dataset holds: distinct structures and items, overall and per group."""
    items = [(group or "all", key) for group, key in reference if key is not None]
    distinct = {key for _, key in items}
    covered = {key for key in distinct if key in stats.structures}
    by_group: dict[str, list[int]] = {}
    for group, key in items:
        counts = by_group.setdefault(group, [0, 0])
        counts[0] += key in stats.structures
        counts[1] += 1
    return {
        "structures": {"covered": len(covered), "total": len(distinct)},
        "items": {g: {"covered": c, "total": t} for g, (c, t) in sorted(by_group.items())},
        "missing": sorted(distinct - covered),
    }


def reference_structures(splits: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """``(difficulty, structure key)`` of each row of a plans dataset (a hand-written set has a ``difficulty``
    column; others count as one group)."""
    out: list[tuple[str, str | None]] = []
    for rows in splits.values():
        df = frame(rows, ("meta", "difficulty"))
        keys = _plan_structures(df, rows)
        groups = df["difficulty"].fill_null("").to_list() if "difficulty" in df.columns else [""] * len(df)
        out += [(group or "all", key) for group, key in zip(groups, keys, strict=True)]
    return out


class StatsView:
    """:func:`stats_summary` (and a dev-set coverage) as rich tables: ``console.print(StatsView(summary))``."""

    def __init__(self, summary: Mapping[str, Any]):
        self.summary = summary

    def __rich__(self) -> Any:
        from rich.console import Group

        from planforge.console import count_table, key_value_table

        s = self.summary
        seen, feasible = s["pair_coverage"]["seen"], s["pair_coverage"]["feasible"]
        facts = [
            ("rows (splits)", f"{s['rows']:,} ({', '.join(f'{k} {v:,}' for k, v in s['splits'].items())})"),
            ("plans (unparsable)", f"{s['plans']:,} ({s['unparsable']:,})"),
            ("distinct structures", f"{s['distinct_structures']:,}"),
            ("single-call plans", f"{s['single_call_share']:.1%}"),
            ("plans looking up 2+ people", f"{s['parallel_lookup_share']:.1%}"),
            ("plans with parallel steps", f"{s['parallel_step_share']:.1%}"),
            ("function pairs used together", f"{seen:,} of {feasible:,}"),
            ("plan lengths", "  ".join(f"{k}: {v:,}" for k, v in s["plan_lengths"].items())),
        ]
        if s["unused_functions"]:
            facts.append(("functions offered, never used", ", ".join(s["unused_functions"])))
        parts: list[Any] = [key_value_table(f"{s['kind']} dataset", facts)]
        functions = [(name, f"{c['plans']:,} plans, {c['calls']:,} calls") for name, c in s["functions"].items()]
        parts.append(count_table("functions", ("function", "used in"), functions))
        if s["top_structures"]:
            rows = [(t["structure"], t["plans"]) for t in s["top_structures"]]
            parts.append(count_table("most common structures", ("structure", "plans"), rows))
        dev = s.get("dev")
        if dev:
            lines = [("structures", _share(dev["structures"]))]
            lines += [(f"{group} items", _share(counts)) for group, counts in dev["items"].items()]
            parts.append(key_value_table(f"coverage of {dev['path']}", lines))
        return Group(*parts)


def _share(counts: Mapping[str, int]) -> str:
    covered, total = counts["covered"], counts["total"]
    return f"{covered:,}/{total:,} ({covered / total:.1%})" if total else "0/0"
