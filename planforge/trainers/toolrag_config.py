"""``gen train toolrag`` and ``gen eval toolrag`` settings (beside :mod:`planforge.trainers.toolrag`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planforge.errors import ConfigError
from planforge.trainers.config import TrainerBaseConfig, option, required


def parse_ks(text: str | tuple[int, ...]) -> tuple[int, ...]:
    """``"3,6"`` -> (3, 6): the k of the embedding top-k baselines."""
    if isinstance(text, tuple):
        return text
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise ConfigError("--baseline-k: comma-separated integers, e.g. 3,6") from None
    if not ks or min(ks) < 1:
        raise ConfigError("--baseline-k: comma-separated positive integers, e.g. 3,6")
    return ks


BASE_HELP = "Encoder (default: the packaged all-MiniLM-L6-v2; microsoft/deberta-v3-small with hub access)."
BASELINE_K_HELP = "k of the embedding top-k baselines, comma-separated."


@dataclass(kw_only=True)
class ToolRAGConfig(TrainerBaseConfig):
    """The tool-retrieval classifier: one sigmoid per function, compared with embedding top-k."""

    data: str = required("A plans dataset from `gen run`.")
    base: str | None = option(None, BASE_HELP)
    threshold: float | None = option(
        None,
        "Select a function at this probability (default: the largest that selects every needed function for "
        "--target-all-needed of the validation split's requests; 0.5 without one).",
    )
    target_all_needed: float = option(
        0.99, "The share of validation requests that must get every needed function, choosing the threshold."
    )
    min_selected: int = option(1, "Always select at least this many functions.")
    epochs: float = option(8.0, "Passes over the training split.")
    batch_size: int = option(16, "Requests per step.")
    head_lr: float = option(2e-3, "Learning rate of the output layer (new weights; --lr is the encoder's).")
    pos_weight: float | None = option(3.0, "Weight of positive labels in the loss (> 1 favours recall).")
    weight_decay: float = option(0.01, "AdamW weight decay.")
    warmup_ratio: float = option(0.1, "Share of the steps spent warming the learning rate up.")
    max_length: int = option(128, "Token limit per request.")
    eval_split: str = option("test", "Split to report recall and precision on.")
    baseline_k: tuple[int, ...] = option((3, 6), BASELINE_K_HELP, parser=parse_ks)
    baseline: bool = option(True, "Compare with the embedding top-k baselines.", flag="--baseline/--no-baseline")
    latency_requests: int = option(200, "Requests timed one at a time for the CPU latency figure.")
    prompt_tokenizer: str | None = option(None, "Count prompt tokens with this (planner) tokenizer.")

    @property
    def default_lr(self) -> float:
        return 1e-4


@dataclass(kw_only=True)
class EvalToolRAGConfig:
    classifier: str = required("A directory from `gen train toolrag`.")
    data: str = required("A plans dataset from `gen run`.")
    split: str = option("test", "Dataset split.")
    threshold: float | None = option(None, "Override the classifier's threshold.")
    max_examples: int | None = option(None, "Use at most this many examples.")
    baseline: bool = option(True, "Compare with the embedding top-k baselines.", flag="--baseline/--no-baseline")
    baseline_k: tuple[int, ...] = option((3, 6), BASELINE_K_HELP, parser=parse_ks)
    latency_requests: int = option(200, "Requests timed one at a time for the CPU latency figure.")
    prompt_tokenizer: str | None = option(None, "Count prompt tokens with this (planner) tokenizer.")
    out: str | None = option(None, "Write metrics.json and run_config.json here.")
    extra: dict[str, Any] = field(default_factory=dict, metadata={"cli": False})
