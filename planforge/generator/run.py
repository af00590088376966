"""The generation run: request -> reply -> parse -> validate -> dedup -> accept, streamed.

Requests are issued ahead (bounded by the teacher's concurrency) and their replies are assessed as they arrive
(:mod:`.assess`: pure, so in worker processes when that pays), but they are committed (dedup, the target, the
checkpoint) in request order, so the same seed and the same teacher replies always give the same dataset,
however the network interleaves them. Each committed request is appended to the checkpoint with its counters;
the run's statistics are the sum of those counters, which is also how ``--resume`` restores them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import RunAborted
from planforge.generator.assess import Assessment, Assessor, RequestSpec, Workers, default_workers, offline_teacher
from planforge.generator.checkpoint import BatchLog, Checkpoint
from planforge.generator.dedup import Deduplicator, fingerprints
from planforge.generator.sampler import FunctionSampler
from planforge.generator.shards import ShardSampler
from planforge.generator.teachers.base import Teacher, TeacherError, TeacherRequest
from planforge.prompting import PLANNER_INSTRUCTIONS
from planforge.recipes.loader import Recipe

MAX_CONSECUTIVE_FAILURES = 20
PROGRESS_EVERY_SECONDS = 0.1
OFFLINE_CHUNK = 8


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
    window: int = 64  # requests in flight
    #: requests issued but not yet committed (in flight, or answered and waiting for an earlier one)
    lookahead: int = 4096
    price: tuple[float, float] | None = None
    workers: int | None = None  # processes assessing replies; None: decided by the teacher and the run's size
    shard: tuple[int, int] | None = None  # (index, count): this run makes the index-th of count disjoint parts
    #: settings beyond these that make another run (--mode, seeds, --verify): part of the resume fingerprint
    variant: dict[str, Any] = field(default_factory=dict)
    verifier: Any = None  # planforge.generator.verify.Verifier: the meaning check of each valid example

    def expected_requests(self) -> int:
        per_request = max(1, int(self.sampling()["examples_per_request"]))
        wanted = -(-self.num_examples // per_request)
        return min(wanted, self.max_requests) if self.max_requests is not None else wanted

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
    batched_responses: int = 0
    rejected_responses: int = 0  # replies that gave no example (rejected_replies says why)
    truncated_responses: int = 0  # replies cut at max_tokens (finish_reason "length")
    salvaged_responses: int = 0  # replies cut inside the examples array: the complete examples were read
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
    rejected: Counter[str] = field(default_factory=Counter)  # proposed examples, by validator code
    rejected_replies: Counter[str] = field(default_factory=Counter)  # replies without an example, by why
    failures: Counter[str] = field(default_factory=Counter)  # failed requests, by reason (timeout, ...)
    verify: Counter[str] = field(default_factory=Counter)  # --verify: examples checked, agreed, ...; tokens

    def add(self, counters: dict[str, Any]) -> None:
        for key, value in counters.items():
            if isinstance(value, dict):
                getattr(self, key).update(value)
            else:
                setattr(self, key, getattr(self, key) + value)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if not isinstance(v, Counter)}
        out["cost_usd"] = round(self.cost_usd, 6)
        for key, value in self.__dict__.items():
            if isinstance(value, Counter) and (value or key != "verify"):  # verify: only when --verify ran
                out[key] = dict(sorted(value.items()))
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
        "shard": list(config.shard) if config.shard else None,
        **({"variant": config.variant} if config.variant else {}),
    }


def config_hash(config: RunConfig, teacher: Teacher) -> str:
    return hashlib.sha256(json.dumps(fingerprint(config, teacher), sort_keys=True, default=str).encode()).hexdigest()


def make_sampler(config: RunConfig, teacher: Teacher) -> Any:
    """The run's request sampler: the teacher's own when it has one (paraphrase seeds from a dataset), else the
    function sampler aimed at the teacher's shapes."""
    make = getattr(teacher, "make_sampler", None)
    found = make(config.recipe.tools, config.sampling(), config.seed) if make is not None else None
    return found or FunctionSampler.for_teacher(config.recipe.tools, config.sampling(), config.seed, teacher)


def aborted(reason: str, stats: RunStats) -> RunAborted:
    """The run stops; ``kept`` says how many finished requests the checkpoint holds (so no message claims more)."""
    return RunAborted(reason, kept=stats.requests - stats.failed_requests)


