"""The pure part of a run: one teacher reply -> counters and candidate examples (parsed, validated, their
compact records and dedup fingerprints), before anything that depends on other replies (dedup, the target).

Pure, so it runs anywhere: on the event loop, or in worker processes when a run is CPU-bound (:class:`Workers`).
A teacher that writes replies offline (it has a synchronous ``reply``: the template teacher) writes them in the
workers too. What crosses a process boundary is small: a request as names and a reply's content one way, the
counters and candidates back."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from planforge.dataset.rows import ExampleRecord, example_record
from planforge.errors import ReplyFormatError
from planforge.generator.dedup import Fingerprint, fingerprints
from planforge.generator.pricing import BATCH_PRICE_FACTOR, cost_usd
from planforge.generator.replies import ProposedExample, read_reply
from planforge.generator.teachers.base import Teacher, TeacherReply, TeacherRequest
from planforge.recipes.loader import Recipe
from planforge.tools import ToolSet
from planforge.validators import judge


@dataclass(frozen=True)
class Candidate:
    """A valid proposed example: its compact record and what dedup needs of its request."""

    record: ExampleRecord
    fingerprint: Fingerprint


@dataclass
class Assessment:
    """One reply, assessed: counters of everything but dedup and acceptance, and the valid examples in order."""

    counters: dict[str, Any]
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class RequestSpec:
    """A teacher request by names: what a worker needs to rebuild it (the recipe's functions stay there)."""

    seq: int
    targets: tuple[str, ...]
    offered: tuple[str, ...]
    now: str
    num_examples: int
    shapes: tuple[str, ...] = ()
    example_offered: tuple[tuple[str, ...], ...] = ()  # each example's offered functions, where each has its own
    no_call: bool = False  # no offered function serves the request (relevance detection)

    @classmethod
    def of(cls, request: TeacherRequest) -> RequestSpec:
        return cls(
            request.seq,
            request.targets,
            tuple(request.tools),
            request.now,
            request.num_examples,
            request.shapes,
            tuple(tuple(tools) for tools in request.example_tools),
            request.no_call,
        )


#: A teacher's own check of its proposals (its ``screen`` attribute): (reply content, proposals, request) -> per
#: proposal a rejection code (None: keep) and the ``meta`` fields its example records. Picklable, pure.
Screen = Callable[[str, Sequence[ProposedExample], TeacherRequest], list[tuple[str | None, dict[str, Any]]]]


class Assessor:
    """Parse -> the teacher's screen -> judge -> compact records and fingerprints, for one recipe and teacher."""

    def __init__(
        self, recipe: Recipe, teacher_name: str, price: tuple[float, float] | None, screen: Screen | None = None
    ):
        self.recipe = recipe
        self.teacher_name = teacher_name
        self.price = price
        self.screen = screen
        self.rules = recipe.rule_functions()
        self._subset = lru_cache(maxsize=4096)(self._tools)

    def _tools(self, offered: tuple[str, ...]) -> ToolSet:
        return self.recipe.tools.subset(offered)

    def request(self, spec: RequestSpec) -> TeacherRequest:
        tools = self._subset(spec.offered)
        each = tuple(self._subset(offered) for offered in spec.example_offered)
        return TeacherRequest(
            spec.seq, spec.targets, tools, spec.now, spec.num_examples, spec.shapes, each, no_call=spec.no_call
        )

    def assess(self, request: TeacherRequest, reply: TeacherReply) -> Assessment:
        counters: Counter[str] = Counter(responses=1)
        rejected: Counter[str] = Counter()
        counters["cached_responses"] = int(reply.cached)
        if not reply.cached:
            counters["prompt_tokens"] = reply.prompt_tokens
            counters["completion_tokens"] = reply.completion_tokens
            factor = BATCH_PRICE_FACTOR if reply.batched else 1.0
            counters["cost_usd"] = cost_usd(self.price, reply.prompt_tokens, reply.completion_tokens) * factor
            counters["batched_responses"] = int(reply.batched)
        if reply.finish_reason == "length":  # cut at max_tokens
            counters["truncated_responses"] = 1
        try:
            found = read_reply(reply.content)
        except ReplyFormatError as exc:
            return Assessment(_finish(counters, rejected, exc.code))
        if not found.examples:
            return Assessment(_finish(counters, rejected, "empty_examples"))
        if found.salvaged:
            counters["salvaged_responses"] = 1
        proposals, recipe = found.examples, self.recipe
        screened = self.screen(reply.content, proposals, request) if self.screen is not None else None
        valid: list[ExampleRecord] = []
        for index, proposal in enumerate(proposals):
            tools = request.tools_for(index)
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
                no_call=request.no_call,  # the empty plan is right exactly here, and any call an error
            )
            if verdict.plan is None:
                rejected["syntax"] += 1
                continue
            counters["parsed"] += 1
            code, meta = screened[index] if screened is not None else (None, None)
            if code is not None:
                rejected[code] += 1
                continue
            if verdict.errors:
                rejected.update(set(verdict.codes))
                continue
            counters["valid"] += 1
            own_tools = bool(request.example_tools)  # the row needs the example's own offer, not the request's
            if request.no_call:  # the row says so (meta.no_call), rebuilt from the record as from a checkpoint
                meta = {**(meta or {}), "no_call": True}
            valid.append(example_record(proposal.query, verdict.plan, tools, recipe.name, meta, own_tools=own_tools))
        found = fingerprints([record[1] for record in valid])
        return Assessment(_finish(counters, rejected), [Candidate(r, f) for r, f in zip(valid, found, strict=True)])


