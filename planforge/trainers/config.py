"""What every trainer's config shares (as TRL's trainers share ``TrainingArguments``).

Each field carries ``metadata={"help": ...}``: the CLI builds its options from these dataclasses
(:func:`planforge.commands.config_command`), so a flag, its help and its shown default come from one place.
A field with ``metadata={"cli": False}`` is for Python callers only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A config field with its CLI help (``flag="--lora/--full"`` to spell the flag, ``cli=False`` to hide it)."""
    return field(default=default, metadata={"help": help, **metadata})


def required(help: str, **metadata: Any) -> Any:
    return field(metadata={"help": help, **metadata})


@dataclass(kw_only=True)
class TrainerBaseConfig:
    """The schedule every trainer has; defaults are for a real run (``--max-steps 5 --max-examples 20``: a tiny one)."""

    out: str = required("Output directory (weights, run_config.json, metrics.json).")
    epochs: float = option(3.0, "Passes over the training split.")
    max_steps: int = option(-1, "Stop after this many optimizer steps (-1: use --epochs).")
    batch_size: int = option(8, "Examples per device step.")
    lr: float | None = option(None, "Peak learning rate (default: the trainer's).")
    warmup_ratio: float = option(0.05, "Share of the steps spent warming the learning rate up.")
    seed: int = option(42, "Random seed.")
    max_examples: int | None = option(None, "Use at most this many examples of each split used.")
    max_length: int = option(2048, "Token limit per example.")
    logging_steps: int = option(10, "Log the loss every this many steps.")
    threads: int | None = option(None, "CPU threads for torch (default: torch's, one per core).")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else self.default_lr

    @property
    def default_lr(self) -> float:
        return 2e-4

    def planned_steps(self, train_rows: int, grad_accum: int = 1) -> int:
        steps_per_epoch = math.ceil(train_rows / (self.batch_size * grad_accum))
        return self.max_steps if self.max_steps > 0 else max(1, math.ceil(steps_per_epoch * self.epochs))


@dataclass(kw_only=True)
class LoraOptions:
    """LoRA (peft) settings of the causal-LM trainers."""

    lora: bool = option(True, "LoRA adapter (default) or all weights.", flag="--lora/--full")
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int = option(32, "LoRA alpha (the adapter's scale is alpha / r).")
    lora_dropout: float = option(0.05, "Dropout on the LoRA path.")
    lora_target_modules: str = option("all-linear", "Modules that get adapters (peft's names).")
    lora_layers: int | None = option(
        None,
        "Adapt only the last N layers (default: all); on CPU, half the layers cost about 0.6x the CPU time a step.",
    )


@dataclass(kw_only=True)
class DemonstrationOptions:
    """Retrieved in-context examples in the prompt (TinyAgent): what the planner trains and is evaluated on."""

    icl_examples: int | None = option(
        None,
        "Show each request its K nearest training examples (MiniLM embeddings) as demonstrations "
        "(default: what the adapter was trained with, else none).",
    )
    icl_data: str | None = option(
        None, "Plans dataset whose train split the demonstrations come from (default: the adapter's, else --data)."
    )


@dataclass(kw_only=True)
class CausalLMTrainerConfig(TrainerBaseConfig, LoraOptions):
    """SFT, DPO and GRPO: a causal LM (hub id, folder or .gguf) trained with TRL on planforge's prompts."""

    model: str = required("Hub id, local directory or .gguf file.")
    grad_accum: int = option(1, "Gradient accumulation steps.")
    eval_split: str = option("validation", "Split for the evaluation loss after training.")
    max_eval_examples: int = option(200, "At most this many evaluation examples.")
    dtype: str = option("float32", "Weights' dtype: float32, bfloat16 or float16.")
    gradient_checkpointing: bool = option(False, "Recompute activations in the backward pass (less memory).")

    def training_arguments(self, train_rows: int) -> dict[str, Any]:
        """The ``TrainingArguments`` every causal-LM trainer shares (schedule, seeds, CPU/GPU, no checkpoints or
        trackers)."""
        import torch

        planned = self.planned_steps(train_rows, self.grad_accum)
        return {
            "output_dir": self.out,
            "max_steps": self.max_steps,
            "num_train_epochs": self.epochs,
            "per_device_train_batch_size": self.batch_size,
            "per_device_eval_batch_size": self.batch_size,
            "gradient_accumulation_steps": self.grad_accum,
            "learning_rate": self.learning_rate,
            "lr_scheduler_type": "linear",
            "warmup_steps": int(planned * self.warmup_ratio),
            "seed": self.seed,
            "data_seed": self.seed,
            "max_length": self.max_length,
            "bf16": False,
            "fp16": False,
            "use_cpu": not torch.cuda.is_available(),
            "logging_steps": max(1, min(self.logging_steps, planned)),
            "save_strategy": "no",
            "eval_strategy": "no",
            "report_to": [],
            "dataloader_num_workers": 0,
            "disable_tqdm": False,
        }

    def peft_config(self, model: Any = None) -> Any:
        from planforge.trainers.models import lora_config

        return lora_config(
            self.lora_r,
            self.lora_alpha,
            self.lora_dropout,
            self.lora_target_modules,
            last_layers=self.lora_layers,
            model=model,
        )
