"""Each command end to end through its typer app, on a tiny Llama and the packaged MiniLM: it runs, writes what
it promises, and reports metrics; configuration errors are one line before any training."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
from typer.testing import CliRunner

from planforge.dataset.features import PLAN_FEATURES
from planforge.plan import parse_plan
from planforge.trainers.cli import eval_app, train_app
from planforge.trainers.toolrag import THRESHOLD_GRID

from .conftest import NAMES, PLACES, make_examples, read_json

pytestmark = pytest.mark.torch

RUN_FILES = ("run_config.json", "metrics.json", "dataset_fingerprint.json")


def invoke(app, args: list[str]):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(app, args: list[str]) -> dict:
    result = invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])  # the metrics, as JSON, last on stdout


def assert_run_files(out: Path, command: str) -> dict:
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    run = read_json(out / "run_config.json")
    assert run["command"] == command
    assert set(read_json(out / "dataset_fingerprint.json")["splits"]) >= {"train"}
    return run


def test_train_toolrag_writes_a_classifier_and_its_figures(toolrag_dir, plans_dir):
    from planforge.trainers.toolrag import ToolRAGClassifier

    run = assert_run_files(toolrag_dir, "train toolrag")
    meta = read_json(toolrag_dir / "toolrag.json")
    offered = set()
    for split in datasets.load_from_disk(str(plans_dir)).values():
        for entries in split["tools"]:
            offered |= {entry["function"]["name"] for entry in entries}
    assert meta["labels"] == sorted(offered) == run["labels"]
    assert meta["threshold"] == 0.5
    assert read_json(toolrag_dir / "metrics.json")["threshold"] == {"threshold": 0.5, "chosen_on": "--threshold"}
    ev = read_json(toolrag_dir / "metrics.json")["eval"]
    assert ev["split"] == "test" and ev["examples"] == 12
    for key in ("recall", "precision", "mean_selected", "prompt_tokens_saved", "latency_ms_mean"):
        assert key in ev
    assert ev["baseline_top2"]["mean_selected"] == 2.0 and ev["baseline_top3"]["mean_selected"] == 3.0
    classifier = ToolRAGClassifier.load(toolrag_dir)
    picks = classifier.select(["Text Sid that I am late", "Walk me to SFO"])
    assert len(picks) == 2 and all(1 <= len(p) <= len(meta["labels"]) for p in picks)
    assert all(name in classifier.tools for p in picks for name in p)
    assert classifier.select(["x"], threshold=0.0)[0] == meta["labels"]  # threshold 0 keeps everything


def test_train_toolrag_calibrates_its_threshold_on_the_validation_split(plans_dir, tmp_path):
    out = tmp_path / "calibrated"
    args = ["--max-steps", 2, "--batch-size", 8, "--no-baseline", "--latency-requests", 0, "--target-all-needed", 0.9]
    metrics = ok(train_app, ["toolrag", "--data", plans_dir, "--out", out, *args])
    chosen = metrics["threshold"]
    assert chosen["chosen_on"] == "validation" and chosen["examples"] == 8 and chosen["target_all_needed"] == 0.9
    assert chosen["threshold"] in THRESHOLD_GRID and read_json(out / "toolrag.json")["threshold"] == chosen["threshold"]
    assert chosen["reached"] == (chosen["all_needed_selected_rate"] >= 0.9)
    assert metrics["eval"]["threshold"] == chosen["threshold"]  # the test split is scored at the chosen threshold


def test_eval_toolrag(toolrag_dir, plans_dir, tmp_path):
    metrics = ok(
        eval_app,
        [
            "toolrag",
            "--classifier",
            toolrag_dir,
            "--data",
            plans_dir,
            "--split",
            "validation",
            "--no-baseline",
            "--out",
            tmp_path / "ev",
        ],
    )
    assert metrics["split"] == "validation" and metrics["examples"] == 8
    assert "baseline_top3" not in metrics
    assert read_json(tmp_path / "ev" / "metrics.json")["recall"] == metrics["recall"]


def test_eval_toolrag_counts_prompt_tokens_with_the_planners_tokenizer(toolrag_dir, plans_dir, tiny_model_dir):
    args = ["--data", plans_dir, "--split", "validation", "--no-baseline", "--latency-requests", 0]
    own = ok(eval_app, ["toolrag", "--classifier", toolrag_dir, *args])
    planner = ok(eval_app, ["toolrag", "--classifier", toolrag_dir, *args, "--prompt-tokenizer", tiny_model_dir])
    assert planner["prompt_tokens_counted_with"] == str(tiny_model_dir) != own["prompt_tokens_counted_with"]
    assert planner["prompt_tokens_all_functions"] != own["prompt_tokens_all_functions"]  # another vocabulary
    assert planner["recall"] == own["recall"]


def test_train_sft_lora_writes_adapter_and_masks_the_prompt(sft_dir, plans_dir, tiny_model_dir):
    run = assert_run_files(sft_dir, "train sft")
    assert (sft_dir / "adapter_config.json").is_file() and (sft_dir / "adapter_model.safetensors").is_file()
    assert run["config"]["model"] == str(tiny_model_dir) and run["kind"] == "lora"
    metrics = read_json(sft_dir / "metrics.json")
    assert metrics["eval_examples"] == 8 and metrics["eval_loss"] > 0
    assert metrics["parameters"]["trainable"] < metrics["parameters"]["total"]

    # loss on the plan only: every labelled token belongs to the assistant's plan
    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PLANS
    from planforge.llms.local import load_causal_lm
    from planforge.trainers.prompts import PLAN_COLUMNS_SFT
    from planforge.trainers.sft import SFTRunConfig, build_sft_rows, make_trainer

    ds = load_dataset_of_kind(plans_dir, kind=PLANS, columns=PLAN_COLUMNS_SFT)
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    rows, _ = build_sft_rows(ds["train"].select(range(2)), where="test", tokenizer=tokenizer)
    cfg = SFTRunConfig(data=str(plans_dir), model=str(tiny_model_dir), out=str(sft_dir / "probe"), max_steps=1)
    trainer = make_trainer(cfg, model, tokenizer, datasets.Dataset.from_list(rows))
    example = trainer.train_dataset[0]
    labelled = [t for t, label in zip(example["input_ids"], example["labels"], strict=True) if label != -100]
    # the plan, its end-of-turn token and the template's newline after it
    assert tokenizer.decode(labelled).rstrip("\n") == ds["train"][0]["plan_text"] + "<|im_end|>"
    assert example["labels"][0] == -100


def test_train_sft_full_then_eval_the_saved_model(plans_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "full"
    ok(
        train_app,
        [
            "sft",
            "--data",
            plans_dir,
            "--model",
            tiny_model_dir,
            "--out",
            out,
            "--full",
            "--max-steps",
            2,
            "--batch-size",
            4,
            "--max-examples",
            8,
        ],
    )
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert not (out / "adapter_config.json").exists()
    assert read_json(out / "run_config.json")["kind"] == "full"
    metrics = ok(eval_app, ["plans", "--model", out, "--data", plans_dir, "--max-examples", 3, "--max-new-tokens", 16])
    assert metrics["examples"] == 3 and 0.0 <= metrics["success_rate"] <= 1.0


def test_train_sft_with_toolrag_prompts(plans_dir, tiny_model_dir, toolrag_dir, tmp_path):
    out = tmp_path / "sft-rag"
    metrics = ok(
        train_app,
        [
            "sft",
            "--data",
            plans_dir,
            "--model",
            tiny_model_dir,
            "--out",
            out,
            "--toolrag",
            toolrag_dir,
            "--max-steps",
            2,
            "--batch-size",
            4,
            "--max-examples",
            8,
        ],
    )
    assert "toolrag_mean_shown" in metrics
    assert read_json(out / "run_config.json")["config"]["toolrag"] == str(toolrag_dir)
    # evaluating the adapter reuses its classifier, so the model sees the format it was trained on
    ev = ok(eval_app, ["plans", "--adapter", out, "--data", plans_dir, "--max-examples", 2, "--max-new-tokens", 8])
    assert ev["toolrag"] == str(toolrag_dir)


def test_eval_plans_with_adapter_writes_predictions(sft_dir, plans_dir, tmp_path):
    out = tmp_path / "eval"
    metrics = ok(
        eval_app,
        [
            "plans",
            "--adapter",
            sft_dir,
            "--data",
            plans_dir,
            "--split",
            "test",
            "--max-examples",
            4,
            "--max-new-tokens",
            24,
            "--batch-size",
            2,
            "--out",
            out,
        ],
    )
    assert metrics["examples"] == 4 and metrics["adapter"] == str(sft_dir)
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 4 and {"id", "prediction", "valid", "success", "errors"} <= set(json.loads(lines[0]))
    assert_run_files(out, "eval plans")


def test_train_dpo_from_the_sft_adapter_and_from_scratch(pairs_dir, tiny_model_dir, sft_dir, tmp_path):
    out = tmp_path / "dpo"
    metrics = ok(
        train_app,
        [
            "dpo",
            "--pairs",
            pairs_dir,
            "--model",
            tiny_model_dir,
            "--adapter",
            sft_dir,
            "--out",
            out,
            "--max-steps",
            2,
            "--batch-size",
            2,
        ],
    )
    assert metrics["train_steps"] == 2 and metrics["eval_pairs"] == 4
    saved = read_json(out / "metrics.json")  # the step figures (the first step left out) and what they depend on
    assert saved["train_seconds_per_step"] > 0 and saved["train_cpu_seconds_per_step"] > 0
    assert {"train_first_step_seconds", "torch_threads", "omp_wait_policy"} <= set(saved)
    run = assert_run_files(out, "train dpo")
    assert run["start_adapter"] == str(sft_dir)
    assert (out / "adapter_model.safetensors").is_file() and not (out / "ref").exists()
    scratch = tmp_path / "dpo-scratch"
    ok(
        train_app,
        [
            "dpo",
            "--pairs",
            pairs_dir,
            "--model",
            tiny_model_dir,
            "--out",
            scratch,
            "--max-steps",
            1,
            "--batch-size",
            2,
            "--max-examples",
            4,
        ],
    )
    assert (scratch / "adapter_config.json").is_file()


def test_train_dpo_keeps_the_toolrag_prompts_of_its_sft_adapter(
    pairs_dir, plans_dir, tiny_model_dir, toolrag_dir, tmp_path
):
    from planforge.trainers.dpo import build_dpo_rows
    from planforge.trainers.toolrag import ToolRAGClassifier

    sft = tmp_path / "sft-rag"
    ok(
        train_app,
        ["sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", sft, "--toolrag", toolrag_dir]
        + ["--max-steps", 1, "--batch-size", 4, "--max-examples", 4],
    )
    out = tmp_path / "dpo-rag"
    metrics = ok(
        train_app,
        ["dpo", "--pairs", pairs_dir, "--model", tiny_model_dir, "--adapter", sft, "--out", out]
        + ["--max-steps", 1, "--batch-size", 2, "--max-examples", 4],
    )
    assert read_json(out / "run_config.json")["config"]["toolrag"] == str(toolrag_dir)
    assert metrics["toolrag_mean_shown"] > 0

    # each prompt lists the classifier's selection plus the functions the chosen plan calls, and nothing else
    classifier = ToolRAGClassifier.load(toolrag_dir)
    pairs = datasets.load_from_disk(str(pairs_dir))["train"].select(range(6))
    from planforge.llms.local import load_tokenizer
    from planforge.prompting import template_supports_tools

    tokenizer = load_tokenizer(tiny_model_dir)
    assert not template_supports_tools(tokenizer)  # ChatML: the functions are listed in the system turn
    from planforge.llms.views import PromptSettings, PromptViews

    views = PromptViews(PromptSettings(toolrag=str(toolrag_dir)), classifier=classifier)
    rows, _ = build_dpo_rows(pairs, "test", tokenizer, views)
    for pair, row, selected in zip(rows, pairs, classifier.select(pairs["query"]), strict=True):
        system = pair["prompt"][0]["content"]
        listed = set(re.findall(r"^([A-Za-z_][\w.]*)\(", system.split("Functions:\n", 1)[1], re.M))
        called = set(parse_plan(row["chosen"][-1]["content"]).function_names())
        assert listed == set(selected) | called
        assert (
            pair["prompt"][1]["content"] == row["query"]
            and pair["chosen"][-1]["content"] == row["chosen"][-1]["content"]
        )


def test_eval_plans_from_a_predictions_file_scores_known_cases(plans_dir, tmp_path):
    test = datasets.load_from_disk(str(plans_dir))["test"]
    lines = []
    for i, row in enumerate(test):
        if i < 4:
            plan = row["plan_text"]  # the reference itself: success
        elif i < 6:  # the same calls for someone else, somewhere else: a success, not an argument success
            plan = row["plan_text"]
            for literal in [*NAMES, *PLACES]:
                plan = plan.replace(literal, "Zed")
        elif i < 9:
            plan = '1. create_note("x", "y", "")\n2. join()'  # valid only if offered; never isomorphic
        else:
            plan = "not a plan"  # syntax
        lines.append(json.dumps({"id": row["id"], "plan": plan}))
    path = tmp_path / "pred.jsonl"
    path.write_text("\n".join(lines) + "\n")
    metrics = ok(eval_app, ["plans", "--predictions", path, "--data", plans_dir, "--out", tmp_path / "ev"])
    assert metrics["examples"] == 12
    assert metrics["success_rate"] == pytest.approx(6 / 12)
    assert metrics["argument_success_rate"] == pytest.approx(4 / 12)
    assert metrics["relevance_accuracy"] == 1.0  # every example needs a plan; a syntax error is an attempt at one
    assert metrics["no_call_examples"] == 0 and metrics["no_call_accuracy"] is None
    scored = [json.loads(line) for line in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()]
    assert [p["argument_success"] for p in scored[:6]] == [True] * 4 + [False] * 2
    assert metrics["parse_rate"] == pytest.approx(9 / 12)
    assert metrics["errors_by_code"]["syntax"] == 3
    assert metrics["tool_precision"] < 1.0
    path.write_text(lines[0] + "\n")
    result = invoke(eval_app, ["plans", "--predictions", path, "--data", plans_dir])
    assert result.exit_code == 2 and "no prediction for 11 of 12 test examples" in result.output


def test_eval_plans_reports_relevance_on_no_call_examples(tmp_path):
    from planforge.dataset.rows import Example

    examples = make_examples(6)
    queries = ["Call Sid", "What's the capital of Peru?", "thanks!", "Play some jazz"]
    marked = [
        Example(**{**e.__dict__, "query": q, "plan": parse_plan(""), "no_call": True})
        for e, q in zip(examples[:4], queries, strict=True)
    ]
    rows = [e.to_row() for e in [*examples[4:], *marked]]
    assert [r["meta"]["no_call"] for r in rows] == [False] * 2 + [True] * 4
    data = tmp_path / "plans"
    split = datasets.Dataset.from_list(rows, features=PLAN_FEATURES)
    datasets.DatasetDict({"train": split, "test": split}).save_to_disk(str(data))
    # the plans where one is needed; on the no-call examples two empty plans, a call and an unreadable attempt
    predictions = [rows[0]["plan_text"], rows[1]["plan_text"], "1. join()", "", '1. create_note("x", "y", "")', "1. f("]
    path = tmp_path / "pred.jsonl"
    lines = [json.dumps({"id": r["id"], "plan": p}) for r, p in zip(rows, predictions, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    metrics = ok(eval_app, ["plans", "--predictions", path, "--data", data, "--out", tmp_path / "ev"])
    assert metrics["relevance_accuracy"] == pytest.approx(4 / 6)
    assert (metrics["no_call_examples"], metrics["no_call_accuracy"]) == (4, 0.5)
    assert metrics["success_rate"] == pytest.approx(4 / 6) and metrics["validity_rate"] == pytest.approx(4 / 6)
    assert metrics["errors_by_code"].get("empty_plan") is None  # the empty plan is the no-call answer
    assert metrics["errors_by_code"]["syntax"] == 1
    scored = [json.loads(line) for line in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()]
    assert [p["no_call_expected"] for p in scored] == [False] * 2 + [True] * 4
    assert scored[4]["errors"][0]["code"] == "unexpected_call"  # a call where no function serves the request


DEV_SET = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "mac_dev.jsonl"


def test_eval_toolrag_reads_the_hand_written_dev_set(toolrag_dir, tmp_path):
    # benchmarks/transfer.py scores each classifier on the JSONL dev set, whose rows offer the recipe's 16 functions
    metrics = ok(
        eval_app,
        ["toolrag", "--classifier", toolrag_dir, "--data", DEV_SET, "--no-baseline", "--latency-requests", 0],
    )
    items = DEV_SET.read_text(encoding="utf-8").splitlines()
    assert metrics["split"] == "test" and metrics["examples"] == len(items)
    needed = [t for line in items for t in json.loads(line)["target_tools"]]
    assert metrics["mean_needed"] == pytest.approx(len(needed) / len(items))


def test_eval_plans_reads_the_hand_written_dev_set(sft_dir, tmp_path):
    items = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": i["id"], "plan": i["plan"]}) + "\n" for i in items))
    metrics = ok(eval_app, ["plans", "--predictions", gold, "--data", DEV_SET])
    assert metrics["examples"] == len(items)
    assert metrics["success_rate"] == metrics["strict_success_rate"] == metrics["validity_rate"] == 1.0
    # and a model (+ adapter) writes plans for its first requests
    out = tmp_path / "ev"
    args = ["plans", "--adapter", sft_dir, "--data", DEV_SET, "--max-examples", 2, "--max-new-tokens", 8]
    metrics = ok(eval_app, [*args, "--out", out])
    assert metrics["examples"] == 2
    ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert ids == [i["id"] for i in items[:2]]


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_config_errors_are_one_line_before_training(plans_dir, pairs_dir, tiny_model_dir, tmp_path):
    rows = [e.to_row() for e in make_examples(4)]
    bad = tmp_path / "bad"
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(rows, features=PLAN_FEATURES).remove_columns("plan_text")}
    ).save_to_disk(str(bad))
    message = one_line_error(
        invoke(train_app, ["sft", "--data", bad, "--model", tiny_model_dir, "--out", tmp_path / "o1"])
    )
    assert "not a planforge dataset: missing column(s) plan_text" in message
    message = one_line_error(
        invoke(train_app, ["sft", "--data", plans_dir, "--model", tmp_path / "no-model", "--out", tmp_path / "o2"])
    )
    assert "no such model file or directory" in message
    message = one_line_error(
        invoke(train_app, ["sft", "--data", pairs_dir, "--model", tiny_model_dir, "--out", tmp_path / "o3"])
    )
    assert "preference-pairs dataset" in message
    message = one_line_error(
        invoke(train_app, ["dpo", "--pairs", plans_dir, "--model", tiny_model_dir, "--out", tmp_path / "o4"])
    )
    assert "plans dataset" in message
    message = one_line_error(
        invoke(
            train_app,
            ["dpo", "--pairs", pairs_dir, "--model", tiny_model_dir, "--adapter", plans_dir, "--out", tmp_path / "o5"],
        )
    )
    assert "not a LoRA adapter directory" in message
    message = one_line_error(
        invoke(eval_app, ["plans", "--data", plans_dir, "--model", tiny_model_dir, "--split", "dev"])
    )
    assert "no split 'dev'" in message
    message = one_line_error(invoke(eval_app, ["toolrag", "--classifier", tmp_path, "--data", plans_dir]))
    assert "not a ToolRAG classifier directory" in message
    for command in (
        ["sft", "--data", plans_dir, "--model", tiny_model_dir],
        ["dpo", "--pairs", pairs_dir, "--model", tiny_model_dir],
        ["toolrag", "--data", plans_dir],
    ):
        message = one_line_error(invoke(train_app, [*command, "--out", tmp_path / "o6", "--threads", 0]))
        assert "--threads must be at least 1" in message
    for out in ("o1", "o2", "o3", "o4", "o5", "o6"):
        assert not (tmp_path / out).exists()  # nothing was trained or written
