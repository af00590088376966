"""The dataset card: metadata that passes the Hub's validation (checked offline) and a body that says how
the data was made."""

from __future__ import annotations

import re

import pytest
from huggingface_hub import DatasetCard

from planforge.dataset.features import PLAN_FEATURES, PLANS, REVIEWED_PAIRS
from planforge.dataset.provenance import RunRecord
from planforge.dataset.stats import compute_stats
from planforge.publishing.card import (
    CardInputs,
    CardOptions,
    card_body,
    card_metadata,
    render_card,
    reproduce_commands,
    validate_card,
)
from tests.publishing import fixtures

OPTS = CardOptions(repo_id="acme/mac-plans", source_dir="out/mac")


def sft_inputs(run: dict | None = None) -> CardInputs:
    ds = fixtures.sft_dataset(30)
    sizes = {k: len(v) for k, v in ds.items()}
    stats = compute_stats({k: v.to_list() for k, v in ds.items()}, PLANS, sizes)
    summary = RunRecord.from_dict(fixtures.run_json(ds) if run is None else run)
    return CardInputs(
        PLANS,
        stats,
        summary,
        list(PLAN_FEATURES),
        examples=ds["train"].to_list()[:3],
        provenance_files=["provenance/run.json"],
        recipe_meta=fixtures.recipe_meta(),
    )


def sft_card(run: dict | None = None) -> str:
    inputs = sft_inputs(run)
    meta = card_metadata(inputs, OPTS, PLAN_FEATURES, {"train": 1000, "validation": 200, "test": 200})
    return str(render_card(meta, card_body(inputs, OPTS)))


def test_metadata_passes_validation() -> None:
    text = sft_card()
    assert validate_card(text, ["train", "validation", "test"]) == []
    meta = DatasetCard(text).data.to_dict()
    assert meta["license"] == "apache-2.0" and meta["language"] == ["en"]
    assert meta["task_categories"] == ["text-generation"] and meta["size_categories"] == ["n<1K"]
    assert {"function-calling", "tool-use", "llmcompiler", "synthetic"} <= set(meta["tags"])
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "validation", "path": "data/validation-*"},
                {"split": "test", "path": "data/test-*"},
            ],
        }
    ]
    splits = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert splits == {"train": 20, "validation": 5, "test": 5}
    assert [f["name"] for f in meta["dataset_info"]["features"]] == list(PLAN_FEATURES)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("license: apache-2.0", "license: apache2"), "license 'apache2' is not a Hub license"),
        (("license: apache-2.0", "license: other"), "license 'other' needs license_name"),
        (("- en\n", "- english\n"), "language: 'english'"),
        (("- n<1K", "- tiny"), "size_categories: 'tiny'"),
        (("- text-generation", "- function-calling"), "task_categories: 'function-calling'"),
        (("- machine-generated\nlanguage:", "- robots\nlanguage:"), "language_creators: 'robots'"),
        (("path: data/test-*", "path: 7"), "configs"),
        (("  - split: test\n", "  - split: te st\n"), "configs: "),
    ],
)
def test_validation_catches_what_the_hub_rejects(change: tuple[str, str], problem: str) -> None:
    text = sft_card()
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    problems = validate_card(broken, ["train", "validation", "test"])
    assert any(problem in p for p in problems), problems


def test_validation_checks_splits_and_yaml() -> None:
    text = sft_card()
    assert any("lists splits" in p for p in validate_card(text, ["train"]))
    assert validate_card("# no metadata") == ["no YAML metadata block"]
    assert validate_card("---\nlicense: [unclosed\n---\n")[0].startswith("metadata does not parse")


def test_body_says_how_it_was_made() -> None:
    text = sft_card()
    body = text.split("\n---\n", 1)[1]
    for heading in (
        "# mac assistant function-calling plans",
        "## Dataset structure",
        "## How it was made",
        "## Functions",
        "## Examples",
        "## Intended uses",
        "## Limitations",
        "## Reproduce",
        "## Citation",
    ):
        assert re.search(rf"^{re.escape(heading)}$", body, re.M), heading
    assert "| train | 20 |" in body and "| **total** | 30 |" in body
    assert f"**Recipe:** `mac_assistant`, version 1.2.0, hash `{'0' * 64}`" in body
    assert "Recipe: A local assistant on a Mac that turns a request into a plan of calls." in body
    assert "**Teacher calls:** 14 requests (1 failed), 13 responses" in body
    assert "**Target:** 30 examples (stopped: target reached)" in body
    assert "the recipe draws 1–3 target functions per request; plus 2 distractors" in body
    assert "co-use priors for 1 functions" in body and "between 2026-01-05 and 2026-12-18" in body
    assert "Recipe rules checked as well: `lookup_before_contact`, `iso_dates`." in body
    assert "| proposed by the teacher | 60 | 100.0% |" in body and "| accepted (distinct, kept) | 30 | 50.0% |" in body
    assert "**Teacher:** openai, model `gpt-4o-mini`" in body
    assert "acceptance rate 50.0% (accepted / proposed)" in body
    assert "duplicate rate 31.8% (dropped / valid)" in body
    assert "| `unknown_function` | 3 | 37.5% |" in body
    assert "Duplicates dropped: exact: 8, near: 6 (total 14)." in body
    assert "$0.0524" in body and "224,500 tokens (183,000 prompt, 41,500 completion)" in body
    assert "**Function sampling:** each request offered" in body and "distractors" in body
    assert "| `get_email_address` | 4 |" not in body  # 30 rows: 10 plans use it
    assert "| `get_email_address` | 10 | 33.3% | 15 |" in body
    assert 'load_dataset("acme/mac-plans")' in body
    assert "gen run recipe mac_assistant --out out/mac -n 30 --api-key" in body  # argv[0] spelled gen
    assert "gen publish out/mac --repo-id acme/mac-plans" in body
    assert "@inproceedings{kim2024llmcompiler" in body and "2409.00608" in body
    assert body.count("**Example ") == 3 and "1. get_email_address(" in body


