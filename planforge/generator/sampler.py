"""Choose the functions of each teacher request: targets (following the recipe's co-use graph) plus
distractors as negative samples, seeded, with coverage tracking so rare combinations are not starved.

Draws depend only on the seed and on earlier draws, never on replies, so a resumed run replays the
same requests."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from planforge.generator.teachers.base import TeacherRequest
from planforge.tools import ToolSet

COVERAGE_CHOICES = 3  # draw this many candidate target sets and keep the least used one


class FunctionSampler:
    def __init__(
        self,
        tools: ToolSet,
        sampling: dict[str, Any],
        seed: int,
        candidates: Sequence[frozenset[str]] | None = None,
    ):
        self.tools = tools
        self.names = list(tools)
        self.sampling = sampling
        self.seed = seed
        self.candidates = sorted((frozenset(c) for c in candidates), key=sorted) if candidates else None
        self.combo_counts: Counter[frozenset[str]] = Counter()
        self.function_counts: Counter[str] = Counter({name: 0 for name in self.names})
        self._start = datetime.fromisoformat(sampling["now"]["start"])
        self._days = max(0, (datetime.fromisoformat(sampling["now"]["end"]) - self._start).days)
        self.next_seq = 0

    def draw(self) -> TeacherRequest:
        """The next request (sequence numbers are consecutive)."""
        rng = random.Random(f"{self.seed}:{self.next_seq}")
        options = [self._candidate_targets(rng) for _ in range(COVERAGE_CHOICES)]
        targets = min(options, key=lambda t: (self.combo_counts[t], sum(self.function_counts[f] for f in t)))
        self.combo_counts[targets] += 1
        self.function_counts.update(targets)
        others = [n for n in self.names if n not in targets]
        low, high = self.sampling["min_distractors"], self.sampling["max_distractors"]
        distractors = rng.sample(others, min(len(others), rng.randint(low, high)))
        offered = sorted(targets) + distractors
        rng.shuffle(offered)
        request = TeacherRequest(
            seq=self.next_seq,
            targets=tuple(sorted(targets)),
            tools=self.tools.subset(offered),
            now=self._now(rng),
            num_examples=self.sampling["examples_per_request"],
        )
        self.next_seq += 1
        return request

    def skip_to(self, seq: int) -> None:
        """Replay draws up to ``seq`` (for --resume)."""
        while self.next_seq < seq:
            self.draw()

    def _candidate_targets(self, rng: random.Random) -> frozenset[str]:
        if self.candidates is not None:
            return rng.choice(self.candidates)
        return self._co_use_targets(rng)

    def _co_use_targets(self, rng: random.Random) -> frozenset[str]:
        """Anchors weighted towards little-used functions, each with the partners it needs (co-use graph),
        until the drawn size is reached; a group that would pass max_targets is left out whole."""
        size = rng.randint(self.sampling["min_targets"], self.sampling["max_targets"])
        chosen: set[str] = set()
        for _ in range(4 * len(self.names)):
            if len(chosen) >= size:
                break
            pool = [n for n in self.names if n not in chosen]
            weights = [1.0 / (1 + self.function_counts[n]) for n in pool]
            group = self._with_partners(rng.choices(pool, weights)[0], rng)
            if len(chosen | group) <= self.sampling["max_targets"]:
                chosen |= group
        return frozenset(chosen)

    def _with_partners(self, anchor: str, rng: random.Random) -> set[str]:
        co_use: dict[str, dict[str, float]] = self.sampling["co_use"]
        group, frontier = set(), [anchor]
        while frontier:
            function = frontier.pop()
            if function in group:
                continue
            group.add(function)
            frontier += [p for p, probability in co_use.get(function, {}).items() if rng.random() < probability]
        return group

    def _now(self, rng: random.Random) -> str:
        moment = self._start + timedelta(
            days=rng.randint(0, self._days), hours=rng.randint(8, 18), minutes=rng.choice((0, 15, 30, 45))
        )
        return moment.strftime("%Y-%m-%d %H:%M:%S")
