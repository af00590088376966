"""``gen train sft``'s settings (beside :mod:`planforge.trainers.sft`, as TRL keeps each config by its trainer)."""

from __future__ import annotations

from dataclasses import dataclass

from planforge.trainers.config import CausalLMTrainerConfig, DemonstrationOptions, option, required


@dataclass(kw_only=True)
class SFTRunConfig(CausalLMTrainerConfig, DemonstrationOptions):
    """Supervised fine-tuning on a plans dataset; loss on the plan only."""

    data: str = required("A plans dataset from `gen run` (save_to_disk directory).")
    toolrag: str | None = option(None, "A ToolRAG classifier: prompts list its selected functions.")
    toolrag_add_targets: bool = option(
        True, "At training time, also list the functions the plan needs that the classifier missed.", cli=False
    )
    group_by_length: bool = option(False, "Batch examples of similar length together (less padding per step).")

    @property
    def default_lr(self) -> float:
        return 2e-4 if self.lora else 2e-5