def test_card_from_what_is_known() -> None:
    """No run.json: no generation numbers, but still a valid card; the command is reconstructed when the
    run says enough."""
    bare = sft_card({})
    assert validate_card(bare) == []
    assert "No `run.json` was found" in bare and "acceptance rate" not in bare
    partial = sft_card({"recipe": {"name": "mac_assistant"}, "requested": 80, "seed": 3})
    assert "Reconstructed from the run's settings" in partial
    assert "gen run recipe mac_assistant --out out/mac -n 80 --seed 3" in partial
    lines, reconstructed = reproduce_commands(sft_inputs({}), OPTS)
    assert reconstructed and lines == ["gen publish out/mac --repo-id acme/mac-plans"]


def test_pairs_card() -> None:
    rows = fixtures.pair_rows(12, reviewed=True)
    stats = compute_stats({"train": rows[:9], "test": rows[9:]}, REVIEWED_PAIRS, {"train": 9, "test": 3})
    inputs = CardInputs(
        REVIEWED_PAIRS,
        stats,
        RunRecord.from_dict({}),
        list(rows[0]),
        examples=rows[:2],
        pairs_report=fixtures.PAIRS_REPORT,
        review_report=fixtures.REVIEW_REPORT,
    )
    opts = CardOptions(repo_id="acme/mac-pairs", license="cc-by-4.0", language=("en", "fr"))
    text = str(render_card(card_metadata(inputs, opts), card_body(inputs, opts)))
    assert validate_card(text, ["train", "test"]) == []
    meta = DatasetCard(text).data.to_dict()
    assert {"dpo", "preference", "human-feedback"} <= set(meta["tags"])
    assert meta["multilinguality"] == ["multilingual"] and meta["license"] == "cc-by-4.0"
    assert "expert-generated" in meta["annotations_creators"]
    assert "Review verdicts: Mean reviewer agreement: 0.67." in text
    assert "| chosen | 6 |" in text and "| disputed | 3 |" in text
    assert "| missing_step | 6 |" in text  # what reviewers said
    assert "Reviewers wrote the chosen plan of 3 pairs and swapped chosen and rejected in 3" in text
    assert "**Pairs:** built from 12 validated examples; 12 pairs made; skipped: no_rejection 2." in text
    assert "**Review:** 12 of 14 pairs reviewed; 3 reviewers; inter-annotator agreement (krippendorff alpha) 0.612" in text
    assert "ana" not in text.split("## Examples")[0]  # reviewer names stay out of the description
    assert "*rejected (wrong_function, from corruption)*" in text
    assert "| `rejected_equivalent` | whether the rejected plan is equivalent" in text
    assert "@inproceedings{rafailov2023dpo" in text
    assert "No `run.json`" not in text  # pairs have no run.json of their own


def test_card_names_the_template_teacher_and_shows_how_to_train_and_cite() -> None:
    run = fixtures.run_json(fixtures.sft_dataset(30))
    run.update(teacher="template", model="template")
    body = sft_card(run)
    assert "written by planforge's offline template teacher (a request grammar, no language model)" in body
    assert "teacher LLM (template" not in body
    assert "SFTTrainer(" in body and 'load_dataset("acme/mac-plans")' in body and "for_template" in body
    assert "## Personal information" in body and "synthetic" in body.split("## Personal information")[1][:400]
    assert "@misc{acmemacplans" in body and "https://huggingface.co/datasets/acme/mac-plans" in body
    llm = sft_card()  # the fixture's run: an LLM teacher
    assert "written by a teacher LLM (openai" in llm and "DPOTrainer(" not in llm


def test_an_imported_dataset_says_where_it_came_from() -> None:
    from planforge.publishing.card import written_by

    run = RunRecord.from_dict({"teacher": "import:bfcl", "imported_from": {"path": "/d/BFCL_v4_parallel.json"}})
    assert written_by(run) == "imported from bfcl data (BFCL_v4_parallel.json)"
