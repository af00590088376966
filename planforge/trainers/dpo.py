"""Preference optimisation on a pairs dataset (``gen pairs``): TRL ``DPOTrainer``.

Rows carry ``prompt`` (system + user turns, from :func:`planforge.prompting.prompt_messages`), ``chosen`` and
``rejected`` (one assistant turn each: a plan in LLMCompiler text) and ``tools``. As in SFT, the functions reach
the model as its chat template wants them (:func:`planforge.prompting.for_template`), ToolRAG's selection and the
demonstrations as :mod:`planforge.llms.views` builds them: the model sees exactly the SFT format.

With ``adapter`` (an SFT LoRA directory), training continues that adapter and the reference policy is a frozen
copy of it (TRL adds a ``ref`` adapter), which is the hybrid SFT-then-DPO cycle of the TinyLLM study. Without
it, a fresh LoRA is trained and the reference is the base model with adapters disabled (no second copy);
``lora=False`` trains all weights against a reference copy of the model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from planforge.dataset.disk import limit_rows, load_dataset_of_kind
from planforge.dataset.features import PAIRS
from planforge.dataset.provenance import fingerprint, read_json_object, write_training_record
from planforge.dataset.rows import ToolCache, message_plan
from planforge.errors import ConfigError, DatasetError
from planforge.llms.views import PromptSettings, PromptViews, Request
from planforge.prompting import for_template, role_and_content
from planforge.trainers.cpu import cpu_report, set_threads, step_timer
from planforge.trainers.dpo_config import DPORunConfig
from planforge.trainers.prompts import PAIR_COLUMNS, resolve_views


def _messages(value: Any, where: str, column: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) and "role" in m for m in value):
        raise DatasetError(f"{where}: column {column} must hold chat messages (lists of {{role, content}})")
    return role_and_content(value)


def build_dpo_rows(
    split: Any, where: str, tokenizer: Any, views: PromptViews | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Pairs rows -> ``{"prompt", "chosen", "rejected"[, "tools"]}`` for ``tokenizer``'s template. With a ToolRAG
    classifier the functions are its selection (plus the functions the chosen plan calls), and with demonstrations
    the system turn shows them, so a model trained on such prompts by ``gen train sft`` is tuned on the prompts it
    will see."""
    rows = split.to_list()
    cache = ToolCache(where)
    views = views or PromptViews(PromptSettings())
    needs_query = views.classifier is not None or views.index is not None
    if needs_query:
        missing = [c for c in ("query", "tools") if c not in split.column_names]
        if missing:
            raise DatasetError(
                f"{where}: --toolrag and --icl-examples need the pairs' {' and '.join(missing)} column(s)"
            )
    requests: list[Request | None] = []
    for row in rows:
        functions = cache.get(row["tools"]) if row.get("tools") is not None else None
        if functions is None:
            requests.append(None)
            continue
        prompt = _messages(row["prompt"], where, "prompt")
        query = row.get("query") or next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")
        requests.append(Request(row.get("example_id"), query, prompt, functions, _called_functions(row, cache)))
    known = [r for r in requests if r is not None]
    built, info = views.prompts(known, add_needed=True) if known else ([], {})
    shown = iter(built)
    out = []
    for row, request in zip(rows, requests, strict=True):
        prompt = _messages(row["prompt"], where, "prompt")
        chosen = _messages(row["chosen"], where, "chosen")
        rejected = _messages(row["rejected"], where, "rejected")
        if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
            raise DatasetError(f"{where}: chosen and rejected must end with an assistant message")
        pair: dict[str, Any] = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        if request is not None:
            view = next(shown)
            pair["prompt"], entries = for_template(view.messages, view.tools, tokenizer)
            if entries is not None:
                pair["tools"] = entries
        out.append(pair)
    return out, info


def _called_functions(row: dict[str, Any], cache: ToolCache) -> list[str]:
    plan = message_plan(row["chosen"], cache.find(row.get("tools")))
    return plan.function_names() if plan is not None else []


def pairs_source(pairs: str) -> str | None:
    """The plans dataset a pairs folder was made from (``pairs.json``'s ``source``), when it is still there."""
    source = (read_json_object(Path(pairs) / "pairs.json") or {}).get("source")
    return str(source) if source and Path(source).is_dir() else None


