"""``gen report``: one self-contained HTML page of charts about a dataset (opens offline).

Charts are drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend change)
and embedded as base64 PNG data URIs; the page has inline CSS and no scripts. Chart *data* comes from
:mod:`planforge.dataset.stats`; this module only draws and lays out.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from planforge.dataset.features import PLANS
from planforge.dataset.provenance import RunRecord
from planforge.dataset.rows import ToolCache, iter_rows, message_plan
from planforge.dataset.stats import (
    DatasetStats,
    compute_stats,
    cooccurrence_matrix,
    dag_levels,
    distribution_summary,
    plan_levels,
    row_plan_or_none,
)
from planforge.plan import Plan
from planforge.publishing.source import Source
from planforge.secrets import Scrubber
from planforge.structures import structure_key
from planforge.validators import plan_graph

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974"]
ACCENT = "#4C72B0"
DPI = 110


# --------------------------------------------------------------------------------------------------
# drawing helpers


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _style(ax, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color="#222")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8.5, colors="#333")


def _ranked(counts: Counter) -> dict[str, int]:
    return dict(counts.most_common())


def _bars(
    name: str, counts: Mapping[str, float], unit: str, color: str, caption: str, title: str | None = None
) -> Chart:
    """A chart of horizontal bars, one per key of ``counts``, in the mapping's order."""
    labels = list(counts)
    figure = bar_chart_h(labels, [counts[k] for k in labels], title or name, unit, color=color)
    return Chart(name, figure_to_data_uri(figure), caption)


def bar_chart_h(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, color: str = ACCENT):
    """Horizontal bars, largest on top, value printed at the end of each bar."""
    fig = _figure(7.2, max(1.6, 0.32 * len(labels) + 0.9))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    bars = ax.barh(ys, values, color=color, height=0.7)
    ax.set_yticks(ys, labels=list(labels), fontsize=8.5)
    ax.set_xlabel(xlabel, fontsize=9)
    top = max(values) if values else 1
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{value:,.0f}",
            va="center",
            fontsize=8,
            color="#333",
        )
    ax.set_xlim(0, top * 1.12 if top else 1)
    _integer_ticks(ax.xaxis)
    _style(ax, title)
    return fig


def bar_chart_v(counter: Mapping[int, int], title: str, xlabel: str, color: str = ACCENT):
    """Bars for an integer histogram (every value between min and max gets a slot)."""
    fig = _figure(7.2, 3.2)
    ax = fig.add_subplot()
    if counter:
        xs = list(range(min(counter), max(counter) + 1))
        ys = [counter.get(x, 0) for x in xs]
        bars = ax.bar(xs, ys, color=color, width=0.75)
        ax.set_xticks(xs)
        for bar, y in zip(bars, ys, strict=True):
            if y:
                ax.text(bar.get_x() + bar.get_width() / 2, y, f"{y:,}", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, max(ys) * 1.15)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("rows", fontsize=9)
    _integer_ticks(ax.yaxis)
    _style(ax, title)
    return fig


def heatmap(names: Sequence[str], matrix: Sequence[Sequence[int]], title: str):
    import numpy as np
    from matplotlib import colormaps

    fig = _figure(max(7.2, 0.42 * len(names) + 2.6), max(5.0, 0.42 * len(names) + 2.2))
    ax = fig.add_subplot()
    cmap = colormaps["YlGnBu"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_equal(np.asarray(matrix, dtype=float), 0), cmap=cmap, aspect="equal", vmin=0)
    ax.set_xticks(range(len(names)), labels=names, rotation=55, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), labels=names, fontsize=8)
    top = max((max(row) for row in matrix), default=0) or 1
    if len(names) <= 16:
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    ax.text(
                        j,
                        i,
                        f"{value}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > top * 0.55 else "#222",
                    )
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="plans")
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color="#222")
    return fig


