"""The two CPU savings of `gen train sft`: the LM head on the plan tokens only (the same loss, gradients and
logged metrics as TRL's own path) and LoRA limited to the last layers (adapters only there)."""

from __future__ import annotations

import datasets
import pytest
import torch
from safetensors import safe_open
from trl import SFTTrainer

from planforge.dataset.disk import load_dataset_of_kind
from planforge.dataset.features import PLANS
from planforge.errors import ConfigError
from planforge.llms.local import load_causal_lm
from planforge.trainers.cli import train_app
from planforge.trainers.models import decoder_layer_count, linear_module_names, lora_config
from planforge.trainers.prompts import PLAN_COLUMNS_SFT
from planforge.trainers.sft import SFTRunConfig, build_sft_rows, make_trainer

from .test_commands import ok

pytestmark = pytest.mark.torch


def _trainer(plans_dir, tiny_model_dir, tmp_path, *, evaluation=False, **config):
    ds = load_dataset_of_kind(plans_dir, kind=PLANS, columns=PLAN_COLUMNS_SFT)
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    rows, _ = build_sft_rows(ds["train"].select(range(6)), where="test", tokenizer=tokenizer)
    eval_rows, _ = build_sft_rows(ds["validation"].select(range(3)), where="test", tokenizer=tokenizer)
    cfg = SFTRunConfig(
        data=str(plans_dir), model=str(tiny_model_dir), out=str(tmp_path), max_steps=1, batch_size=3, **config
    )
    eval_ds = datasets.Dataset.from_list(eval_rows) if evaluation else None
    return make_trainer(cfg, model, tokenizer, datasets.Dataset.from_list(rows), eval_ds)


def test_plan_token_loss_matches_trl_loss_gradients_and_metrics(plans_dir, tiny_model_dir, tmp_path):
    trainer = _trainer(plans_dir, tiny_model_dir, tmp_path, lora_dropout=0.0)
    model = trainer.model
    model.train()
    batch = next(iter(trainer.get_train_dataloader()))
    scored = int((batch["labels"][:, 1:] != -100).sum())
    assert 0 < scored < batch["labels"][:, 1:].numel() // 2  # the prompt dominates: most positions are not scored

    params = [p for p in model.parameters() if p.requires_grad]
    ours = trainer.compute_loss(model, dict(batch))
    our_grads = torch.autograd.grad(ours, params)
    theirs = SFTTrainer.compute_loss(trainer, model, dict(batch))
    their_grads = torch.autograd.grad(theirs, params)

    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    for a, b in zip(our_grads, their_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    metrics = trainer._metrics["train"]
    for key in ("mean_token_accuracy", "entropy"):
        assert len(metrics[key]) == 2 and metrics[key][0] == pytest.approx(metrics[key][1], rel=1e-4), key

    # under gradient accumulation both divide by the tokens of the whole accumulated batch
    ours = trainer.compute_loss(model, dict(batch), num_items_in_batch=scored * 2)
    theirs = SFTTrainer.compute_loss(trainer, model, dict(batch), num_items_in_batch=scored * 2)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


def test_training_and_evaluation_take_the_plan_token_path(plans_dir, tiny_model_dir, tmp_path, monkeypatch):
    """The saving is real only if ``train()`` and ``evaluate()`` reach it: on CPU TRL's own loss never runs (a
    TRL release that passed other inputs, asked for the outputs or renamed an attribute would fall back silently)."""
    trainer = _trainer(plans_dir, tiny_model_dir, tmp_path, evaluation=True, lora_dropout=0.0)
    calls = {"ours": 0, "theirs": 0}

    def counted(cls, who):
        original = cls.compute_loss

        def compute_loss(self, *args, **kwargs):
            calls[who] += 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "compute_loss", compute_loss)

    counted(type(trainer), "ours")
    counted(SFTTrainer, "theirs")
    trainer.train()
    ev = trainer.evaluate()
    assert calls == {"ours": 2, "theirs": 0}  # one training step, one evaluation batch
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert logged and "entropy" in logged[0] and "mean_token_accuracy" in logged[0]
    assert ev["eval_loss"] > 0 and 0 <= ev["eval_mean_token_accuracy"] <= 1


def test_lora_on_the_last_layers_only(tiny_model_dir):
    model, _ = load_causal_lm(str(tiny_model_dir))
    layers = decoder_layer_count(model)
    assert layers == 2
    names = linear_module_names(model)
    assert "q_proj" in names and "down_proj" in names and "lm_head" not in names

    cfg = lora_config(last_layers=1, model=model)
    assert cfg.layers_to_transform == [1] and set(cfg.target_modules) == set(names)
    with pytest.raises(ConfigError, match="between 1 and 2"):
        lora_config(last_layers=3, model=model)


def test_train_sft_lora_layers_writes_adapters_only_there(plans_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "top1"
    metrics = ok(
        train_app,
        ["sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", out, "--max-steps", 2, "--batch-size", 4]
        + ["--lora-layers", 1, "--threads", 1],
    )
    assert metrics["train_steps"] == 2
    # the step figures: the second step's wall and CPU time (the first is warm-up), and what they depend on
    assert metrics["train_first_step_seconds"] > 0 and metrics["train_seconds_per_step"] > 0
    assert metrics["train_cpu_seconds_per_step"] > 0 and metrics["torch_threads"] == 1
    assert "omp_wait_policy" in metrics and metrics["load_average_1m"] >= 0
    with safe_open(out / "adapter_model.safetensors", "pt") as weights:
        keys = list(weights.keys())
    assert keys and all(".layers.1." in key for key in keys)
    assert any("q_proj" in key for key in keys) and any("down_proj" in key for key in keys)
