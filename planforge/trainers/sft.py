"""Supervised fine-tuning on a plans dataset: TRL ``SFTTrainer``, LoRA (peft) by default.

Each row becomes a conversational prompt/completion pair: the prompt is the system message listing the
functions offered to the example (or, with ``toolrag``, the functions a ToolRAG classifier selects for the
request, as TinyAgent trained) plus the user's request; the completion is the assistant's plan in LLMCompiler
text. TRL computes the loss on the completion only, so the model learns the plan, not the prompt.

The system prompt already lists the functions, so no ``tools`` column goes to the chat template (templates that
render tools would list them twice), and assistant ``tool_calls`` are dropped (the plan text is the target)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.trainers import TrainerConfigError
from planforge.trainers.data import (
    PLAN_COLUMNS_SFT,
    PLANS,
    ToolCache,
    fingerprint,
    limit,
    load_dataset_dir,
    plan_completion,
    row_prompt,
    write_run_files,
)


@dataclass
class SFTRunConfig:
    """``gen train sft``. Defaults are for a real run; ``max_steps``/``max_examples`` make a tiny one."""

    data: str
    model: str
    out: str
    lora: bool = True  # False: full fine-tuning
    toolrag: str | None = None  # a ToolRAG classifier directory: prompts list its selected functions
    toolrag_add_targets: bool = True  # at training time, also list the plan's functions the classifier missed
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 8
    grad_accum: int = 1
    lr: float | None = None  # default: 2e-4 with LoRA, 2e-5 full
    warmup_ratio: float = 0.05
    seed: int = 42
    max_examples: int | None = None
    max_length: int = 2048
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str = "all-linear"
    eval_split: str = "validation"
    max_eval_examples: int = 200
    logging_steps: int = 10
    dtype: str = "float32"
    gradient_checkpointing: bool = False

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (2e-4 if self.lora else 2e-5)


def build_sft_rows(
    split: Any, *, where: str, classifier: Any = None, add_targets: bool = True
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows -> ``{"prompt", "completion"}`` (conversational). With a classifier, the system prompt lists its
    selected functions (plus, when ``add_targets``, any function the reference plan needs that it missed)."""
    rows = split.to_list()
    cache = ToolCache()
    info: dict[str, Any] = {}
    selections = None
    if classifier is not None:
        selections = classifier.select([row["query"] for row in rows])
        missed = 0
        for names, row in zip(selections, rows, strict=True):
            lost = [t for t in row["target_tools"] if t not in names]
            missed += bool(lost)
            if add_targets and lost:
                names.extend(t for t in lost if t in classifier.tools)
        info["toolrag_rows_with_missed_targets"] = missed
        info["toolrag_mean_shown"] = sum(len(s) for s in selections) / max(len(selections), 1)
    out = []
    for i, row in enumerate(rows):
        tools = cache(row["tools"], where)
        shown = None
        if selections is not None:
            order = [n for n in classifier.tools if n in set(selections[i])]
            shown = classifier.tools.subset(order)
        out.append({"prompt": row_prompt(row, tools, shown=shown), "completion": plan_completion(row["plan_text"])})
    return out, info


def run_sft(cfg: SFTRunConfig) -> dict[str, Any]:
    """Check inputs, train, save the adapter (or full model) with the tokenizer and the run files."""
    import datasets

    if cfg.max_examples is not None and cfg.max_examples < 1:
        raise TrainerConfigError("--max-examples must be at least 1")
    ds = load_dataset_dir(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_SFT)
    if "train" not in ds or not len(ds["train"]):
        raise TrainerConfigError(f"{cfg.data}: no train split to learn from (splits: {', '.join(ds)})")
    classifier = None
    if cfg.toolrag:
        from planforge.trainers.toolrag import ToolRAGClassifier

        classifier = ToolRAGClassifier.load(cfg.toolrag)
    from planforge.trainers.models import count_parameters, load_causal_lm

    train_rows, info = build_sft_rows(
        limit(ds["train"], cfg.max_examples), where=cfg.data, classifier=classifier, add_targets=cfg.toolrag_add_targets
    )
    eval_rows = None
    if cfg.eval_split in ds and len(ds[cfg.eval_split]) and cfg.max_eval_examples:
        eval_rows, _ = build_sft_rows(
            limit(ds[cfg.eval_split], cfg.max_eval_examples),
            where=cfg.data,
            classifier=classifier,
            add_targets=cfg.toolrag_add_targets,
        )
    model, tokenizer = load_causal_lm(cfg.model, dtype=cfg.dtype)
    train_ds = datasets.Dataset.from_list(train_rows)
    eval_ds = datasets.Dataset.from_list(eval_rows) if eval_rows else None
    _check_prompt_fits(tokenizer, train_rows[0], cfg.max_length)

    trainer, metrics = _train(cfg, model, tokenizer, train_ds, eval_ds)
    out = Path(cfg.out)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    metrics.update(info)
    metrics["parameters"] = count_parameters(trainer.model)
    write_run_files(
        out,
        command="train sft",
        config=cfg,
        metrics=metrics,
        fingerprints=fingerprint(ds, cfg.data),
        extra={"base_model": cfg.model, "kind": "lora" if cfg.lora else "full"},
    )
    return metrics


def _check_prompt_fits(tokenizer: Any, row: dict[str, Any], max_length: int) -> None:
    text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    if n > max_length:
        raise TrainerConfigError(
            f"the first training example is {n} tokens, over --max-length {max_length}: raise --max-length"
        )


def make_trainer(cfg: SFTRunConfig, model: Any, tokenizer: Any, train_ds: Any, eval_ds: Any = None) -> Any:
    """The configured TRL ``SFTTrainer`` (its datasets already tokenized, labels masked outside the plan)."""
    import torch
    from trl import SFTConfig, SFTTrainer

    from planforge.trainers.models import lora_config

    torch.manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(train_ds) / (cfg.batch_size * cfg.grad_accum))
    planned = cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.epochs)
    args = SFTConfig(
        output_dir=cfg.out,
        max_steps=cfg.max_steps,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=int(planned * cfg.warmup_ratio),
        seed=cfg.seed,
        data_seed=cfg.seed,
        max_length=cfg.max_length,
        completion_only_loss=True,
        bf16=False,
        fp16=False,
        use_cpu=not torch.cuda.is_available(),
        activation_checkpointing=cfg.gradient_checkpointing,
        logging_steps=max(1, min(cfg.logging_steps, planned)),
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        dataloader_num_workers=0,
        remove_unused_columns=True,
        disable_tqdm=False,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora_config(cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_target_modules)
        if cfg.lora
        else None,
    )
    return trainer


def _train(cfg: SFTRunConfig, model: Any, tokenizer: Any, train_ds: Any, eval_ds: Any) -> tuple[Any, dict[str, Any]]:
    trainer = make_trainer(cfg, model, tokenizer, train_ds, eval_ds)
    started = time.perf_counter()
    result = trainer.train()
    metrics: dict[str, Any] = {
        "train_examples": len(train_ds),
        "train_steps": result.global_step,
        "train_loss": result.training_loss,
        "train_seconds": time.perf_counter() - started,
    }
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if losses:
        metrics["train_loss_first_log"] = losses[0]
        metrics["train_loss_last_log"] = losses[-1]
    if eval_ds is not None:
        ev = trainer.evaluate()
        metrics["eval_examples"] = len(eval_ds)
        metrics["eval_loss"] = ev.get("eval_loss")
        if "eval_mean_token_accuracy" in ev:
            metrics["eval_mean_token_accuracy"] = ev["eval_mean_token_accuracy"]
    return trainer, metrics