def funnel_chart(funnel: Sequence[tuple[str, int]], title: str):
    labels = [stage for stage, _ in funnel]
    values = [n for _, n in funnel]
    fig = bar_chart_h(labels, values, title, "examples")
    ax = fig.axes[0]
    first = values[0] or 1
    for i, (bar, value) in enumerate(zip(ax.patches, values, strict=True)):
        if i:
            ax.text(
                bar.get_width() / 2,
                bar.get_y() + bar.get_height() / 2,
                f"{100 * value / first:.0f}%",
                va="center",
                ha="center",
                fontsize=8,
                color="white",
                fontweight="bold",
            )
    return fig


def tokens_chart(summary: RunRecord, title: str):
    labels, values = [], []
    if summary.prompt_tokens is not None:
        labels.append("prompt tokens")
        values.append(summary.prompt_tokens)
    if summary.completion_tokens is not None:
        labels.append("completion tokens")
        values.append(summary.completion_tokens)
    fig = bar_chart_h(labels, values, title, "tokens", color=PALETTE[4])
    return fig


def pie_chart(counter: Mapping[str, int], title: str):
    fig = _figure(7.2, 3.4)
    ax = fig.add_subplot()
    items = sorted(counter.items(), key=lambda kv: -kv[1])
    ax.pie(
        [v for _, v in items],
        labels=[f"{k} ({v:,})" for k, v in items],
        colors=PALETTE[: len(items)],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.45, "edgecolor": "white"},
        textprops={"fontsize": 8.5},
    )
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color="#222")
    return fig


def histogram(values: Sequence[float], title: str, xlabel: str):
    fig = _figure(7.2, 3.2)
    ax = fig.add_subplot()
    ax.hist(values, bins=min(10, max(3, len(set(values)))), color=PALETTE[2], edgecolor="white")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("pairs", fontsize=9)
    _integer_ticks(ax.yaxis)
    _style(ax, title)
    return fig


def node_label(step: Any, width: int = 26) -> str:
    """``N. function`` and, below it, its first literal argument (a name, a place, a title): what the step is
    about. ``$K`` inputs are drawn as arrows, not written."""
    label = f"{step.index}. {step.name}"
    for value in step.values():
        if isinstance(value, str) and value and not value.startswith("$"):
            return f"{label}\n{textwrap.shorten(repr(value), width, placeholder='…')}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{label}\n{value!r}"
    return label


def draw_plan(plan: Plan, ax: Any = None, *, title: str | None = None):
    """A plan's DAG, layered left to right by depth: a step sits one layer right of its deepest input. Each
    node shows its key argument. With ``ax`` it draws there (a side-by-side figure) and returns None."""
    graph = plan_graph(plan)
    levels = dag_levels(graph)
    steps = {s.index: s for s in plan.calls}
    layers: dict[int, list[int]] = {}
    for node in sorted(graph.nodes):
        layers.setdefault(levels[node], []).append(node)
    n_layers = max(layers) + 1 if layers else 1
    tallest = max((len(v) for v in layers.values()), default=1)
    fig = None
    if ax is None:
        fig = _figure(max(4.6, 2.55 * n_layers + 0.6), max(1.8, 0.95 * tallest + 0.6))
        ax = fig.add_subplot()
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9, loc="left", color="#333")
    texts = {}
    for level, nodes in layers.items():
        for rank, node in enumerate(nodes):
            y = (len(nodes) - 1) / 2 - rank
            texts[node] = ax.text(
                level,
                y,
                node_label(steps[node]) if node in steps else f"{node}. {graph.nodes[node]['name']}",
                ha="center",
                va="center",
                fontsize=8,
                color="#111",
                parse_math=False,
                bbox={
                    "boxstyle": "round,pad=0.45",
                    "fc": PALETTE[level % len(PALETTE)] + "33",
                    "ec": PALETTE[level % len(PALETTE)],
                    "lw": 1.4,
                },
            )
    ax.set_xlim(-0.7, n_layers - 0.3)
    ax.set_ylim(-(tallest / 2) - 0.1, tallest / 2 + 0.1)
    for a, b in graph.edges:
        ax.annotate(
            "",
            xy=(0, 0.5),
            xycoords=texts[b],
            xytext=(1, 0.5),
            textcoords=texts[a],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#444",
                "lw": 1.1,
                "shrinkA": 2,
                "shrinkB": 2,
                "connectionstyle": "arc3,rad=0.0",
            },
        )
    return fig