def _finish(counters: Counter[str], rejected: Counter[str], reply_code: str | None = None) -> dict[str, Any]:
    """The counters as the checkpoint keeps them; ``reply_code``: why the reply as a whole gave no example
    (``rejected_replies``, beside the validator codes of its examples in ``rejected``)."""
    out = dict(counters)
    if rejected:
        out["rejected"] = dict(rejected)
    if reply_code is not None:
        out["rejected_responses"] = 1
        out["rejected_replies"] = {reply_code: 1}
    return out


# --------------------------------------------------------------------------------------------------
# worker processes

_STATE: tuple[Assessor, Teacher | None] | None = None


def _install(assessor: Assessor, teacher: Teacher | None, parent: int) -> None:
    global _STATE
    _STATE = (assessor, teacher)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """A worker ends when its run does, however the run ends (kill -9 included)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _work(specs: list[RequestSpec], contents: list[TeacherReply | None]) -> list[Assessment]:
    assert _STATE is not None
    assessor, teacher = _STATE
    out = []
    for spec, reply in zip(specs, contents, strict=True):
        request = assessor.request(spec)
        if reply is None:
            reply = teacher.reply(request)  # type: ignore[union-attr]
        out.append(assessor.assess(request, reply))
    return out


def offline_teacher(teacher: Teacher) -> bool:
    """Does the teacher write replies without I/O (so the workers can write them)?"""
    return callable(getattr(teacher, "reply", None)) and teacher.endpoint is None


def default_workers(teacher: Teacher, requests: int) -> int:
    """Worker processes worth starting: one per core for an offline teacher with enough requests to amortize
    the start (a few ms a process with fork); none for a teacher behind a network, whose replies cost less to
    assess than to ship to another process and back."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if offline_teacher(teacher) and requests >= 400 and cores > 1:
        return min(cores, 8)
    return 0


class Workers:
    """A process pool that assesses replies (and writes offline teachers' replies). Forked where the platform
    can, so workers start in milliseconds with the recipe and the teacher already loaded."""

    def __init__(self, count: int, assessor: Assessor, teacher: Teacher):
        self.count = count
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        local = teacher if offline_teacher(teacher) else None
        self._pool = ProcessPoolExecutor(
            count, mp_context=context, initializer=_install, initargs=(assessor, local, os.getpid())
        )

    async def run(self, specs: list[RequestSpec], replies: list[TeacherReply | None]) -> list[Assessment]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, _work, specs, replies)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
