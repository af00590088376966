"""``gen train dpo``'s settings (beside :mod:`planforge.trainers.dpo`)."""

from __future__ import annotations

from dataclasses import dataclass

from planforge.trainers.config import CausalLMTrainerConfig, DemonstrationOptions, option, required


@dataclass(kw_only=True)
class DPORunConfig(CausalLMTrainerConfig, DemonstrationOptions):
    """Direct preference optimisation on a pairs dataset, optionally continuing an SFT adapter."""

    pairs: str = required("A preference-pairs dataset from `gen pairs` (or `gen review pull`).")
    adapter: str | None = option(None, "An SFT LoRA adapter to start from (it is also the reference).")
    toolrag: str | None = option(None, "A ToolRAG classifier for the prompts (default: the SFT adapter's, if any).")
    beta: float = option(0.1, "DPO temperature.")
    epochs: float = option(1.0, "Passes over the training split.")
    batch_size: int = option(4, "Pairs per device step.")
    warmup_ratio: float = option(0.1, "Share of the steps spent warming the learning rate up.")

    @property
    def default_lr(self) -> float:
        return 2e-5 if self.lora or self.adapter else 1e-6