def draw_pair(chosen: Plan, rejected: Plan | None, rejected_text: str = ""):
    """The chosen plan beside the rejected one (or, when it cannot be read, its text)."""
    depth = max(_depth(chosen), _depth(rejected) if rejected is not None else 1)
    tall = max(_width(chosen), _width(rejected) if rejected is not None else 1)
    fig = _figure(max(7.5, 5.2 * depth / 2 + 3), max(2.0, 0.95 * tall + 0.8))
    left, right = fig.subplots(1, 2)
    draw_plan(chosen, left, title="chosen")
    if rejected is not None and rejected.calls:
        draw_plan(rejected, right, title="rejected")
    else:
        right.set_axis_off()
        right.set_title("rejected (cannot be read as a plan)", fontsize=9, loc="left", color="#333")
        # Wrapped here: matplotlib's own wrapping measures "$" as mathtext even with parse_math off.
        shown = textwrap.fill(textwrap.shorten(rejected_text, 300), 60)
        right.text(0, 1, shown, va="top", fontsize=7.5, parse_math=False)
    return fig


def _depth(plan: Plan) -> int:
    levels = plan_levels(plan)
    return max(levels.values()) + 1 if levels else 1


def _width(plan: Plan) -> int:
    levels = plan_levels(plan)
    return max(Counter(levels.values()).values()) if levels else 1


# --------------------------------------------------------------------------------------------------
# samples


@dataclass
class SamplePlan:
    title: str
    subtitle: str
    plan: Plan
    rejected: Plan | None = None  # pairs: the rejected plan, drawn beside the chosen one
    rejected_text: str = ""


def _length_band(calls: int) -> str:
    return "1 call" if calls == 1 else "2-3 calls" if calls <= 3 else "4-5 calls" if calls <= 5 else "6+ calls"


def pick_sample_plans(
    source: Source, n: int = 4, scan: int = 2000, scrubber: Scrubber | None = None
) -> list[SamplePlan]:
    """A representative mix of plans: the most common structures, one plan each, spread over plan lengths
    (one of each length band first), so the samples look like the data rather than its extremes."""
    scrub = scrubber.precise if scrubber else (lambda s: s)
    by_structure: dict[str, tuple[int, SamplePlan]] = {}
    counts: Counter[str] = Counter()
    tool_cache = ToolCache()
    seen = 0
    columns = (
        ("id", "query", "plan")
        if source.kind == PLANS
        else ("id", "query", "prompt", "chosen", "rejected", "tools", "rejection_kind")
    )
    for split_name, split in source.splits.items():
        for row in iter_rows(split, columns):
            if seen >= scan:
                break
            seen += 1
            rejected, rejected_text = None, ""
            if source.kind == PLANS:
                plan = row_plan_or_none(row)
                title = str(row.get("query", ""))
                extra = ""
            else:
                tools = tool_cache.find(row.get("tools"))
                plan = message_plan(row.get("chosen"), tools)
                rejected = message_plan(row.get("rejected"), tools)
                rejected_text = str(((row.get("rejected") or [{}])[-1] or {}).get("content") or "")
                prompt = row.get("prompt") or []
                title = row.get("query") if isinstance(row.get("query"), str) else None
                title = title or next(
                    (
                        m.get("content", "")
                        for m in reversed(prompt)
                        if isinstance(m, Mapping) and m.get("role") == "user"
                    ),
                    "",
                )
                extra = f" · rejected: {row.get('rejection_kind', 'n/a')}"
            if plan is None or not plan.calls:
                continue
            key = structure_key(plan)
            counts[key] += 1
            if key not in by_structure:
                subtitle = f"{split_name} · {row.get('id', '')} · {len(plan.calls)} calls, depth {_depth(plan)}{extra}"
                sample = SamplePlan(scrub(title), scrub(subtitle), plan, rejected, scrub(rejected_text))
                by_structure[key] = (len(plan.calls), sample)
    common = sorted(by_structure, key=lambda k: (-counts[k], k))
    picked: list[SamplePlan] = []
    bands: set[str] = set()
    for key in common:  # the most common structure of each length band first
        band = _length_band(by_structure[key][0])
        if band not in bands and len(picked) < n:
            bands.add(band)
            picked.append(by_structure[key][1])
    for key in common:  # then the next most common, whatever their length
        if len(picked) >= n:
            break
        if by_structure[key][1] not in picked:
            picked.append(by_structure[key][1])
    return sorted(picked, key=lambda sample: len(sample.plan.calls))