class _Committer:
    """Takes assessed replies in request order: dedup, the target, the checkpoint. The only order-dependent
    step of a run, so the same seed and the same replies always give the same dataset."""

    def __init__(self, config: RunConfig, stats: RunStats, dedup: Deduplicator, checkpoint: Checkpoint):
        self.config = config
        self.stats = stats
        self.dedup = dedup
        self.checkpoint = checkpoint
        self.consecutive_failures = 0

    def commit(self, request: TeacherRequest, outcome: Assessment | TeacherError) -> None:
        if isinstance(outcome, TeacherError):
            if outcome.fatal:
                raise aborted(str(outcome), self.stats) from None
            self.consecutive_failures += 1
            counters: dict[str, Any] = {"requests": 1, "failed_requests": 1, "failures": {outcome.reason: 1}}
            self.checkpoint.record_request(request.seq, [], counters)
            self.stats.add(counters)
            if self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
                message = f"{self.consecutive_failures} requests in a row failed; last: {outcome}"
                raise aborted(message, self.stats) from None
            return
        self.consecutive_failures = 0
        counters = Counter(outcome.counters)
        counters["requests"] += 1
        accepted = []
        for candidate in outcome.candidates:
            duplicate = self.dedup.check(candidate.fingerprint)
            if duplicate.kind is not None:
                counters[f"duplicates_{duplicate.kind}"] += 1
                continue
            if self.stats.accepted + counters["accepted"] >= self.config.num_examples:
                counters["surplus"] += 1
                continue
            self.dedup.add(duplicate)
            counters["accepted"] += 1
            accepted.append(candidate.record)
        counters = dict(counters)
        self.checkpoint.record_request(request.seq, accepted, counters, offered=list(request.tools), now=request.now)
        self.stats.add(counters)


def checkpoint_header(config: RunConfig, teacher: Teacher) -> dict[str, Any]:
    """What a checkpoint starts with: the settings that must match on --resume, and what its rows share."""
    return {
        "config_hash": config_hash(config, teacher),
        "recipe": config.recipe.name,
        "fingerprint": json.loads(json.dumps(fingerprint(config, teacher), default=str)),
        "rows": {
            "tools": config.recipe.tools.to_openai(),
            "teacher": teacher.name,
            "model": teacher.model,
            "recipe": config.recipe.name,
            "instructions": PLANNER_INSTRUCTIONS,
        },
    }


