"""Chart and card numbers: pure functions over rows."""

from __future__ import annotations

import json
from collections import Counter

from planforge.dataset.features import PAIRS, PLANS, REVIEWED_PAIRS
from planforge.dataset.stats import (
    compute_stats,
    cooccurrence_matrix,
    dag_depth,
    dag_levels,
    distribution_summary,
    plan_levels,
    row_plan_or_none,
    size_category,
)
from planforge.errors import DatasetError
from planforge.plan import parse_text
from planforge.publishing.source import detect_kind, order_splits
from planforge.validators import plan_graph
from tests.publishing import fixtures


def test_dag_depth_and_levels() -> None:
    plan = parse_text(
        '1. get_email_address("A")\n2. get_email_address("B")\n3. compose_new_email(["$1", "$2"], [], "s", "c", [])\n'
        '4. send_sms(["$3"], "sent")\n5. create_note("n", "x", "")\n6. join()'
    )
    graph = plan_graph(plan)
    assert dag_depth(graph) == 3  # 1 -> 3 -> 4 (longest path length 2, plus 1)
    assert dag_levels(graph) == {1: 0, 2: 0, 3: 1, 4: 2, 5: 0}
    assert dag_depth(plan_graph(parse_text("1. join()"))) == 0


def test_plan_levels_match_networkx() -> None:
    for row in fixtures.sft_rows(12):
        plan = row_plan_or_none(row)
        assert plan_levels(plan) == dag_levels(plan_graph(plan))
    forward = parse_text('1. send_sms(["$2"], "x")\n2. get_phone_number("a")')  # invalid, but drawable
    assert plan_levels(forward) == dag_levels(plan_graph(forward)) == {2: 0, 1: 1}


def test_sft_stats() -> None:
    rows = fixtures.sft_rows(12)
    stats = compute_stats({"train": rows[:10], "test": rows[10:]}, PLANS, {"train": 10, "test": 2})
    assert stats.total == 12 and stats.plans == 12 and stats.unparsable == 0
    # 6 plan templates, twice each
    assert stats.function_plans["get_email_address"] == 4 and stats.function_calls["get_email_address"] == 6
    assert stats.function_plans["summarize_pdf"] == 2
    assert stats.plan_lengths == Counter({3: 6, 2: 4, 1: 2})
    assert stats.dag_depths == Counter({3: 4, 2: 4, 1: 4})
    assert stats.parallel_plans == 4  # two lookups side by side, a note beside a reminder
    assert stats.offered and set(stats.distractors) == {2}
    assert stats.functions[:2] == ["compose_new_email", "get_email_address"]
    names, matrix = cooccurrence_matrix(stats, top=5)
    assert len(names) == len(matrix) == 5
    assert all(matrix[i][j] == matrix[j][i] for i in range(5) for j in range(5))
    i, j = names.index("compose_new_email"), names.index("get_email_address")
    assert matrix[i][j] == 2 and matrix[i][i] == 4


def test_pair_stats() -> None:
    rows = fixtures.pair_rows(8, reviewed=True)
    stats = compute_stats({"train": rows}, REVIEWED_PAIRS, {"train": 8})
    assert stats.plans == 8
    assert stats.rejection_kinds == Counter(
        {"wrong_function": 2, "missing_step": 2, "bad_reference": 2, "wrong_argument": 2}
    )
    assert stats.rejection_sources == Counter({"corruption": 6, "student": 2})
    assert stats.rejected_errors == Counter({"bad_reference": 4})  # {code, step, message} dicts
    assert stats.verdicts == Counter({"chosen": 4, "rejected": 2, "disputed": 2})
    assert stats.agreements == [1.0, 2 / 3, 1.0, 0.0] * 2  # agreed / annotators
    assert stats.review_error_kinds == Counter({"missing_step": 4, "wrong_argument": 2})
    assert stats.corrected == stats.swapped == 2
    plain = compute_stats(
        {"train": fixtures.pair_rows(4, reviewed=True, agreement_column=True)}, REVIEWED_PAIRS, {"train": 4}
    )
    assert plain.agreements == [1.0, 0.67, 1.0, 0.5]


