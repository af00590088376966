"""Agreement statistics and majority on hand-computed cases, and how several annotators' answers resolve into an exported
pair (pure: no server)."""

from __future__ import annotations

from collections import Counter

import pytest

from planforge.curation_ui.agreement import agreement, cohen_kappa, krippendorff_alpha, majority
from planforge.curation_ui.pull import Judgement, build_report, judgements_from_answers, resolve, to_dataset

from .helpers import ZOOM, make_pair


def test_cohen_kappa_hand_computed():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["x", "y"], ["x", "y"]) == pytest.approx(1.0)
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # chance agreement 1: undefined
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError):
        cohen_kappa(["x"], [])


def test_krippendorff_alpha_on_the_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal data: 4 coders, 12 units,
    # some units missing coders -> alpha 0.743.
    coders = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    labels = {
        unit: {coder: f"label{values[unit]}" for coder, values in coders.items() if values[unit] is not None}
        for unit in range(12)
    }
    assert krippendorff_alpha(labels) == pytest.approx(0.743, abs=1e-3)
    assert krippendorff_alpha({"r1": {"a": "x", "b": "x"}, "r2": {"a": "x", "b": "x"}}) is None  # one label
    assert krippendorff_alpha({"r1": {"a": "x"}, "r2": {"b": "y"}}) is None  # nothing shared


def test_majority_needs_more_than_half():
    assert majority(["chosen", "chosen", "both"]) == ("chosen", 2)
    assert majority(["chosen", "both"]) == (None, 1)
    assert majority(["chosen", "chosen", "both", "neither"]) == (None, 2)
    assert majority(["neither"]) == ("neither", 1)
    assert majority([]) == (None, 0)


def test_agreement_picks_cohen_for_two_and_krippendorff_for_more():
    two = {"r1": {"ann": "chosen", "bob": "chosen"}, "r2": {"ann": "both", "bob": "chosen"}, "r3": {"ann": "x"}}
    result = agreement(two)
    assert result.method == "cohen_kappa" and result.items == 2 and result.annotators == 2
    assert result.value == pytest.approx(cohen_kappa(["chosen", "both"], ["chosen", "chosen"]))
    assert result.percent == pytest.approx(0.5)
    three = {"r1": {"a": "x", "b": "x", "c": "x"}, "r2": {"a": "x", "b": "x", "c": "y"}}
    result = agreement(three)
    assert result.method == "krippendorff_alpha"
    assert result.value == pytest.approx(krippendorff_alpha(three))
    assert set(result.pairwise) == {"a / b", "a / c", "b / c"}
    assert agreement({"r1": {"a": "x"}}).method == "none"


GOOD_FIX = ZOOM.rsplit("\n", 1)[0]  # the right plan, written without its join() line
BAD_FIX = "1. launch_rockets()\n2. join()"


def test_answers_map_back_to_chosen_and_rejected():
    answers = {"bob": {"correct": "A", "error_kinds": ["missing_step"]}, "ann": {"correct": "B"}, "eve": {}}
    assert judgements_from_answers(answers, a_chosen=False) == [
        Judgement("ann", "chosen"),
        Judgement("bob", "rejected", ("missing_step",)),
    ]


