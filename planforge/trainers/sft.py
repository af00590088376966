"""Supervised fine-tuning on a plans dataset: TRL ``SFTTrainer``, LoRA (peft) by default.

Each row is what the dataset stores, as TRL reads it: ``prompt`` (system + user turns), ``completion`` (the plan in
LLMCompiler text) and the functions offered to the example (or, with ``toolrag``, the functions a ToolRAG
classifier selects for the request, as TinyAgent trained); with ``icl_examples`` K the system turn also shows the
K nearest training examples as demonstrations (:mod:`planforge.llms.views`). The functions reach the model as the
chat template wants them (:func:`planforge.prompting.for_template`): as ``tools`` for a tool-aware template, listed
in the system turn otherwise. TRL computes the loss on the completion only, so the model learns the plan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from planforge.dataset.disk import limit_rows, load_dataset_of_kind
from planforge.dataset.features import PLANS
from planforge.dataset.provenance import fingerprint, write_training_record
from planforge.dataset.rows import ToolCache
from planforge.errors import ConfigError, DatasetError
from planforge.llms.views import PromptSettings, PromptViews
from planforge.prompting import for_template
from planforge.trainers.cpu import cpu_report, set_threads, step_timer
from planforge.trainers.prompts import PLAN_COLUMNS_SFT, plan_completion, plan_requests, resolve_views
from planforge.trainers.sft_config import SFTRunConfig


def build_sft_rows(
    split: Any, *, where: str, tokenizer: Any, views: PromptViews | None = None, add_targets: bool = True
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows -> ``{"prompt", "completion"[, "tools"]}`` (conversational) for ``tokenizer``'s template, shown what
    ``views`` shows (with a classifier, its selection plus, when ``add_targets``, any function the reference plan
    needs that it missed; with demonstrations, the nearest other training examples)."""
    rows = split.to_list()
    views = views or PromptViews(PromptSettings())
    prompts, info = views.prompts(plan_requests(rows, ToolCache(where)), add_needed=add_targets)
    out = []
    for row, shown in zip(rows, prompts, strict=True):
        prompt, entries = for_template(shown.messages, shown.tools, tokenizer)
        item = {"prompt": prompt, "completion": plan_completion(row["plan_text"])}
        if entries is not None:
            item["tools"] = entries
        out.append(item)
    return out, info


def run_sft(cfg: SFTRunConfig) -> dict[str, Any]:
    """Check inputs, train, save the adapter (or full model) with the tokenizer and the run files."""
    import datasets

    if cfg.max_examples is not None and cfg.max_examples < 1:
        raise ConfigError("--max-examples must be at least 1")
    set_threads(cfg.threads)
    ds = load_dataset_of_kind(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_SFT)
    if "train" not in ds or not len(ds["train"]):
        raise DatasetError(f"{cfg.data}: no train split to learn from (splits: {', '.join(ds)})")
    views = resolve_views(cfg, data=cfg.data)
    from planforge.llms.local import load_causal_lm, load_tokenizer
    from planforge.trainers.models import count_parameters

    tokenizer = load_tokenizer(cfg.model)
    rows = {"tokenizer": tokenizer, "where": cfg.data, "views": views, "add_targets": cfg.toolrag_add_targets}
    train_rows, info = build_sft_rows(limit_rows(ds["train"], cfg.max_examples), **rows)
    eval_rows = None
    if cfg.eval_split in ds and len(ds[cfg.eval_split]) and cfg.max_eval_examples:
        eval_rows, _ = build_sft_rows(limit_rows(ds[cfg.eval_split], cfg.max_eval_examples), **rows)
    model, tokenizer = load_causal_lm(cfg.model, dtype=cfg.dtype)
    train_ds = datasets.Dataset.from_list(train_rows)
    eval_ds = datasets.Dataset.from_list(eval_rows) if eval_rows else None
    _check_prompt_fits(tokenizer, train_rows[0], cfg.max_length)

    trainer, metrics = _train(cfg, model, tokenizer, train_ds, eval_ds)
    out = Path(cfg.out)
    trainer.save_model(str(out))  # the Trainer saves from the main process only (accelerate launch)
    metrics.update(info)
    metrics["parameters"] = count_parameters(trainer.model)
    if not trainer.is_world_process_zero():
        return metrics
    tokenizer.save_pretrained(str(out))
    write_training_record(
        out,
        command="train sft",
        config=cfg,
        metrics=metrics,
        fingerprints=fingerprint(ds, cfg.data),
        extra={"base_model": cfg.model, "kind": "lora" if cfg.lora else "full"},
    )
    return metrics


