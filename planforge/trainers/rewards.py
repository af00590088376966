"""The RL reward: planforge's validators as a verifiable reward, one part per thing a plan can get right.

A completion is cleaned as every planner's output is (:func:`planforge.llms.output.clean_output`) and scored as
``gen eval plans`` scores it (:func:`planforge.trainers.evaluate.score_plan`: the functions the model was shown,
the recipe's rules, the example's "now"), so training rewards exactly what evaluation counts:

* ``parses``: the text reads as a plan (1 or 0);
* ``valid``: no validator error, the recipe's rules included;
* ``isomorphic``: its DAG is the reference's (TinyAgent's success);
* ``arguments``: the share of the compared arguments that agree under the isomorphism's pairing of calls (key
  arguments exact, free text normalized or ignored): 1 exactly for an argument success, 0 when not isomorphic.

On a no-call example the empty plan is the answer: it parses, is valid, and scores 1 for both comparisons.
The reward is the weighted sum of the parts (:class:`RewardWeights`, recorded with the run). For TRL each part is
its own reward function (:meth:`PlanRewards.functions`), so ``GRPOTrainer`` logs every part and sums them with
``reward_weights``. Everything here is pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from planforge.llms.output import clean_output
from planforge.plan import Plan
from planforge.tools import ToolSet
from planforge.trainers.evaluate import score_plan
from planforge.validators import KeyArguments, Rule

PARTS = ("parses", "valid", "isomorphic", "arguments")


@dataclass(frozen=True)
class RewardWeights:
    """How much each part counts; the defaults make a right plan worth 2.75 and a readable, valid plan with the
    wrong calls 0.75, so the wiring and the arguments carry most of the signal."""

    parses: float = 0.25
    valid: float = 0.5
    isomorphic: float = 1.0
    arguments: float = 1.0

    def as_list(self) -> list[float]:
        return [getattr(self, part) for part in PARTS]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class RewardTarget:
    """What one example's completions are scored against: its reference plan and what judging it needs."""

    reference: Plan
    tools: ToolSet  # the functions the model was shown
    rules: tuple[Rule, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)  # the request and its "now"
    key_arguments: KeyArguments = field(default_factory=KeyArguments)
    no_call: bool = False


def reward_parts(completion: str, target: RewardTarget) -> dict[str, float]:
    """Each part of the reward of one completion, in [0, 1]."""
    text = clean_output(completion)
    score = score_plan(
        text,
        target.reference,
        target.tools,
        rules=target.rules,
        context=target.context,
        key_arguments=target.key_arguments,
        no_call=target.no_call,
    )
    parses = score.parsed and bool(text)
    return {
        "parses": float(parses),
        "valid": float(parses and score.valid),
        "isomorphic": float(parses and score.success),
        "arguments": score.argument_share if parses else 0.0,
    }


def total_reward(parts: Mapping[str, float], weights: RewardWeights) -> float:
    return sum(getattr(weights, part) * parts[part] for part in PARTS)


def plan_reward(completion: str, target: RewardTarget, weights: RewardWeights | None = None) -> float:
    """The reward of one completion: the weighted sum of its parts."""
    return total_reward(reward_parts(completion, target), weights or RewardWeights())


def completion_text(completion: Any) -> str:
    """A TRL completion as text: a string (standard rows) or a list of messages (conversational rows)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        return str(completion[-1].get("content") or "")
    return ""


class PlanRewards:
    """The parts as TRL reward functions, for rows that carry an ``id`` column naming their :class:`RewardTarget`.

    Each completion is judged once: the four functions share the verdicts of the batch TRL scores."""

    def __init__(self, targets: Mapping[str, RewardTarget]) -> None:
        self.targets = dict(targets)
        self._batch: dict[tuple[str, str], dict[str, float]] = {}

    def parts(self, example_id: str, completion: str) -> dict[str, float]:
        key = (example_id, completion)
        found = self._batch.get(key)
        if found is None:
            if len(self._batch) > 4096:
                self._batch.clear()
            found = self._batch[key] = reward_parts(completion, self.targets[example_id])
        return found

    def functions(self) -> list[Callable[..., list[float]]]:
        """One function per part, in :data:`PARTS` order, named after it (TRL logs ``rewards/<part>/mean``)."""

        def make(part: str) -> Callable[..., list[float]]:
            def reward(completions: Sequence[Any], id: Sequence[str], **_: Any) -> list[float]:
                return [self.parts(i, completion_text(c))[part] for c, i in zip(completions, id, strict=True)]

            reward.__name__ = part
            return reward

        return [make(part) for part in PARTS]