def run_dpo(cfg: DPORunConfig) -> dict[str, Any]:
    import datasets

    if cfg.adapter and not cfg.lora:
        raise ConfigError("--adapter continues a LoRA adapter; it cannot be combined with --full")
    set_threads(cfg.threads)
    ds = load_dataset_of_kind(cfg.pairs, kind=PAIRS, columns=PAIR_COLUMNS)
    if "train" not in ds or not len(ds["train"]):
        raise DatasetError(f"{cfg.pairs}: no train split to learn from (splits: {', '.join(ds)})")
    if cfg.adapter and not (Path(cfg.adapter) / "adapter_config.json").is_file():
        raise ConfigError(f"{cfg.adapter}: not a LoRA adapter directory (no adapter_config.json)")
    # the prompts the SFT adapter was trained on; demonstrations from the plans dataset the pairs were made from
    views = resolve_views(cfg, run=cfg.adapter, data=pairs_source(cfg.pairs))
    from planforge.llms.local import load_tokenizer

    own_tokenizer = cfg.adapter and (Path(cfg.adapter) / "tokenizer_config.json").is_file()
    tokenizer = load_tokenizer(cfg.adapter if own_tokenizer else cfg.model)
    train_rows, info = build_dpo_rows(limit_rows(ds["train"], cfg.max_examples), cfg.pairs, tokenizer, views)
    eval_rows = None
    if cfg.eval_split in ds and len(ds[cfg.eval_split]) and cfg.max_eval_examples:
        eval_rows, _ = build_dpo_rows(
            limit_rows(ds[cfg.eval_split], cfg.max_eval_examples), cfg.pairs, tokenizer, views
        )

    from planforge.llms.local import load_adapter, load_causal_lm, load_tokenizer
    from planforge.trainers.models import count_parameters, save_policy

    model, tokenizer = load_causal_lm(cfg.model, dtype=cfg.dtype)
    if cfg.adapter:
        model = load_adapter(model, cfg.adapter, trainable=True)
        if (Path(cfg.adapter) / "tokenizer_config.json").is_file():
            tokenizer = load_tokenizer(cfg.adapter)
    trainer, metrics = _train(
        cfg,
        model,
        tokenizer,
        datasets.Dataset.from_list(train_rows),
        datasets.Dataset.from_list(eval_rows) if eval_rows else None,
    )
    out = Path(cfg.out)
    trained = save_policy(trainer, tokenizer, str(out))
    metrics.update(info)
    metrics["parameters"] = count_parameters(trained)
    write_training_record(
        out,
        command="train dpo",
        config=cfg,
        metrics=metrics,
        fingerprints=fingerprint(ds, cfg.pairs),
        extra={"base_model": cfg.model, "start_adapter": cfg.adapter, "kind": "lora" if cfg.lora else "full"},
    )
    return metrics


def _train(cfg: DPORunConfig, model: Any, tokenizer: Any, train_ds: Any, eval_ds: Any) -> tuple[Any, dict[str, Any]]:
    import torch
    from trl import DPOConfig, DPOTrainer

    torch.manual_seed(cfg.seed)
    args = DPOConfig(**cfg.training_arguments(len(train_ds)), beta=cfg.beta, activation_checkpointing=False)
    peft_config = cfg.peft_config(model) if cfg.lora and not cfg.adapter else None
    trainer = DPOTrainer(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    timer = step_timer()
    trainer.add_callback(timer)
    started = time.perf_counter()
    result = trainer.train()
    metrics: dict[str, Any] = {
        "train_pairs": len(train_ds),
        "train_steps": result.global_step,
        "train_loss": result.training_loss,
        "train_seconds": time.perf_counter() - started,
        **timer.metrics(),
        **cpu_report(),
    }
    logs = [h for h in trainer.state.log_history if "loss" in h]
    if logs:
        last = logs[-1]
        for key in ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected"):
            if key in last:
                metrics[f"train_{key.replace('/', '_')}_last_log"] = last[key]
    if eval_ds is not None:
        ev = trainer.evaluate()
        metrics["eval_pairs"] = len(eval_ds)
        for key, value in ev.items():
            if key in ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins"):
                metrics[key.replace("/", "_")] = value
    return trainer, metrics
