"""The generation run: request -> reply -> parse -> validate -> dedup -> accept, streamed.

Requests are issued ahead (bounded by the teacher's concurrency) but their replies are consumed in
request order, so the same seed and the same teacher replies always give the same dataset, however
the network interleaves them. Each finished request is appended to the checkpoint with its counters;
the run's statistics are the sum of those counters, which is also how ``--resume`` restores them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.dataset.rows import Example
from planforge.errors import ReplyFormatError, RunAborted
from planforge.generator.checkpoint import Checkpoint
from planforge.generator.dedup import Deduplicator
from planforge.generator.pricing import cost_usd
from planforge.generator.replies import parse_reply
from planforge.generator.sampler import FunctionSampler
from planforge.generator.teachers.base import Teacher, TeacherError, TeacherReply, TeacherRequest
from planforge.recipes.loader import Recipe
from planforge.validators import judge

MAX_CONSECUTIVE_FAILURES = 20

@dataclass
class RunConfig:
    recipe: Recipe
    out: Path
    num_examples: int
    seed: int = 0
    max_requests: int | None = None
    max_cost: float | None = None
    near_duplicate_threshold: float = 0.85
    examples_per_request: int | None = None
    resume: bool = False
    window: int = 64  # requests issued ahead of the one being consumed
    price: tuple[float, float] | None = None

    def sampling(self) -> dict[str, Any]:
        sampling = dict(self.recipe.sampling)
        if self.examples_per_request:
            sampling["examples_per_request"] = self.examples_per_request
        return sampling


@dataclass
class RunStats:
    """Sums of per-request counters."""

    requests: int = 0
    failed_requests: int = 0
    responses: int = 0
    cached_responses: int = 0
    rejected_responses: int = 0
    proposed: int = 0
    parsed: int = 0
    valid: int = 0
    accepted: int = 0
    duplicates_exact: int = 0
    duplicates_near: int = 0
    surplus: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    rejected: Counter[str] = field(default_factory=Counter)

    def add(self, counters: dict[str, Any]) -> None:
        for key, value in counters.items():
            if key == "rejected":
                self.rejected.update(value)
            else:
                setattr(self, key, getattr(self, key) + value)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "rejected"}
        out["cost_usd"] = round(self.cost_usd, 6)
        out["rejected"] = dict(sorted(self.rejected.items()))
        return out


@dataclass
class RunResult:
    stats: RunStats
    stop_reason: str
    wall_seconds: float
    resumed: bool
    teacher_calls: int


def fingerprint(config: RunConfig, teacher: Teacher) -> dict[str, Any]:
    """What must not change between a run and its --resume (stored in the checkpoint header)."""
    return {
        "recipe_hash": config.recipe.content_hash,
        "teacher": teacher.name,
        "model": teacher.model,
        "seed": config.seed,
        "sampling": config.sampling(),
        "near_duplicate_threshold": config.near_duplicate_threshold,
    }


def config_hash(config: RunConfig, teacher: Teacher) -> str:
    return hashlib.sha256(json.dumps(fingerprint(config, teacher), sort_keys=True, default=str).encode()).hexdigest()


def aborted(reason: str, stats: RunStats) -> RunAborted:
    """The run stops; ``kept`` says how many finished requests the checkpoint holds (so no message claims more)."""
    return RunAborted(reason, kept=stats.requests - stats.failed_requests)


class _Acceptor:
    """Turns one reply into counters and accepted rows (pure but for the dedup index it grows)."""

    def __init__(self, config: RunConfig, teacher: Teacher, stats: RunStats, dedup: Deduplicator):
        self.config = config
        self.teacher = teacher
        self.stats = stats
        self.dedup = dedup
        self.rules = config.recipe.rule_functions()

    def process(self, request: TeacherRequest, reply: TeacherReply) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        counters: dict[str, Any] = Counter(requests=1, responses=1)
        rejected: Counter[str] = Counter()
        counters["cached_responses"] = int(reply.cached)
        if not reply.cached:
            counters["prompt_tokens"] = reply.prompt_tokens
            counters["completion_tokens"] = reply.completion_tokens
            counters["cost_usd"] = cost_usd(self.config.price, reply.prompt_tokens, reply.completion_tokens)
        rows: list[dict[str, Any]] = []
        try:
            proposals = parse_reply(reply.content)
        except ReplyFormatError:
            counters["rejected_responses"] = 1
            return self._finish(counters, rejected), rows
        recipe = self.config.recipe
        for position, proposal in enumerate(proposals):
            tools = request.tools_for(position)
            counters["proposed"] += 1
            if proposal.problem is not None:
                rejected["syntax"] += 1
                continue
            verdict = judge(
                proposal.plan,
                tools,
                rules=self.rules,
                context={"query": proposal.query, "now": request.now},
                require_join=recipe.require_join,
            )
            if verdict.plan is None:
                rejected["syntax"] += 1
                continue
            counters["parsed"] += 1
            if verdict.errors:
                rejected.update(set(verdict.codes))
                continue
            counters["valid"] += 1
            duplicate = self.dedup.check(proposal.query)
            if duplicate.kind is not None:
                counters[f"duplicates_{duplicate.kind}"] += 1
                continue
            if self.stats.accepted + counters["accepted"] >= self.config.num_examples:
                counters["surplus"] += 1
                continue
            self.dedup.add(duplicate)
            counters["accepted"] += 1
            example = Example(
                query=proposal.query,
                plan=verdict.plan,
                tools=tools,
                now=request.now,
                teacher=self.teacher.name,
                model=self.teacher.model,
                recipe=recipe.name,
                request_id=request.request_id,
            )
            rows.append(example.to_row())
        return self._finish(counters, rejected), rows

    @staticmethod
    def _finish(counters: dict[str, Any], rejected: Counter[str]) -> dict[str, Any]:
        out = dict(counters)
        if rejected:
            out["rejected"] = dict(rejected)
        return out


async def generate(
    config: RunConfig,
    teacher: Teacher,
    *,
    on_progress: Callable[[RunStats], None] | None = None,
) -> RunResult:
    """Run until ``num_examples`` are accepted, ``max_requests`` are spent or ``max_cost`` is reached."""
    started = time.monotonic()
    stats = RunStats()
    dedup = Deduplicator(config.near_duplicate_threshold)
    sampler = FunctionSampler.for_teacher(config.recipe.tools, config.sampling(), config.seed, teacher)
    checkpoint = Checkpoint.in_dir(config.out)
    header = {
        "config_hash": config_hash(config, teacher),
        "recipe": config.recipe.name,
        "fingerprint": json.loads(json.dumps(fingerprint(config, teacher), default=str)),
    }
    resumed = config.resume and checkpoint.exists()
    if resumed:
        state = checkpoint.resume(header)
        for counters in state.counters:
            stats.add(counters)
        for query in state.queries:
            dedup.add_text(query)
        sampler.skip_to(state.next_seq)
    else:
        checkpoint.start(header)
    acceptor = _Acceptor(config, teacher, stats, dedup)
    in_flight: dict[int, tuple[TeacherRequest, asyncio.Task[TeacherReply]]] = {}
    stop_reason = "target reached"
    consecutive_failures = 0

    def budget_left() -> str | None:
        if stats.accepted >= config.num_examples:
            return "target reached"
        issued = stats.requests + len(in_flight)
        if config.max_requests is not None and issued >= config.max_requests:
            return "max requests reached"
        if config.max_cost is not None and stats.requests:
            projected = stats.cost_usd + len(in_flight) * stats.cost_usd / stats.requests
            if projected >= config.max_cost:
                return "max cost reached"
        return None

    try:
        if on_progress:
            on_progress(stats)
        while True:
            # One request first: a wrong key or a dead endpoint costs one request, not a whole window.
            window = config.window if stats.requests else 1
            while len(in_flight) < window and budget_left() is None:
                request = sampler.draw()
                in_flight[request.seq] = (request, asyncio.ensure_future(teacher.complete(request)))
            if not in_flight:
                stop_reason = budget_left() or "target reached"
                break
            seq = min(in_flight)
            request, task = in_flight.pop(seq)
            try:
                reply = await task
            except TeacherError as error:
                if error.fatal:
                    raise aborted(str(error), stats) from None
                consecutive_failures += 1
                counters: dict[str, Any] = {"requests": 1, "failed_requests": 1}
                rows: list[dict[str, Any]] = []
                if consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
                    checkpoint.record_request(seq, rows, counters)
                    stats.add(counters)
                    raise aborted(f"{consecutive_failures} requests in a row failed; last: {error}", stats) from None
            else:
                consecutive_failures = 0
                counters, rows = acceptor.process(request, reply)
            checkpoint.record_request(seq, rows, counters)
            stats.add(counters)
            if on_progress:
                on_progress(stats)
            if stats.accepted >= config.num_examples:
                break  # replies still in flight are not needed (and are cached if they arrive)
    finally:
        for _, task in in_flight.values():
            task.cancel()
        if in_flight:
            await asyncio.gather(*(t for _, t in in_flight.values()), return_exceptions=True)
        checkpoint.close()
    calls = teacher.stats.calls if teacher.stats is not None else 0
    return RunResult(stats, stop_reason, time.monotonic() - started, resumed, calls)