def test_agreeing_annotators_export_the_pair_unchanged(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    found = resolve(
        pair,
        "train",
        [
            Judgement("ann", "chosen", ("hallucinated_function",)),
            Judgement("bob", "chosen", ("hallucinated_function", "missing_step")),
        ],
    )
    row = found.row
    assert found.verdict == "chosen" and row is not None
    assert row["chosen"] == pair["chosen"] and row["rejected"] == pair["rejected"]
    assert (row["annotators"], row["agreed"], row["agreed_by"]) == (2, 2, ["ann", "bob"])
    assert row["error_kinds"] == ["hallucinated_function", "missing_step"]  # each by at least half
    assert not row["corrected"] and not row["swapped"]


def test_a_split_vote_is_disputed_and_dropped(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    found = resolve(pair, "train", [Judgement("ann", "chosen"), Judgement("bob", "both")])
    assert found.verdict is None and found.row is None and found.dropped == "disputed"


def test_neither_uses_the_valid_correction_and_reports_the_invalid_one(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    found = resolve(
        pair,
        "test",
        [
            Judgement("ann", "neither", ("hallucinated_function",), GOOD_FIX),
            Judgement("bob", "neither", (), BAD_FIX),
        ],
    )
    row = found.row
    assert row["corrected"] and row["corrected_by"] == "ann" and not row["swapped"]
    assert row["chosen"][0]["content"] == ZOOM  # canonical, join() added
    assert row["rejected"] == pair["rejected"]
    assert row["chosen_valid"] and not row["rejected_valid"]
    assert [c.valid for c in found.corrections] == [True, False]
    assert found.corrections[1].verdict.codes == ("unknown_function",)


def test_neither_without_a_valid_correction_is_dropped(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    found = resolve(pair, "train", [Judgement("ann", "neither", (), BAD_FIX), Judgement("bob", "neither")])
    assert found.row is None and found.dropped == "neither_without_valid_correction"


def test_rejected_verdict_swaps_a_valid_rejected_plan(mac_tools):
    other = (  # valid, just not the same plan
        '1. get_email_address("Sid")\n'
        '2. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "", ["$1"], "", None)\n'
        "3. join()"
    )
    pair = make_pair(mac_tools, other, rejected_valid=True, rejected_errors=[])
    found = resolve(pair, "train", [Judgement("ann", "rejected")])
    row = found.row
    assert row["swapped"] and row["chosen"][0]["content"] == other and row["rejected"] == pair["chosen"]
    assert (row["annotators"], row["agreed"]) == (1, 1)
    invalid = resolve(make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()'), "train", [Judgement("a", "rejected")])
    assert invalid.row is None and invalid.dropped == "rejected_plan_invalid"


def test_both_is_dropped_and_a_two_thirds_majority_wins(mac_tools):
    pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()')
    assert resolve(pair, "train", [Judgement("a", "both"), Judgement("b", "both")]).dropped == "both_correct"
    found = resolve(pair, "train", [Judgement("a", "chosen"), Judgement("b", "chosen"), Judgement("c", "neither")])
    assert (found.verdict, found.row["agreed"], found.row["annotators"]) == ("chosen", 2, 3)


def test_report_and_dataset(mac_tools):
    pairs = {}
    resolutions, judgements = [], {}
    cases = [
        ("p1", [Judgement("ann", "chosen", ("hallucinated_function",)), Judgement("bob", "chosen")]),
        ("p2", [Judgement("ann", "chosen"), Judgement("bob", "both")]),
        ("p3", [Judgement("ann", "neither", (), GOOD_FIX), Judgement("bob", "neither", (), BAD_FIX)]),
    ]
    for pid, found in cases:
        pair = make_pair(mac_tools, '1. fetch_email("Sid")\n2. join()', id=pid)
        pairs[pid] = pair
        judgements[pid] = found
        resolutions.append(resolve(pair, "train" if pid != "p3" else "test", found))
    report = build_report(resolutions, judgements, pairs, total_records=5, dataset="d", workspace="w")
    assert report["verdicts"] == {"chosen": 1, "rejected": 0, "both": 0, "neither": 1, "disputed": 1}
    assert report["exported"] == {"train": 1, "test": 1} and report["unreviewed"] == 2
    assert report["not_exported"] == {"disputed": 1}
    assert report["corrections"] == {"submitted": 2, "valid": 1, "invalid": 1, "used": 1}
    assert report["invalid_corrections"][0]["pair_id"] == "p3"
    assert report["agreement"]["method"] == "cohen_kappa" and report["agreement"]["items"] == 3
    assert report["error_kinds"] == {"hallucinated_function": 1}
    data = to_dataset(resolutions)
    assert list(data) == ["train", "test"] and Counter(data["train"]["verdict"]) == {"chosen": 1}