def _check_prompt_fits(tokenizer: Any, row: dict[str, Any], max_length: int) -> None:
    kwargs = {"tools": row["tools"]} if "tools" in row else {}
    text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False, **kwargs)
    n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    if n > max_length:
        raise ConfigError(
            f"the first training example is {n} tokens, over --max-length {max_length}: raise --max-length"
        )


def _plan_tokens_trainer_class() -> type:
    """``SFTTrainer`` whose training loss runs the LM head on the plan tokens only.

    Why: off Triton devices TRL's fused head projects every position through the whole vocabulary, and in a
    planning example ~85% of the positions are prompt (functions + request) that the loss ignores; on CPU that head
    is about a third of a SmolLM2 step. The loss is TRL's (mean negative log-likelihood of the completion tokens,
    over ``num_items_in_batch`` under gradient accumulation) and the logged token accuracy and entropy are the
    same quantities. The evaluation loss takes this path too (TRL asks for the loss only). TRL's own path runs
    on GPU, with several processes, with a MoE auxiliary loss and when a caller wants the outputs."""
    import torch
    from trl import SFTTrainer

    class PlanTokensSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.get("labels")
            if (
                return_outputs
                or labels is None
                or getattr(self, "aux_loss_enabled", False)
                or self.accelerator.num_processes != 1
                or labels.device.type != "cpu"
            ):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            lm = model.get_base_model() if hasattr(model, "get_base_model") else model
            features = {k: v for k, v in inputs.items() if k != "labels"}
            hidden = lm.base_model(**features, use_cache=False).last_hidden_state[:, :-1]
            targets = labels[:, 1:]
            scored = targets != -100
            logits = lm.get_output_embeddings()(hidden[scored]).float()
            log_probs = torch.log_softmax(logits, dim=-1)
            wanted = targets[scored]
            token_log_probs = log_probs.gather(-1, wanted.unsqueeze(-1)).squeeze(-1)
            count = scored.sum()
            denominator = num_items_in_batch if num_items_in_batch is not None else count.clamp(min=1)
            loss = -token_log_probs.sum() / denominator
            mode = "train" if self.model.training else "eval"
            with torch.no_grad():
                n = max(int(count), 1)
                entropy = -(log_probs.exp() * log_probs).sum(-1).sum() / n
                accuracy = (logits.argmax(-1) == wanted).sum() / n
                self._metrics[mode]["entropy"].append(entropy.item())
                self._metrics[mode]["mean_token_accuracy"].append(accuracy.item())
                if mode == "train" and "attention_mask" in inputs:
                    self._total_train_tokens += int(inputs["attention_mask"].sum())
                    self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return PlanTokensSFTTrainer


def make_trainer(cfg: SFTRunConfig, model: Any, tokenizer: Any, train_ds: Any, eval_ds: Any = None) -> Any:
    """The configured TRL ``SFTTrainer`` (its datasets already tokenized, labels masked outside the plan)."""
    import torch
    from trl import SFTConfig

    PlanTokensSFTTrainer = _plan_tokens_trainer_class()

    torch.manual_seed(cfg.seed)
    args = SFTConfig(
        **cfg.training_arguments(len(train_ds)),
        completion_only_loss=True,
        activation_checkpointing=cfg.gradient_checkpointing,
        remove_unused_columns=True,
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
    )
    trainer = PlanTokensSFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=cfg.peft_config(model) if cfg.lora else None,
    )
    return trainer


def _train(cfg: SFTRunConfig, model: Any, tokenizer: Any, train_ds: Any, eval_ds: Any) -> tuple[Any, dict[str, Any]]:
    trainer = make_trainer(cfg, model, tokenizer, train_ds, eval_ds)
    timer = step_timer()
    trainer.add_callback(timer)
    started = time.perf_counter()
    result = trainer.train()
    metrics: dict[str, Any] = {
        "train_examples": len(train_ds),
        "train_steps": result.global_step,
        "train_loss": result.training_loss,
        "train_seconds": time.perf_counter() - started,
        **timer.metrics(),
        **cpu_report(),
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
