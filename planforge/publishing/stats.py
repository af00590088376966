"""The numbers behind the dataset card and the report: pure functions over rows and ``run.json``.

Rows are plain dicts (as ``datasets`` yields them); nothing here does I/O.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from planforge.plan import Plan, PlanSyntaxError, parse_calls, parse_plan
from planforge.tools import ToolSet, ToolSpecError, tools_from_json
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


def row_plan_sft(row: Mapping[str, Any]) -> Plan | None:
    try:
        return parse_calls(json.loads(row["plan"]))
    except (KeyError, TypeError, ValueError, PlanSyntaxError):
        return None


class ToolCache:
    def __init__(self) -> None:
        self._cache: dict[str, ToolSet | None] = {}

    def get(self, raw: Any) -> ToolSet | None:
        if not isinstance(raw, str):
            return None
        if raw not in self._cache:
            try:
                self._cache[raw] = tools_from_json(json.loads(raw))
            except (ValueError, ToolSpecError):
                self._cache[raw] = None
        return self._cache[raw]


def message_plan(messages: Any, tools: ToolSet | None) -> Plan | None:
    """The plan in an assistant turn (``[{"role": "assistant", "content": ..., "tool_calls": ...}]``):
    its LLMCompiler/JSON content, else its ``tool_calls``."""
    if isinstance(messages, Mapping):
        messages = [messages]
    if not isinstance(messages, list) or not messages:
        return None
    message = messages[-1]
    if not isinstance(message, Mapping):
        return None
    order = tools.param_order if tools is not None else None
    content = message.get("content")
    if isinstance(content, str) and content.strip():
        try:
            plan = parse_plan(content, param_order=order)
            return plan.bind(order) if order else plan
        except PlanSyntaxError:
            pass
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        try:
            return parse_calls(calls)
        except PlanSyntaxError:
            return None
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


def iter_rows(rows: Iterable[Mapping[str, Any]], columns: Iterable[str] = ()) -> Iterable[Mapping[str, Any]]:
    """Rows as dicts; a ``datasets.Dataset`` is read 1,000 rows at a time, only ``columns`` (when given)."""
    column_names = getattr(rows, "column_names", None)
    if column_names is None or not hasattr(rows, "iter"):
        yield from rows
        return
    wanted = [c for c in columns if c in column_names] or list(column_names)
    for batch in rows.select_columns(wanted).iter(batch_size=1000):  # type: ignore[attr-defined]
        n = len(next(iter(batch.values())))
        for i in range(n):
            yield {c: batch[c][i] for c in wanted}


def compute_stats(
    splits: Mapping[str, Iterable[Mapping[str, Any]]], kind: str, split_sizes: dict[str, int]
) -> DatasetStats:
    """Statistics over every row of every split (rows as dicts, or ``datasets.Dataset`` splits, read in
    batches of the columns used)."""
    stats = DatasetStats(kind, dict(split_sizes))
    tool_cache = ToolCache()
    pairs = kind != "sft"
    for rows in splits.values():
        for row in iter_rows(rows, PAIR_STATS_COLUMNS if pairs else SFT_STATS_COLUMNS):
            if pairs:
                _add_pair_row(stats, row, tool_cache)
            else:
                _add_sft_row(stats, row)
    return stats


def _add_sft_row(stats: DatasetStats, row: Mapping[str, Any]) -> None:
    plan = row_plan_sft(row)
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
    if not isinstance(raw, str):
        return None
    try:
        offered = json.loads(raw)
    except ValueError:
        return None
    return len(offered) if isinstance(offered, list) else 1


def _add_pair_row(stats: DatasetStats, row: Mapping[str, Any], tool_cache: ToolCache) -> None:
    tools = tool_cache.get(row.get("tools"))
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


# --------------------------------------------------------------------------------------------------
# run.json


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _count_map(value: Any) -> dict[str, int]:
    if isinstance(value, Mapping):
        return {str(k): int(v) for k, v in value.items() if _number(v) is not None}
    if isinstance(value, list):  # [{"code": ..., "count": ...}]
        out = {}
        for item in value:
            if isinstance(item, Mapping) and "code" in item and _number(item.get("count")) is not None:
                out[str(item["code"])] = int(item["count"])
        return out
    return {}


@dataclass
class RunSummary:
    """What ``run.json`` says, with every missing key left as ``None``/empty."""

    funnel: list[tuple[str, int]]  # (stage, examples), in pipeline order, only the known stages
    rejected: dict[str, int]  # validator code -> count, most frequent first
    duplicates: dict[str, int]  # exact / near / ...
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    wall_seconds: float | None
    teacher: str | None
    model: str | None
    base_url: str | None
    recipe: dict[str, Any]
    seed: Any
    argv: list[str] | None
    sampling: Any
    validators: Any
    requested: int | None = None  # examples asked for (the run's target)
    teacher_requests: int | None = None
    failed_requests: int | None = None
    responses: int | None = None  # teacher responses (each may propose several examples)
    surplus: int | None = None  # valid, distinct examples beyond the target
    stop_reason: str | None = None
    planforge_version: str | None = None

    def count(self, stage: str) -> int | None:
        return dict(self.funnel).get(stage)

    @property
    def accepted(self) -> int | None:
        return self.count("accepted")

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted examples per example the teacher proposed (or, unknown that, per parsed or requested)."""
        accepted = self.count("accepted")
        base = next((self.count(s) for s in ("proposed", "parsed") if self.count(s)), None) or self.requested
        return accepted / base if accepted is not None and base else None

    @property
    def acceptance_base(self) -> str:
        return next((s for s in ("proposed", "parsed") if self.count(s)), "requested")

    @property
    def validity_rate(self) -> float | None:
        valid, parsed = self.count("valid"), self.count("parsed")
        return valid / parsed if valid is not None and parsed else None

    @property
    def duplicates_total(self) -> int:
        return sum(self.duplicates.values())

    @property
    def duplicate_rate(self) -> float | None:
        """Duplicates dropped per valid plan."""
        valid = self.count("valid")
        return self.duplicates_total / valid if valid and self.duplicates else None

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    @property
    def cost_per_accepted(self) -> float | None:
        return self.cost_usd / self.accepted if self.cost_usd is not None and self.accepted else None

    @property
    def known(self) -> bool:
        return bool(self.funnel or self.rejected or self.duplicates or self.cost_usd is not None or self.teacher)

    @property
    def command(self) -> list[str] | None:
        """``argv`` with the program spelled ``gen`` (run.json records the script's path)."""
        if not self.argv:
            return None
        program = self.argv[0].replace("\\", "/").rsplit("/", 1)[-1]
        if program.startswith("python") and len(self.argv) > 2 and self.argv[1] == "-m":
            return ["gen", *self.argv[3:]]  # python -m planforge ...
        if program in ("gen", "planforge") or program.endswith(".py"):
            return ["gen", *self.argv[1:]]
        return list(self.argv)


