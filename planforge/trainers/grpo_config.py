"""``gen train grpo``'s settings (beside :mod:`planforge.trainers.grpo`)."""

from __future__ import annotations

from dataclasses import dataclass

from planforge.trainers.config import CausalLMTrainerConfig, DemonstrationOptions, option, required
from planforge.trainers.rewards import RewardWeights
from planforge.validators import FREE_TEXT_MODES

_DEFAULT = RewardWeights()


@dataclass(kw_only=True)
class GRPORunConfig(CausalLMTrainerConfig, DemonstrationOptions):
    """Reinforcement learning with the validators as the reward, optionally continuing an SFT adapter."""

    data: str = required("A plans dataset from `gen run` (its reference plans score the samples).")
    adapter: str | None = option(None, "An SFT LoRA adapter to start from (SFT then RL).")
    toolrag: str | None = option(None, "A ToolRAG classifier for the prompts (default: the SFT adapter's, if any).")
    num_generations: int = option(8, "Plans sampled per request (the group GRPO compares).")
    max_completion_length: int = option(256, "Token limit per sampled plan.")
    temperature: float = option(1.0, "Sampling temperature.")
    top_p: float = option(1.0, "Nucleus sampling: keep the most probable tokens up to this mass.")
    beta: float = option(0.0, "KL coefficient against the starting policy (0: no reference model).")
    epsilon: float = option(0.2, "Clipping range of the policy ratio.")
    scale_rewards: str = option("group", "Advantage scaling: group, batch or none (Dr. GRPO).")
    weight_parses: float = option(_DEFAULT.parses, "Reward for a completion that reads as a plan.")
    weight_valid: float = option(_DEFAULT.valid, "Reward for a valid plan (every validator and the recipe's rules).")
    weight_isomorphic: float = option(_DEFAULT.isomorphic, "Reward for the reference's DAG (TinyAgent's success).")
    weight_arguments: float = option(
        _DEFAULT.arguments, "Reward times the share of arguments that agree with the reference's (key ones exact)."
    )
    free_text: str = option(
        "normalized", f"Free-text arguments compared {' or '.join(FREE_TEXT_MODES)} (not at all) by the reward."
    )
    epochs: float = option(1.0, "Passes over the training split.")
    batch_size: int = option(8, "Sampled plans per device step (a multiple of --num-generations).")
    max_length: int = option(2048, "Unused: GRPO bounds the sampled plan (--max-completion-length).", cli=False)
    max_eval_examples: int = option(0, "Validation requests scored after training (each sampled --num-generations).")
    logging_steps: int = option(1, "Log the rewards every this many steps.")

    @property
    def reward_weights(self) -> RewardWeights:
        return RewardWeights(self.weight_parses, self.weight_valid, self.weight_isomorphic, self.weight_arguments)

    @property
    def default_lr(self) -> float:
        return 2e-5 if self.lora or self.adapter else 1e-6