# --------------------------------------------------------------------------------------------------
# page


@dataclass
class Chart:
    title: str
    image: str  # data URI
    caption: str = ""
    wide: bool = False


@dataclass(frozen=True)
class ChartSpec:
    """One chart of the report: shown when ``shown(stats, run)`` holds, drawn by ``draw(stats, run)``."""

    title: str
    shown: Callable[[DatasetStats, RunRecord], bool]
    draw: Callable[[DatasetStats, RunRecord], Chart]


def _function_frequency(stats: DatasetStats, run: RunRecord) -> Chart:
    names = stats.functions[:30]
    figure = bar_chart_h(
        names, [stats.function_plans[f] for f in names], "Function frequency", "plans using the function"
    )
    caption = "How many plans call each function (at least once)."
    if len(stats.function_plans) > 30:
        caption += f" Top 30 of {len(stats.function_plans)}."
    return Chart("Function frequency", figure_to_data_uri(figure), caption)


def _cooccurrence(stats: DatasetStats, run: RunRecord) -> Chart:
    names, matrix = cooccurrence_matrix(stats, top=15)
    return Chart(
        "Function co-occurrence",
        figure_to_data_uri(heatmap(names, matrix, "Function co-occurrence")),
        "Plans that use both functions; the diagonal counts plans using the function.",
    )


def _dag_depth(stats: DatasetStats, run: RunRecord) -> Chart:
    figure = bar_chart_v(stats.dag_depths, "DAG depth", "longest dependency chain (steps)", color=PALETTE[2])
    parallel = f" {100 * stats.parallel_plans / stats.plans:.0f}% of plans have steps that can run in parallel."
    return Chart("DAG depth", figure_to_data_uri(figure), _summary_caption(stats.dag_depths, "steps") + parallel)


def _agreement(stats: DatasetStats, run: RunRecord) -> Chart:
    mean = sum(stats.agreements) / len(stats.agreements)
    figure = histogram(stats.agreements, "Reviewer agreement", "share of reviewers agreeing")
    return Chart("Reviewer agreement", figure_to_data_uri(figure), f"Mean agreement {mean:.2f}.")


def _verify_caption(run: RunRecord) -> str:
    """What the funnel caption adds for ``gen run --verify``: the model and its counts."""
    verify = run.verify
    if not verify:
        return ""
    model = verify.get("model") or "n/a"
    if verify.get("method") == "replan":
        return (
            f" Meaning check: {model} replanned {verify.get('checked', 0):,} valid requests blind; "
            f"{verify.get('agreed', 0):,} agreed, {verify.get('replan_mismatch', 0):,} gave another plan, "
            f"{verify.get('replan_failed', 0):,} none readable."
        )
    return (
        f" Meaning check: {model} judged {verify.get('checked', 0):,} plans: {verify.get('yes', 0):,} yes, "
        f"{verify.get('no', 0):,} no, {verify.get('unknown', 0):,} unknown (kept, with the verdict in meta)."
    )


