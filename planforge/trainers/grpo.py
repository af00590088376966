"""Reinforcement learning from verifiable rewards: TRL ``GRPOTrainer`` with planforge's validators as the reward.

Every request of a plans dataset has a reference plan and deterministic validators, which is all RL from
verifiable rewards needs: for each request GRPO samples ``num_generations`` plans, scores each with
:mod:`planforge.trainers.rewards` (parses, valid, isomorphic to the reference, share of agreeing arguments;
weighted, the weights recorded with the run) and moves the policy towards the better plans of the group. The
prompts are the SFT prompts (:mod:`planforge.llms.views`: the functions offered, or with ``toolrag`` the
classifier's selection plus any needed function it missed, and with ``icl_examples`` the demonstrations, as at
SFT time), rendered by :func:`planforge.prompting.render`.

With ``adapter`` (an SFT LoRA directory) training continues that adapter: the hybrid SFT-then-RL cycle of the
TinyLLM study; with ``beta > 0`` the KL reference is a frozen copy of it (TRL's ``ref`` adapter, removed before
saving). Without, a fresh LoRA (or, with ``lora=False``, all weights) is trained from the base model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from planforge.dataset.disk import limit_rows, load_dataset_of_kind
from planforge.dataset.features import PLANS
from planforge.dataset.provenance import fingerprint, write_training_record
from planforge.dataset.rows import ToolCache, row_plan
from planforge.errors import ConfigError, DatasetError
from planforge.llms.views import PromptSettings, PromptViews
from planforge.prompting import render
from planforge.recipes.loader import recipe_rules
from planforge.trainers.cpu import cpu_report, set_threads, step_timer
from planforge.trainers.evaluate import row_key_arguments, row_no_call
from planforge.trainers.grpo_config import GRPORunConfig
from planforge.trainers.prompts import PLAN_COLUMNS_EVAL, plan_requests, resolve_views
from planforge.trainers.rewards import PARTS, PlanRewards, RewardTarget
from planforge.validators import FREE_TEXT_MODES

SCALE_REWARDS = ("group", "batch", "none")


def build_grpo_rows(
    split: Any, *, where: str, tokenizer: Any, views: PromptViews | None = None, free_text: str = "normalized"
) -> tuple[list[dict[str, str]], dict[str, RewardTarget], dict[str, Any]]:
    """Rows -> ``{"prompt": text, "id"}`` (the prompt ``views`` shows, rendered for ``tokenizer``'s template, ready
    for generation) and each id's :class:`RewardTarget`: the reference plan, the functions shown, the recipe's
    rules and key arguments, the request and its "now"."""
    rows = split.to_list()
    cache = ToolCache(where)
    views = views or PromptViews(PromptSettings())
    prompts, info = views.prompts(plan_requests(rows, cache), add_needed=True)
    out: list[dict[str, str]] = []
    targets: dict[str, RewardTarget] = {}
    for row, shown in zip(rows, prompts, strict=True):
        offered = cache.get(row["tools"])
        tools = shown.tools
        reference = row_plan(row).bind(offered.param_order)
        meta = row.get("meta") or {}
        targets[row["id"]] = RewardTarget(
            reference=reference,
            tools=tools,
            rules=recipe_rules(meta.get("recipe") or ""),
            context={"query": row["query"], "now": meta.get("now")},
            key_arguments=row_key_arguments(row, free_text),
            no_call=row_no_call(row, reference),
        )
        out.append({"prompt": render(tokenizer, shown.messages, tools), "id": row["id"]})
    return out, targets, info


def check_config(cfg: GRPORunConfig) -> None:
    """Everything that can be wrong with the settings, before any model loads."""
    if cfg.adapter and not cfg.lora:
        raise ConfigError("--adapter continues a LoRA adapter; it cannot be combined with --full")
    if cfg.max_examples is not None and cfg.max_examples < 1:
        raise ConfigError("--max-examples must be at least 1")
    if cfg.num_generations < 2:
        raise ConfigError("--num-generations must be at least 2 (GRPO compares the plans of a group)")
    if (cfg.batch_size * cfg.grad_accum) % cfg.num_generations:
        raise ConfigError(
            f"--batch-size x --grad-accum ({cfg.batch_size * cfg.grad_accum}) must be a multiple of "
            f"--num-generations ({cfg.num_generations}): each step scores whole groups"
        )
    if cfg.free_text not in FREE_TEXT_MODES:
        raise ConfigError(f"--free-text must be one of {', '.join(FREE_TEXT_MODES)}, not {cfg.free_text!r}")
    if cfg.scale_rewards not in SCALE_REWARDS:
        raise ConfigError(f"--scale-rewards must be one of {', '.join(SCALE_REWARDS)}, not {cfg.scale_rewards!r}")
    if min(cfg.reward_weights.as_list()) < 0 or not any(cfg.reward_weights.as_list()):
        raise ConfigError("the reward weights must be >= 0 and not all 0")
    if cfg.adapter and not (Path(cfg.adapter) / "adapter_config.json").is_file():
        raise ConfigError(f"{cfg.adapter}: not a LoRA adapter directory (no adapter_config.json)")


def run_grpo(cfg: GRPORunConfig) -> dict[str, Any]:
    """Check inputs, train, save the adapter (or full model) with the tokenizer and the run files."""
    check_config(cfg)
    set_threads(cfg.threads)
    ds = load_dataset_of_kind(cfg.data, kind=PLANS, columns=(*PLAN_COLUMNS_EVAL, "target_tools"))
    if "train" not in ds or not len(ds["train"]):
        raise DatasetError(f"{cfg.data}: no train split to learn from (splits: {', '.join(ds)})")
    views = resolve_views(cfg, run=cfg.adapter, data=cfg.data)  # the prompts the SFT adapter was trained on
    from planforge.llms.local import load_adapter, load_causal_lm, load_tokenizer
    from planforge.trainers.models import count_parameters, save_policy

    own_tokenizer = cfg.adapter and (Path(cfg.adapter) / "tokenizer_config.json").is_file()
    tokenizer = load_tokenizer(cfg.adapter if own_tokenizer else cfg.model)
    rows = {"where": cfg.data, "tokenizer": tokenizer, "views": views, "free_text": cfg.free_text}
    train_rows, targets, info = build_grpo_rows(limit_rows(ds["train"], cfg.max_examples), **rows)
    eval_rows: list[dict[str, str]] = []
    if cfg.eval_split in ds and len(ds[cfg.eval_split]) and cfg.max_eval_examples:
        eval_rows, eval_targets, _ = build_grpo_rows(limit_rows(ds[cfg.eval_split], cfg.max_eval_examples), **rows)
        targets.update(eval_targets)

    model, _ = load_causal_lm(cfg.model, dtype=cfg.dtype)
    if cfg.adapter:
        model = load_adapter(model, cfg.adapter, trainable=True)
    trainer, metrics = _train(cfg, model, tokenizer, train_rows, eval_rows, targets)
    out = Path(cfg.out)
    trained = save_policy(trainer, tokenizer, str(out))
    metrics.update(info)
    metrics["reward_weights"] = cfg.reward_weights.to_dict()
    metrics["parameters"] = count_parameters(trained)
    write_training_record(
        out,
        command="train grpo",
        config=cfg,
        metrics=metrics,
        fingerprints=fingerprint(ds, cfg.data),
        extra={"base_model": cfg.model, "start_adapter": cfg.adapter, "kind": "lora" if cfg.lora else "full"},
    )
    return metrics


def make_trainer(
    cfg: GRPORunConfig,
    model: Any,
    tokenizer: Any,
    train_rows: list[dict[str, str]],
    eval_rows: list[dict[str, str]],
    targets: dict[str, RewardTarget],
) -> Any:
    """The configured TRL ``GRPOTrainer``: one reward function per part, summed with the configured weights."""
    import datasets
    import torch
    from trl import GRPOConfig, GRPOTrainer

    torch.manual_seed(cfg.seed)
    arguments = cfg.training_arguments(len(train_rows) * cfg.num_generations)
    arguments.pop("max_length")  # GRPO bounds the completion (max_completion_length), not the whole sequence
    args = GRPOConfig(
        **arguments,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        beta=cfg.beta,
        epsilon=cfg.epsilon,
        scale_rewards=cfg.scale_rewards,
        reward_weights=cfg.reward_weights.as_list(),
        activation_checkpointing=cfg.gradient_checkpointing,
        remove_unused_columns=False,
        log_completions=False,
    )
    tokenizer.padding_side = "left"  # generation pads on the left
    return GRPOTrainer(
        model=model,
        reward_funcs=PlanRewards(targets).functions(),
        args=args,
        train_dataset=datasets.Dataset.from_list(train_rows),
        eval_dataset=datasets.Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=cfg.peft_config(model) if cfg.lora and not cfg.adapter else None,
    )


def _train(
    cfg: GRPORunConfig,
    model: Any,
    tokenizer: Any,
    train_rows: list[dict[str, str]],
    eval_rows: list[dict[str, str]],
    targets: dict[str, RewardTarget],
) -> tuple[Any, dict[str, Any]]:
    padding_side = tokenizer.padding_side
    trainer = make_trainer(cfg, model, tokenizer, train_rows, eval_rows, targets)
    timer = step_timer()
    trainer.add_callback(timer)
    started = time.perf_counter()
    try:
        result = trainer.train()
    finally:
        tokenizer.padding_side = padding_side
    metrics: dict[str, Any] = {
        "train_examples": len(train_rows),
        "train_steps": result.global_step,
        "train_loss": result.training_loss,
        "train_seconds": time.perf_counter() - started,
        "num_generations": cfg.num_generations,
        **timer.metrics(),
        **cpu_report(),
    }
    metrics.update(reward_curve(trainer.state.log_history))
    if eval_rows:
        ev = trainer.evaluate()
        metrics["eval_examples"] = len(eval_rows)
        for key in ("eval_reward", *(f"eval_rewards/{part}/mean" for part in PARTS)):
            if key in ev:
                metrics[key.replace("/", "_")] = ev[key]
    return trainer, metrics


def reward_curve(log_history: list[dict[str, Any]]) -> dict[str, Any]:
    """The reward and each part at the first and the last logged step, and their mean over all logged steps."""
    logs = [h for h in log_history if "reward" in h]
    if not logs:
        return {}
    out: dict[str, Any] = {}
    keys = {"reward": "reward", **{f"rewards/{part}/mean": f"reward_{part}" for part in PARTS}}
    keys["completions/mean_length"] = "completion_tokens"
    for key, name in keys.items():
        values = [h[key] for h in logs if key in h]
        if values:
            out[f"{name}_first_log"] = values[0]
            out[f"{name}_last_log"] = values[-1]
            out[f"{name}_mean"] = sum(values) / len(values)
    return out
