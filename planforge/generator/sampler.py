"""Choose what each teacher request asks for, seeded, with coverage tracking so rare cases are not starved.

Two modes. A teacher that declares shapes (:class:`~planforge.generator.teachers.base.ShapeCatalog`) gets one
shape per example, each with its own offered functions: a stratum is drawn by the catalog's mix, then among a
few shapes drawn from it by weight the one whose structure is rarest so far wins (ties: the one bringing the
most function pairs not seen yet, then the first drawn); while a stratum has function pairs no example has used
yet, shapes using one of them join the candidates, so every pair a teacher can write turns up early. Any other
teacher gets one function set per request from the recipe's co-use graph. Either way the targets come with
distractors as negative samples.

A share of the requests (``sampling.no_call_share``) asks for requests none of the offered functions serves
(relevance detection): such a request has no targets, only a sample of functions to offer, and is marked
``no_call``; which requests they are is fixed by the seed and the sequence number alone (an exact share of every
run's requests, spread evenly), and they leave the coverage counts alone.

Draws depend only on the seed and on earlier draws, never on replies, so a resumed run replays the
same requests."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from itertools import accumulate, combinations
from typing import Any

from planforge.generator.teachers.base import Shape, ShapeCatalog, TeacherRequest, shapes_of
from planforge.tools import ToolSet

COVERAGE_CHOICES = 3  # draw this many candidates and keep the least used one
SHAPE_CHOICES = 12  # the same, for shapes within a stratum (drawn by weight)
PLAIN_CHOICES = 3  # shapes drawn regardless of weight, added to those candidates
PAIR_CHOICES = 2  # shapes with a function pair not used yet, added to those candidates


class FunctionSampler:
    def __init__(self, tools: ToolSet, sampling: dict[str, Any], seed: int, shapes: ShapeCatalog | None = None):
        self.tools = tools
        self.names = list(tools)
        self.sampling = sampling
        self.seed = seed
        self.combo_counts: Counter[frozenset[str]] = Counter()
        self.function_counts: Counter[str] = Counter({name: 0 for name in self.names})
        self.structure_counts: Counter[str] = Counter()
        self.pair_counts: Counter[frozenset[str]] = Counter()
        self._strata, self._weights, self._pools = _strata(shapes, set(self.names))
        self._by_pair = {stratum: _pair_index(pool) for stratum, pool in self._pools.items()}
        self._unseen = {pair for index in self._by_pair.values() for pair in index}  # pairs no example used yet
        self._cumulative = {stratum: list(accumulate(s.weight for s in pool)) for stratum, pool in self._pools.items()}
        self._start = datetime.fromisoformat(sampling["now"]["start"])
        self._days = max(0, (datetime.fromisoformat(sampling["now"]["end"]) - self._start).days)
        self.no_call_share = float(sampling.get("no_call_share", 0.0))
        self._no_call_phase = random.Random(f"{seed}:no_call").random()
        self.next_seq = 0

    @classmethod
    def for_teacher(cls, tools: ToolSet, sampling: dict[str, Any], seed: int, teacher: Any) -> FunctionSampler:
        """A sampler aimed at the teacher's declared shapes, or at co-use function sets if it declares none."""
        return cls(tools, sampling, seed, shapes_of(teacher))

    def is_no_call(self, seq: int) -> bool:
        """Whether request ``seq`` asks for no-call requests: ``no_call_share`` of the requests, evenly spread
        from a seeded phase."""
        share, phase = self.no_call_share, self._no_call_phase
        return share > 0 and int((seq + 1) * share + phase) > int(seq * share + phase)

    def draw(self) -> TeacherRequest:
        """The next request (sequence numbers are consecutive)."""
        if self.is_no_call(self.next_seq):
            return self._draw_no_call()
        rng = random.Random(f"{self.seed}:{self.next_seq}")
        count = self.sampling["examples_per_request"]
        shapes: list[Shape] = []
        offers: list[list[str]] = []
        if self._pools:
            for _ in range(count):
                shapes.append(self._shape(rng))
                self._count(shapes[-1])
                offers.append(self._offer(rng, shapes[-1].functions))
            targets = shapes[0].functions
        else:
            options = [self._co_use_targets(rng) for _ in range(COVERAGE_CHOICES)]
            targets = min(options, key=lambda t: (self.combo_counts[t], sum(self.function_counts[f] for f in t)))
            self.function_counts.update(targets)
            offers.append(self._offer(rng, targets))
        self.combo_counts[targets] += 1
        request = TeacherRequest(
            seq=self.next_seq,
            targets=tuple(sorted(targets)),
            tools=self.tools.subset(offers[0]),
            now=self._now(rng),
            num_examples=count,
            shapes=tuple(s.id for s in shapes),
            example_tools=tuple(self.tools.subset(o) for o in offers) if shapes else (),
        )
        self.next_seq += 1
        return request

    def _draw_no_call(self) -> TeacherRequest:
        """A no-call request: as many functions offered as an ordinary request has, none of them a target (the
        coverage counts are left alone)."""
        rng = random.Random(f"{self.seed}:{self.next_seq}:no_call")
        sampling = self.sampling
        low = sampling["min_targets"] + sampling["min_distractors"]
        high = sampling["max_targets"] + sampling["max_distractors"]
        size = max(1, min(len(self.names) - 1, rng.randint(low, high)))
        request = TeacherRequest(
            seq=self.next_seq,
            targets=(),
            tools=self.tools.subset(rng.sample(self.names, size)),
            now=self._now(rng),
            num_examples=sampling["examples_per_request"],
            no_call=True,
        )
        self.next_seq += 1
        return request

    def _offer(self, rng: random.Random, targets: frozenset[str]) -> list[str]:
        """The targets and a few distractors, shuffled."""
        others = [n for n in self.names if n not in targets]
        low, high = self.sampling["min_distractors"], self.sampling["max_distractors"]
        offered = sorted(targets) + rng.sample(others, min(len(others), rng.randint(low, high)))
        rng.shuffle(offered)
        return offered

    def skip_to(self, seq: int) -> None:
        """Replay draws up to ``seq`` (for --resume)."""
        while self.next_seq < seq:
            self.draw()

    def _shape(self, rng: random.Random) -> Shape:
        stratum = rng.choices(self._strata, self._weights)[0]
        pool = self._pools[stratum]
        options = rng.choices(pool, cum_weights=self._cumulative[stratum], k=SHAPE_CHOICES)
        options += [rng.choice(pool) for _ in range(PLAIN_CHOICES)]  # so rarely asked shapes still turn up
        by_pair = self._by_pair[stratum]
        unseen = [pair for pair in by_pair if pair in self._unseen] if self._unseen else []
        if unseen:
            options += [rng.choice(by_pair[rng.choice(unseen)]) for _ in range(PAIR_CHOICES)]
        return min(options, key=self._shape_score)

    def _count(self, shape: Shape) -> None:
        self.structure_counts[shape.structure] += 1
        pairs = _pairs(shape.functions)
        self.pair_counts.update(pairs)
        self._unseen.difference_update(pairs)
        self.function_counts.update(shape.functions)

    def _shape_score(self, shape: Shape) -> tuple[int, int, float]:
        unseen = sum(1 for pair in _pairs(shape.functions) if pair in self._unseen) if self._unseen else 0
        return self.structure_counts[shape.structure], -unseen, -shape.weight

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


def _pairs(functions: frozenset[str]) -> list[frozenset[str]]:
    return [frozenset(p) for p in combinations(sorted(functions), 2)]


def _pair_index(pool: list[Shape]) -> dict[frozenset[str], list[Shape]]:
    """Function pair -> the shapes of a stratum using it, in a fixed order."""
    index: dict[frozenset[str], list[Shape]] = {}
    for shape in pool:
        for pair in _pairs(shape.functions):
            index.setdefault(pair, []).append(shape)
    return dict(sorted(index.items(), key=lambda item: sorted(item[0])))


def _strata(catalog: ShapeCatalog | None, known: set[str]) -> tuple[list[str], list[float], dict[str, list[Shape]]]:
    """Strata with shapes the recipe's functions can make, their weights, and their shapes in a fixed order."""
    if catalog is None:
        return [], [], {}
    pools: dict[str, list[Shape]] = {}
    for shape in sorted(catalog.shapes, key=lambda s: s.id):
        if shape.functions <= known:
            pools.setdefault(shape.stratum, []).append(shape)
    strata = [s for s in sorted(pools) if catalog.mix.get(s, 0) > 0]
    return strata, [float(catalog.mix[s]) for s in strata], {s: pools[s] for s in strata}