#: The report's charts in order; a chart with nothing to show (no duplicates, no tokens) is left out.
CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "Generation funnel",
        lambda stats, run: bool(run.funnel),
        lambda stats, run: Chart(
            "Generation funnel",
            figure_to_data_uri(funnel_chart(run.funnel, "Generation funnel")),
            "From the examples the teacher proposed to those kept; percentages of the first stage."
            + _verify_caption(run),
        ),
    ),
    ChartSpec("Function frequency", lambda stats, run: bool(stats.function_plans), _function_frequency),
    ChartSpec("Function co-occurrence", lambda stats, run: len(stats.function_plans) >= 2, _cooccurrence),
    ChartSpec(
        "Plan length",
        lambda stats, run: bool(stats.function_plans),
        lambda stats, run: Chart(
            "Plan length",
            figure_to_data_uri(bar_chart_v(stats.plan_lengths, "Plan length", "calls per plan (join() excluded)")),
            _summary_caption(stats.plan_lengths, "calls"),
        ),
    ),
    ChartSpec("DAG depth", lambda stats, run: bool(stats.function_plans and stats.plans), _dag_depth),
    ChartSpec(
        "Rejections by validator code",
        lambda stats, run: bool(run.rejected),
        lambda stats, run: _bars(
            "Rejections by validator code",
            run.rejected,
            "plans",
            PALETTE[3],
            "Plans the validators rejected, counted once under each error code they showed.",
        ),
    ),
    ChartSpec(
        "Duplicates dropped",
        lambda stats, run: run.duplicates_total > 0,
        lambda stats, run: _bars(
            "Duplicates dropped",
            run.duplicates,
            "examples",
            PALETTE[1],
            f"{run.duplicates_total:,} valid examples dropped as exact or near duplicates.",
        ),
    ),
    ChartSpec(
        "Tokens",
        lambda stats, run: bool(run.total_tokens),
        lambda stats, run: Chart("Tokens", figure_to_data_uri(tokens_chart(run, "Teacher tokens")), _cost_caption(run)),
    ),
    ChartSpec(
        "Rejection kinds",
        lambda stats, run: bool(stats.rejection_kinds),
        lambda stats, run: _bars(
            "Rejection kinds",
            _ranked(stats.rejection_kinds),
            "pairs",
            PALETTE[3],
            "The defect of each pair's rejected plan.",
            title="Rejected plans: what is wrong",
        ),
    ),
    ChartSpec(
        "Rejection sources",
        lambda stats, run: bool(stats.rejection_sources),
        lambda stats, run: Chart(
            "Rejection sources",
            figure_to_data_uri(pie_chart(stats.rejection_sources, "Rejected plans: where from")),
            "Origin of the rejected plans.",
        ),
    ),
    ChartSpec(
        "Validator errors of rejected plans",
        lambda stats, run: bool(stats.rejected_errors),
        lambda stats, run: _bars(
            "Validator errors of rejected plans",
            _ranked(stats.rejected_errors),
            "errors",
            PALETTE[5],
            "Error codes the validators report on the rejected plans.",
        ),
    ),
    ChartSpec(
        "Review verdicts",
        lambda stats, run: bool(stats.verdicts),
        lambda stats, run: Chart(
            "Review verdicts",
            figure_to_data_uri(pie_chart(stats.verdicts, "Review verdicts")),
            "Verdicts of the human review.",
        ),
    ),
    ChartSpec(
        "Reviewers' error kinds",
        lambda stats, run: bool(stats.review_error_kinds),
        lambda stats, run: _bars(
            "Reviewers' error kinds",
            _ranked(stats.review_error_kinds),
            "mentions",
            PALETTE[6],
            "Error kinds the reviewers marked on the rejected plans.",
            title="What reviewers found wrong",
        ),
    ),
    ChartSpec("Reviewer agreement", lambda stats, run: bool(stats.agreements), _agreement),
)


def sample_chart(i: int, sample: SamplePlan) -> Chart:
    fig = draw_plan(sample.plan) if sample.rejected is None and not sample.rejected_text else None
    if fig is None:
        fig = draw_pair(sample.plan, sample.rejected, sample.rejected_text)
    caption = f"“{textwrap.shorten(sample.title, 240)}” — {sample.subtitle}"
    return Chart(f"Sample plan {i}", figure_to_data_uri(fig), caption, wide=fig.get_figwidth() > 7.5)


def build_charts(stats: DatasetStats, summary: RunRecord, samples: Sequence[SamplePlan]) -> list[Chart]:
    charts = [spec.draw(stats, summary) for spec in CHARTS if spec.shown(stats, summary)]
    return charts + [sample_chart(i, sample) for i, sample in enumerate(samples, start=1)]


