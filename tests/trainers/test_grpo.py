"""GRPO on a tiny Llama: real steps that sample plans, score them with the validators' reward, log every part of
the reward and save an adapter; the rewards TRL logged are the reward function's own."""

from __future__ import annotations

import datasets
import pytest

from planforge.llms.local import load_causal_lm, load_tokenizer
from planforge.trainers.cli import train_app
from planforge.trainers.grpo import build_grpo_rows, make_trainer
from planforge.trainers.grpo_config import GRPORunConfig
from planforge.trainers.rewards import PARTS, reward_parts

from .test_commands import assert_run_files, invoke, ok, one_line_error

pytestmark = pytest.mark.torch


def test_grpo_steps_score_samples_with_the_plan_reward(plans_dir, tiny_model_dir, tmp_path):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    split = datasets.load_from_disk(str(plans_dir))["train"].select(range(4))
    rows, targets, _ = build_grpo_rows(split, where=str(plans_dir), tokenizer=tokenizer)
    assert [r["id"] for r in rows] == split["id"] and set(targets) == set(split["id"])
    assert rows[0]["prompt"].endswith("<|im_start|>assistant\n")  # rendered for generation, functions listed
    assert "Functions:" in rows[0]["prompt"] and split[0]["query"] in rows[0]["prompt"]
    cfg = GRPORunConfig(
        data=str(plans_dir),
        model=str(tiny_model_dir),
        out=str(tmp_path / "grpo"),
        max_steps=2,
        batch_size=4,
        num_generations=4,
        max_completion_length=12,
        weight_valid=2.0,
    )
    model, _ = load_causal_lm(str(tiny_model_dir))
    trainer = make_trainer(cfg, model, tokenizer, rows, [], targets)
    assert trainer.reward_weights.tolist() == [0.25, 2.0, 1.0, 1.0]
    trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    assert len(logs) == 2 and all(f"rewards/{part}/mean" in h for h in logs for part in PARTS)
    logged = trainer._logs  # the last batch: what TRL sampled and the rewards it used
    assert len(logged["completion"]) == 4
    prompt_ids = {r["prompt"]: r["id"] for r in rows}
    for i, (prompt, completion) in enumerate(zip(logged["prompt"], logged["completion"], strict=True)):
        expected = reward_parts(completion, targets[prompt_ids[prompt]])
        assert {part: logged["rewards"][part][i] for part in PARTS} == pytest.approx(expected)


def test_train_grpo_from_the_sft_adapter_writes_an_adapter_and_the_reward_curve(
    plans_dir, tiny_model_dir, sft_dir, tmp_path
):
    out = tmp_path / "grpo"
    metrics = ok(
        train_app,
        [
            "grpo",
            "--data",
            plans_dir,
            "--model",
            tiny_model_dir,
            "--adapter",
            sft_dir,
            "--out",
            out,
            "--max-steps",
            2,
            "--batch-size",
            4,
            "--num-generations",
            2,
            "--max-completion-length",
            8,
            "--max-examples",
            8,
            "--beta",
            0.04,
            "--weight-arguments",
            3,
        ],
    )
    assert metrics["train_steps"] == 2 and metrics["num_generations"] == 2
    assert metrics["reward_weights"] == {"parses": 0.25, "valid": 0.5, "isomorphic": 1.0, "arguments": 3.0}
    for part in ("reward", *(f"reward_{p}" for p in PARTS)):
        assert f"{part}_first_log" in metrics and f"{part}_last_log" in metrics
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    run = assert_run_files(out, "train grpo")
    assert run["config"]["weight_arguments"] == 3 and run["start_adapter"] == str(sft_dir)
    assert not (out / "ref").exists()  # the frozen KL reference copy is not part of the result
    from safetensors import safe_open

    with safe_open(str(out / "adapter_model.safetensors"), "pt") as fh:
        assert not [k for k in list(fh.keys()) if ".ref." in k]


def test_grpo_config_errors_are_one_line_before_training(plans_dir, tiny_model_dir, tmp_path):
    base = ["grpo", "--data", plans_dir, "--model", tiny_model_dir, "--out", tmp_path / "x"]
    line = one_line_error(invoke(train_app, [*base, "--batch-size", 6, "--num-generations", 4]))
    assert "must be a multiple of --num-generations" in line
    line = one_line_error(invoke(train_app, [*base, "--num-generations", 1]))
    assert "at least 2" in line
    line = one_line_error(invoke(train_app, [*base, "--free-text", "fuzzy"]))
    assert "--free-text must be one of normalized, ignore" in line
    line = one_line_error(invoke(train_app, [*base, "--adapter", tmp_path]))
    assert "not a LoRA adapter directory" in line
    assert not (tmp_path / "x").exists()
