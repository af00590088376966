"""``gen eval plans``'s settings (beside :mod:`planforge.trainers.evaluate`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planforge.trainers.config import DemonstrationOptions, option, required
from planforge.validators import FREE_TEXT_MODES


@dataclass(kw_only=True)
class EvalPlansConfig(DemonstrationOptions):
    """A model (+ adapter) writes the plans, or ``predictions`` are read from a JSONL file."""

    data: str = required("A plans dataset from `gen run`.")
    model: str | None = option(None, "Hub id, local directory or .gguf file that writes the plans.")
    adapter: str | None = option(None, "A LoRA adapter for --model (the base model is read from its run).")
    predictions: str | None = option(None, "JSONL of {id, plan} made elsewhere, instead of a model.")
    split: str = option("test", "Dataset split.")
    toolrag: str | None = option(None, "Prompts list this classifier's functions (default: the adapter's own).")
    use_run_toolrag: bool = option(
        True, "Reuse the prompts an adapter was trained with (its classifier, its demonstrations).", cli=False
    )
    max_examples: int | None = option(None, "Use at most this many examples.")
    batch_size: int = option(8, "Prompts per generation batch.")
    max_new_tokens: int = option(320, "Generation limit per plan.")
    require_join: bool = option(
        True, "An LLMCompiler plan must end with join() to be valid.", flag="--require-join/--no-require-join"
    )
    free_text: str = option(
        "normalized", f"Argument success: free-text arguments compared {' or '.join(FREE_TEXT_MODES)} (not at all)."
    )
    seed: int = option(42, "Random seed.")
    out: str | None = option(None, "Write predictions.jsonl, metrics.json and run_config.json here.")
    dtype: str = option("float32", "Weights' dtype: float32, bfloat16 or float16.", cli=False)
    extra: dict[str, Any] = field(default_factory=dict, metadata={"cli": False})