def _summary_caption(counter: Counter[int], unit: str) -> str:
    s = distribution_summary(counter)
    if not s:
        return ""
    return f"{s['min']:.0f}–{s['max']:.0f} {unit}, mean {s['mean']:.2f}, median {s['median']:.0f}."


def _cost_caption(summary: RunRecord) -> str:
    parts = []
    if summary.cost_usd is not None:
        parts.append(f"cost ${summary.cost_usd:,.4f}")
    if summary.cost_per_accepted is not None:
        parts.append(f"${1000 * summary.cost_per_accepted:,.4f} per 1,000 accepted examples")
    if summary.total_tokens is not None and summary.accepted:
        parts.append(f"{summary.total_tokens / summary.accepted:,.0f} tokens per accepted example")
    return ("; ".join(parts) + ".") if parts else ""


def _tiles(stats: DatasetStats, summary: RunRecord, review: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    tiles = [("rows", f"{stats.total:,}"), ("splits", " / ".join(f"{k} {v:,}" for k, v in stats.split_sizes.items()))]
    if stats.function_plans:
        tiles.append(("functions used", f"{len(stats.function_plans):,}"))
    lengths, depths = distribution_summary(stats.plan_lengths), distribution_summary(stats.dag_depths)
    if lengths:
        tiles.append(("mean plan length", f"{lengths['mean']:.2f} calls"))
    if depths:
        tiles.append(("mean DAG depth", f"{depths['mean']:.2f}"))
    if summary.acceptance_rate is not None:
        tiles.append((f"accepted / {summary.acceptance_base}", f"{100 * summary.acceptance_rate:.1f}%"))
    if summary.duplicate_rate is not None:
        tiles.append(("duplicate rate", f"{100 * summary.duplicate_rate:.1f}%"))
    if summary.cost_usd is not None:
        tiles.append(("cost", f"${summary.cost_usd:,.4f}"))
    if summary.total_tokens is not None:
        tiles.append(("tokens", f"{summary.total_tokens:,}"))
    if summary.wall_seconds is not None:
        tiles.append(("wall time", f"{summary.wall_seconds:,.0f} s"))
    if stats.verdicts:
        tiles.append(("reviewed pairs", f"{sum(stats.verdicts.values()):,}"))
    agreement = (review or {}).get("agreement")
    if isinstance(agreement, Mapping) and isinstance(agreement.get("value"), (int, float)):
        name = str(agreement.get("method") or "agreement").replace("_", " ")
        tiles.append((f"agreement ({name})", f"{agreement['value']:.3f}"))
    if stats.corrected:
        tiles.append(("corrected by reviewers", f"{stats.corrected:,}"))
    return tiles


_CSS = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 -apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;
color:#1d1d1f;background:#f4f5f7}header{background:#1f2937;color:#fff;padding:22px 32px}
header h1{margin:0 0 4px;font-size:24px}header p{margin:0;color:#cbd5e1;font-size:13px}
main{padding:20px 32px 40px;max-width:1500px;margin:auto}.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 22px}
.tile{background:#fff;border-radius:10px;padding:12px 16px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.tile b{display:block;font-size:20px;color:#1f2937}.tile span{font-size:12px;color:#6b7280;text-transform:uppercase;
letter-spacing:.04em}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:18px;
align-items:start}.intro{color:#4b5563;font-size:14px;margin:-4px 0 12px}
figure{margin:0;background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
figure.wide{grid-column:1/-1}figure img{max-width:100%;height:auto;display:block;margin:auto}
figcaption{font-size:13px;color:#4b5563;margin-top:8px}h2{font-size:18px;margin:28px 0 12px;color:#1f2937}
.note{background:#fff7ed;border-left:4px solid #fb923c;padding:10px 14px;border-radius:6px;margin:10px 0}
table{border-collapse:collapse;background:#fff;border-radius:8px;overflow:hidden;font-size:13px}
td,th{padding:6px 12px;border-bottom:1px solid #e5e7eb;text-align:left}td.n{text-align:right}
footer{color:#9ca3af;font-size:12px;text-align:center;padding:20px}
"""


def render_html(
    title: str,
    subtitle: str,
    tiles: Sequence[tuple[str, str]],
    charts: Sequence[Chart],
    notes: Sequence[str] = (),
    facts: Sequence[tuple[str, str]] = (),
) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{e(title)}</h1><p>{e(subtitle)}</p></header><main>",
        '<section class="tiles">',
    ]
    parts += [f'<div class="tile"><b>{e(value)}</b><span>{e(label)}</span></div>' for label, value in tiles]
    parts.append("</section>")
    parts += [f'<p class="note">{e(note)}</p>' for note in notes]
    if facts:
        parts.append("<h2>How it was made</h2><table>")
        parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts]
        parts.append("</table>")
    plots = [c for c in charts if not c.title.startswith("Sample plan")]
    dags = [c for c in charts if c.title.startswith("Sample plan")]
    for heading, group, intro in (
        ("Charts", plots, ""),
        (
            "Sample plans",
            dags,
            "Each box is a call; an arrow runs from a step to the steps that use its output "
            "($K). Steps in the same column do not depend on each other and can run in parallel.",
        ),
    ):
        if not group:
            continue
        parts.append(
            f"<h2>{heading}</h2>" + (f'<p class="intro">{e(intro)}</p>' if intro else "") + '<div class="grid">'
        )
        for chart in group:
            cls = ' class="wide"' if chart.wide else ""
            parts.append(
                f'<figure{cls}><img alt="{e(chart.title)}" src="{chart.image}">'
                f"<figcaption>{e(chart.caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append("</main><footer>Generated by planforge · gen report</footer></body></html>")
    return "\n".join(parts)


def _facts(summary: RunRecord) -> list[tuple[str, str]]:
    facts = []
    recipe = summary.recipe
    if recipe:
        facts.append(("recipe", " ".join(str(recipe[k]) for k in ("name", "version", "hash") if recipe.get(k))))
    if summary.teacher or summary.model:
        facts.append(("teacher / model", f"{summary.teacher or 'n/a'} / {summary.model or 'n/a'}"))
    if summary.base_url:
        facts.append(("endpoint", summary.base_url))
    if summary.seed is not None:
        facts.append(("seed", str(summary.seed)))
    if summary.command:
        import shlex

        facts.append(("command", shlex.join(summary.command)))
    return facts


def build_report(source: Source, *, scrubber: Scrubber | None = None, samples: int = 4) -> str:
    """The whole page for a loaded dataset folder (every text shown is scrubbed)."""
    scrubber = scrubber or Scrubber.from_env()
    stats = compute_stats(source.splits, source.kind, source.split_sizes)
    summary = RunRecord.from_dict(scrubber.obj(source.run))
    sample_plans = pick_sample_plans(source, samples, scrubber=scrubber)
    charts = build_charts(stats, summary, sample_plans)
    kind = {PLANS: "function-calling plans", "pairs": "preference pairs", "reviewed_pairs": "reviewed preference pairs"}
    name = summary.recipe.get("name") or source.path.name
    title = f"{name}: {kind.get(source.kind, source.kind)}"
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = scrubber.text(f"{source.path} · generated {generated}")
    notes = list(source.notes)
    if source.kind == PLANS and not summary.known:
        notes.append("No generation statistics (run.json) were found: only the data's own statistics are shown.")
    if stats.unparsable:
        notes.append(f"{stats.unparsable:,} rows have a plan that could not be read; they are left out of the charts.")
    return render_html(
        title,
        subtitle,
        _tiles(stats, summary, scrubber.obj(source.review_report)),
        charts,
        [scrubber.text(n) for n in notes],
        [(k, scrubber.text(v)) for k, v in _facts(summary)],
    )


def report_to_file(source: Source, out: Any, *, scrubber: Scrubber | None = None, samples: int = 4) -> int:
    """Write the report; returns its size in bytes."""
    from pathlib import Path

    page = build_report(source, scrubber=scrubber, samples=samples)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode("utf-8")
    path.write_bytes(data)
    return len(data)