FUNNEL_STAGES = ("proposed", "parsed", "valid", "accepted")


def summarize_run(run: Mapping[str, Any]) -> RunSummary:
    """Read ``run.json`` defensively (any key may be missing or malformed)."""
    nested = run.get("stats") if isinstance(run.get("stats"), Mapping) else {}

    def number(key: str) -> int | None:
        value = _number(run.get(key))
        value = _number(nested.get(key)) if value is None else value
        return int(value) if value is not None else None

    funnel = [(stage, n) for stage in FUNNEL_STAGES if (n := number(stage)) is not None]
    requested = number("requested")
    # no count of proposed examples: the request count is the top of the funnel when it is the widest
    no_proposed = not any(stage == "proposed" for stage, _ in funnel)
    if no_proposed and requested is not None and all(requested >= n for _, n in funnel):
        funnel.insert(0, ("requested", requested))
    rejected = dict(sorted(_count_map(run.get("rejected")).items(), key=lambda kv: (-kv[1], kv[0])))
    duplicates = _count_map(run.get("duplicates"))
    if not duplicates and _number(run.get("duplicates")) is not None:
        duplicates = {"total": int(run["duplicates"])}
    tokens = run.get("tokens") if isinstance(run.get("tokens"), Mapping) else {}
    prompt = _number(tokens.get("prompt", tokens.get("prompt_tokens")))
    completion = _number(tokens.get("completion", tokens.get("completion_tokens")))
    recipe = run.get("recipe")
    if isinstance(recipe, str):
        recipe = {"name": recipe}
    argv = run.get("argv", run.get("command"))
    if isinstance(argv, str):
        argv = argv.split()
    return RunSummary(
        funnel=funnel,
        rejected=rejected,
        duplicates=duplicates,
        prompt_tokens=int(prompt) if prompt is not None else None,
        completion_tokens=int(completion) if completion is not None else None,
        cost_usd=_number(run.get("cost_usd")),
        wall_seconds=_number(run.get("wall_seconds")),
        teacher=run.get("teacher") if isinstance(run.get("teacher"), str) else None,
        model=run.get("model") if isinstance(run.get("model"), str) else None,
        base_url=run.get("base_url") if isinstance(run.get("base_url"), str) else None,
        recipe=dict(recipe) if isinstance(recipe, Mapping) else {},
        seed=run.get("seed"),
        argv=[str(a) for a in argv] if isinstance(argv, list) else None,
        sampling=run.get("sampling", run.get("function_sampling")),
        requested=requested,
        teacher_requests=number("requests"),
        failed_requests=number("failed_requests"),
        responses=number("responses"),
        surplus=number("surplus"),
        stop_reason=run.get("stop_reason") if isinstance(run.get("stop_reason"), str) else None,
        planforge_version=run.get("planforge_version") if isinstance(run.get("planforge_version"), str) else None,
        validators=run.get("validators"),
    )