def test_size_categories_and_summaries() -> None:
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 100_000, 5_000_000)] == [
        "n<1K",
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "100K<n<1M",
        "1M<n<10M",
    ]
    assert distribution_summary(Counter()) is None
    assert distribution_summary(Counter({1: 1, 2: 2, 5: 1})) == {"min": 1, "mean": 2.5, "median": 2, "max": 5}


def test_detect_kind() -> None:
    assert detect_kind(["id", "query", "tools", "plan", "plan_text", "messages", "target_tools", "meta"]) == PLANS
    assert detect_kind(["id", "prompt", "chosen", "rejected", "tools", "rejection_kind"]) == PAIRS
    assert detect_kind(["id", "prompt", "chosen", "rejected", "verdict", "agreement"]) == REVIEWED_PAIRS
    try:
        detect_kind(["text", "label"])
    except DatasetError as exc:
        assert "unknown dataset columns" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected DatasetError")
    assert order_splits(["test", "extra", "train", "validation"]) == ["train", "validation", "test", "extra"]


def test_stored_structures_and_plans_give_the_same_figures(plans_dir) -> None:
    """Rows of `gen run` carry meta.structure; without it every figure comes from the plans, the same."""
    import datasets

    loaded = datasets.load_from_disk(str(plans_dir))
    sizes = {k: len(v) for k, v in loaded.items()}
    stored = compute_stats(loaded, PLANS, sizes)
    rows = {k: [dict(r, meta={**r["meta"], "structure": None}) for r in v] for k, v in loaded.items()}
    parsed = compute_stats(rows, PLANS, sizes)
    for field in ("structures", "function_plans", "function_calls", "cooccurrence", "plan_lengths", "dag_depths"):
        assert getattr(stored, field) == getattr(parsed, field), field
    assert stored.plans == parsed.plans == sum(sizes.values()) and stored.parallel_lookups == parsed.parallel_lookups
    assert stored.offered == parsed.offered and stored.offered_functions == parsed.offered_functions


def test_gen_stats_reports_coverage_and_a_dev_sets_structures(gen, plans_dir, tmp_path) -> None:
    import datasets

    rows = datasets.load_from_disk(str(plans_dir))["train"].select(range(3))
    dev = tmp_path / "dev.jsonl"
    items = [
        {"id": f"d{i}", "query": r["query"], "now": r["meta"]["now"], "plan": r["plan_text"], "difficulty": "multi"}
        for i, r in enumerate(rows)
    ]
    items.append(
        {"id": "x", "query": "Remind me tmrw to call the bank", "now": "2026-03-09 10:00:00", "difficulty": "single",
         "plan": '1. create_reminder("call the bank", "2026-03-10", "", "", 0, True)\n2. join()'}
    )  # fmt: skip
    dev.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    result = gen("stats", plans_dir, "--dev", dev, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    stats = compute_stats(datasets.load_from_disk(str(plans_dir)), PLANS, {})
    assert summary["plans"] == 40 and summary["distinct_structures"] == len(stats.structures)
    n = len(stats.offered_functions)
    assert summary["pair_coverage"] == {"seen": len(stats.cooccurrence), "feasible": n * (n - 1) // 2}
    assert summary["dev"]["structures"]["total"] == len({r["meta"]["structure"] for r in rows}) + 1
    assert summary["dev"]["items"]["multi"] == {"covered": 3, "total": 3}
    assert 0 <= summary["single_call_share"] <= 1 and sum(summary["plan_lengths"].values()) == 40
    table = gen("stats", plans_dir, "--dev", dev)
    assert table.exit_code == 0 and "distinct structures" in table.stdout and "multi items" in table.stdout


def test_a_bad_line_of_a_jsonl_set_is_one_line(gen, tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "query": "q", "now": "2026-03-09 10:00:00", "plan": "1. send_sms()"}) + "\n")
    result = gen("stats", bad)
    assert result.exit_code == 2 and "bad.jsonl:1: the gold plan is not valid" in result.stderr
