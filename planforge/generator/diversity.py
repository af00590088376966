"""Diversity seeds: who is asking and in what situation, drawn into each LLM teacher prompt.

A recipe lists ``seeds: {personas: [...], scenarios: [...]}``. Request ``k`` of a run gets one persona and one
scenario, drawn from a deck shuffled by the run's seed: in every block of as many requests as there are personas,
each persona comes up once (the same for scenarios), so a short run still sees them all and the same seed always
gives the same prompts. The template teacher writes from its grammar and takes none. The row's ``meta`` records
the persona and scenario its request was written for."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=64)
def _shuffled(seed: int, name: str, block: int, size: int) -> tuple[int, ...]:
    """The order of a deck's block of requests: dealt once per block, not once per request (seeding a
    ``random.Random`` from a string and shuffling costs more than the rest of the prompt)."""
    return tuple(random.Random(f"{seed}:{name}:{block}").sample(range(size), size))


@dataclass(frozen=True)
class Diversity:
    personas: tuple[str, ...]
    scenarios: tuple[str, ...]
    seed: int

    @classmethod
    def of(cls, seeds: Mapping[str, Sequence[str]] | None, seed: int) -> Diversity | None:
        """The recipe's seeds (``None`` when it lists neither personas nor scenarios)."""
        personas = tuple((seeds or {}).get("personas") or ())
        scenarios = tuple((seeds or {}).get("scenarios") or ())
        return cls(personas, scenarios, seed) if personas or scenarios else None

    def _deal(self, deck: tuple[str, ...], name: str, seq: int) -> str | None:
        if not deck:
            return None
        block, position = divmod(seq, len(deck))
        return deck[_shuffled(self.seed, name, block, len(deck))[position]]

    def pick(self, seq: int) -> tuple[str | None, str | None]:
        """The persona and scenario of request ``seq``."""
        return self._deal(self.personas, "persona", seq), self._deal(self.scenarios, "scenario", seq)

    def meta(self, seq: int) -> dict[str, Any]:
        persona, scenario = self.pick(seq)
        return {"persona": persona, "scenario": scenario}

    def prompt_line(self, seq: int) -> str:
        """What the teacher's user turn gets: the person and the situation to write for."""
        persona, scenario = self.pick(seq)
        parts = []
        if persona:
            parts.append(f"The person asking: {persona}.")
        if scenario:
            parts.append(f"Their situation: {scenario}.")
        return " ".join(parts) + " Write what this person would say in this situation."


@dataclass(frozen=True)
class MetaScreen:
    """The assessor's screen for a free-mode LLM teacher with seeds: rejects nothing, records the persona and
    scenario of the request in each example's ``meta``. Picklable, for worker processes."""

    diversity: Diversity

    def __call__(self, content: str, proposals: Sequence[Any], request: Any) -> list[tuple[str | None, dict]]:
        meta = self.diversity.meta(request.seq)
        return [(None, meta)] * len(proposals)
