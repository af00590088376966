"""Several endpoints serving one model, as one :class:`~planforge.llms.base.ChatClient`.

Each request goes to the healthy endpoint with the most free room (its requests in flight against its own
concurrency). An endpoint whose requests fail ``fail_after`` times in a row rests (``rest_seconds``, doubled
each time it rests again, at most ``MAX_REST_SECONDS``) and the request is tried on another; after its rest one
request probes it. An endpoint that refuses the key or does not know the model is out for the run. The run goes
on while any endpoint answers; per-endpoint requests, failures and latency go into
:attr:`ClientStats.endpoints` (the summary and ``run.json``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from planforge.errors import LLMError
from planforge.llms.base import ChatClient, ChatReply, ClientStats, Messages

MAX_REST_SECONDS = 600.0


@dataclass
class EndpointHealth:
    """What one endpoint of a pool did, and whether it is resting."""

    url: str
    concurrency: int
    requests: int = 0
    failures: int = 0
    rests: int = 0
    in_flight: int = 0
    failed_in_a_row: int = 0
    resting_until: float = 0.0
    out: bool = False  # refused the key or the model: not asked again
    structured_output: str = ""  # the structured-output rung this endpoint is on
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4) if ordered else None

        return {
            "url": self.url,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "failures": self.failures,
            "rests": self.rests,
            "out": self.out,
            "structured_output": self.structured_output or None,
            "latency_mean_s": round(sum(ordered) / len(ordered), 4) if ordered else None,
            "latency_p50_s": quantile(0.5),
            "latency_p95_s": quantile(0.95),
        }


class EndpointPool:
    def __init__(
        self,
        members: list[ChatClient],
        concurrency: list[int],
        *,
        fail_after: int = 3,
        rest_seconds: float = 30.0,
        attempts: int | None = None,
    ):
        self.members = members
        self.model = members[0].model
        self.endpoint = ", ".join(m.endpoint for m in members)
        self.health = [
            EndpointHealth(m.endpoint, c, structured_output=m.stats.structured_output)
            for m, c in zip(members, concurrency, strict=True)
        ]
        self.stats = ClientStats(structured_output=members[0].stats.structured_output, endpoints=self.health)
        self.fail_after = fail_after
        self.rest_seconds = rest_seconds
        self.attempts = attempts or max(2, len(members))
        self._free = asyncio.Event()

    def _pick(self, tried: set[int]) -> int | None:
        now = time.monotonic()
        usable = [
            i
            for i, h in enumerate(self.health)
            if not h.out and i not in tried and h.resting_until <= now and h.in_flight < h.concurrency
        ]
        if not usable:
            return None
        return min(usable, key=lambda i: (self.health[i].in_flight / self.health[i].concurrency, i))

    async def _wait_for_one(self, tried: set[int]) -> int:
        """The next endpoint with room; while all rest or are full, wait (a resting one is probed after its rest)."""
        while True:
            found = self._pick(tried)
            if found is not None:
                return found
            open_ = [h for i, h in enumerate(self.health) if not h.out and i not in tried]
            if not open_:
                raise LLMError(f"every endpoint failed this request ({self.endpoint})", reason="no_endpoint")
            wake = min(h.resting_until for h in open_) - time.monotonic()
            self._free.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._free.wait(), timeout=max(0.01, wake) if wake > 0 else 1.0)

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        tried: set[int] = set()
        last: LLMError | None = None
        for _ in range(self.attempts):
            if all(h.out for h in self.health):
                break
            try:
                index = await self._wait_for_one(tried)
            except LLMError:
                break
            health, member = self.health[index], self.members[index]
            health.in_flight += 1
            health.requests += 1
            self.stats.calls += 1
            started = time.monotonic()
            try:
                reply = await member.chat(messages, params)
            except LLMError as error:
                last = error
                self._failed(health, error)
                tried.add(index)
                continue
            finally:
                health.in_flight -= 1
                self._free.set()
            health.failed_in_a_row = 0
            health.latencies.append(time.monotonic() - started)
            self._notes()
            return reply
        self.stats.failures += 1
        if last is not None and all(h.out for h in self.health):
            raise LLMError(f"no endpoint can be used: {last}", fatal=True, reason=last.reason)
        raise last or LLMError(f"every endpoint failed this request ({self.endpoint})", reason="no_endpoint")

    def _failed(self, health: EndpointHealth, error: LLMError) -> None:
        health.failures += 1
        health.failed_in_a_row += 1
        if error.fatal:
            health.out = True
            self.stats.notes.append(f"{health.url} is out of the pool: {error}")
        elif health.failed_in_a_row >= self.fail_after:
            rest = min(MAX_REST_SECONDS, self.rest_seconds * 2**health.rests)
            health.rests += 1
            health.failed_in_a_row = self.fail_after - 1  # one more failure after the rest: rest again
            health.resting_until = time.monotonic() + rest
            self.stats.notes.append(f"{health.url} failed {self.fail_after} requests in a row; resting {rest:.0f} s")

    def _notes(self) -> None:
        for member, health in zip(self.members, self.health, strict=True):
            for note in member.stats.notes:  # what a member decided (a structured-output fallback) shows here
                if note not in self.stats.notes:
                    self.stats.notes.append(note)
            health.structured_output = member.stats.structured_output
        self.stats.structured_output = self.members[0].stats.structured_output

    def response_format(self, mode: str | None = None) -> dict[str, Any] | None:
        """What the first endpoint sends on a rung (every member has the same schema)."""
        from planforge.llms.layers import response_format_of

        return response_format_of(self.members[0], mode)

    async def aclose(self) -> None:
        for member in self.members:
            await member.aclose()
