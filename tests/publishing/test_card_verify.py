"""The card and the report show the meaning check of `gen run --verify` beside the funnel."""

from planforge.dataset.provenance import RunRecord
from planforge.publishing.card import card_body
from planforge.publishing.report import _verify_caption
from tests.publishing import fixtures
from tests.publishing.test_card import OPTS, sft_inputs

REPLAN = {
    "method": "replan", "model": "checker-7b", "base_url": "http://127.0.0.1:8000/v1", "checked": 40, "agreed": 31,
    "replan_mismatch": 7, "replan_failed": 2, "kept": 31, "prompt_tokens": 9000, "completion_tokens": 800,
}  # fmt: skip


def run_with(verify: dict) -> dict:
    run = fixtures.run_json(fixtures.sft_dataset(30))
    run["verify"] = verify
    return run


def test_replan_counts_are_a_funnel_stage_and_a_sentence_in_the_card():
    run = run_with(REPLAN)
    body = card_body(sft_inputs(run), OPTS)
    assert "| verified (a blind replan gave the same plan) | 31 |" in body
    assert "**Meaning check (replan):** `checker-7b`" in body
    assert "Of 40 checked: 31 agreed, 7 gave another plan (`replan_mismatch`), 2 gave no readable plan" in body
    assert "Meaning check: checker-7b replanned 40 valid requests blind; 31 agreed, 7" in _verify_caption(
        RunRecord.from_dict(run)
    )


def test_judge_counts_are_a_sentence_and_no_stage():
    judge = {"method": "judge", "model": "judge-1", "checked": 12, "yes": 9, "no": 2, "unknown": 1, "kept": 12}
    run = run_with(judge)
    record = RunRecord.from_dict(run)
    assert "verified" not in dict(record.funnel) and record.to_dict()["verify"] == judge
    body = card_body(sft_inputs(run), OPTS)
    assert "Of 12 checked: 9 yes, 2 no, 1 unknown." in body


def test_a_run_without_a_check_says_nothing_of_it():
    run = fixtures.run_json(fixtures.sft_dataset(30))
    assert "Meaning check" not in card_body(sft_inputs(run), OPTS)
    assert "verify" not in RunRecord.from_dict(run).to_dict()