async def generate(
    config: RunConfig,
    teacher: Teacher,
    *,
    on_progress: Callable[[RunStats], None] | None = None,
) -> RunResult:
    """Run until ``num_examples`` are accepted, ``max_requests`` are spent or ``max_cost`` is reached.

    At most ``config.window`` requests are in flight; replies are assessed as they arrive (on the loop, or in
    worker processes) and committed in request order. A reply that waits out a retry holds back only the commit
    of the replies after it, never new requests, until ``config.lookahead`` requests wait to be committed."""
    started = time.monotonic()
    stats = RunStats()
    dedup = Deduplicator(config.near_duplicate_threshold)
    sampler = make_sampler(config, teacher)
    if config.shard is not None:
        sampler = ShardSampler(sampler, *config.shard)
    checkpoint = Checkpoint.in_dir(config.out)
    header = checkpoint_header(config, teacher)
    resumed = config.resume and checkpoint.exists()
    if resumed:
        state = checkpoint.resume(header)
        for counters in state.counters:
            stats.add(counters)
        for found in fingerprints(state.queries):
            dedup.add(dedup.check(found))
        sampler.skip_to(state.next_seq)
    else:
        checkpoint.start(header)
    attach = getattr(teacher, "attach_journal", None)
    if attach is not None:
        attach(BatchLog(checkpoint, state.batches if resumed else []))
    assessor = Assessor(config.recipe, teacher.name, config.price, screen=getattr(teacher, "screen", None))
    verifier = config.verifier
    workers_wanted = config.workers
    if workers_wanted is None:
        workers_wanted = default_workers(teacher, config.expected_requests())
    workers = Workers(workers_wanted, assessor, teacher) if workers_wanted else None
    offline = offline_teacher(teacher) and workers is not None
    committer = _Committer(config, stats, dedup, checkpoint)
    done: asyncio.Queue[tuple[int, Assessment | TeacherError]] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    chunk = OFFLINE_CHUNK if offline else 1  # requests per worker task: fewer, larger messages
    running = 0  # requests in flight
    waiting: dict[int, TeacherRequest] = {}  # issued, not committed
    finished: dict[int, Assessment | TeacherError] = {}
    order: deque[int] = deque()  # issued request numbers, in order
    stop_reason = "target reached"
    last_progress = 0.0

    async def write_offline(requests: list[TeacherRequest]) -> None:
        specs = [RequestSpec.of(r) for r in requests]
        outcomes: list[Assessment | TeacherError] = list(await workers.run(specs, [None] * len(specs)))  # type: ignore[union-attr]
        if verifier is not None:
            checked = await asyncio.gather(
                *(verifier.screen(r, o) for r, o in zip(requests, outcomes, strict=True)), return_exceptions=True
            )
            outcomes = [_checked(o) for o in checked]
        for request, outcome in zip(requests, outcomes, strict=True):
            done.put_nowait((request.seq, outcome))

    async def fetch(request: TeacherRequest) -> None:
        outcome: Assessment | TeacherError
        try:
            reply = await teacher.complete(request)
            if workers is not None:
                outcome = (await workers.run([RequestSpec.of(request)], [reply]))[0]
            else:
                outcome = assessor.assess(request, reply)
            if verifier is not None:
                outcome = await verifier.screen(request, outcome)
        except TeacherError as error:
            outcome = error
        done.put_nowait((request.seq, outcome))

    def surface(task: asyncio.Task[None]) -> None:
        """A task that died of anything but a teacher error is a bug: the loop waiting on ``done`` raises it."""
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            done.put_nowait((CRASHED, task.exception()))  # type: ignore[arg-type]

    def issue(requests: list[TeacherRequest]) -> None:
        nonlocal running
        task = asyncio.ensure_future(write_offline(requests) if offline else fetch(requests[0]))
        tasks.add(task)
        task.add_done_callback(surface)
        running += len(requests)

    def enough_coming() -> bool:
        """Would what is answered and in flight reach the target? Then wait for it before asking for more."""
        answered = sum(len(o.candidates) for o in finished.values() if isinstance(o, Assessment))
        per_request = stats.accepted / stats.requests if stats.requests else config.sampling()["examples_per_request"]
        return stats.accepted + answered + running * per_request >= config.num_examples

    def budget_left() -> str | None:
        if stats.accepted >= config.num_examples:
            return "target reached"
        issued = stats.requests + len(waiting)
        if config.max_requests is not None and issued >= config.max_requests:
            return "max requests reached"
        if config.max_cost is not None and stats.requests:
            projected = stats.cost_usd + len(waiting) * stats.cost_usd / stats.requests
            if projected >= config.max_cost:
                return "max cost reached"
        return None

    try:
        if on_progress:
            on_progress(stats)
        while True:
            # One request first: a wrong key or a dead endpoint costs one request, not a whole window.
            window = config.window if stats.requests else 1
            drawn: list[TeacherRequest] = []
            while running + len(drawn) < window and len(waiting) < max(config.lookahead, window):
                if budget_left() is not None or (waiting and enough_coming()):
                    break
                request = sampler.draw()
                waiting[request.seq] = request
                order.append(request.seq)
                drawn.append(request)
                if len(drawn) == chunk:
                    issue(drawn)
                    drawn = []
            if drawn:
                issue(drawn)
            if not waiting:
                stop_reason = budget_left() or "target reached"
                break
            seq, outcome = await done.get()
            if seq == CRASHED:
                raise outcome  # type: ignore[misc]
            running -= 1
            finished[seq] = outcome
            while order and order[0] in finished:
                head = order.popleft()
                committer.commit(waiting.pop(head), finished.pop(head))
                if stats.accepted >= config.num_examples:
                    break
            if on_progress and time.monotonic() - last_progress > PROGRESS_EVERY_SECONDS:
                last_progress = time.monotonic()
                on_progress(stats)
            if stats.accepted >= config.num_examples:
                break  # replies still in flight are not needed (and are cached if they arrive)
        if on_progress:
            on_progress(stats)
    finally:
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if workers is not None:
            workers.close()
        checkpoint.close()
    calls = teacher.stats.calls if teacher.stats is not None else 0
    return RunResult(stats, stop_reason, time.monotonic() - started, resumed, calls)


#: the ``done`` queue's request number for a task that raised: the run stops with its exception
CRASHED = -1


def _checked(outcome: Any) -> Assessment | TeacherError:
    """A verified offline outcome, or the verify model's error (any other exception is a bug: raised)."""
    if isinstance(outcome, BaseException) and not isinstance(outcome, TeacherError):
        raise outcome
    return outcome
