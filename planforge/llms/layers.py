"""Features composed around any :class:`~planforge.llms.base.ChatClient`, each a client itself:

    Cached(RateLimited(OpenAIChatClient(...), concurrency=32, requests_per_minute=500), cache)

:class:`Cached` answers repeated requests from disk before anything else runs; :class:`RateLimited` bounds
requests in flight and requests/tokens per minute (aiolimiter). Retries stay the SDK's own (429 with
Retry-After, 5xx, timeouts, dropped connections, jittered back-off)."""

from __future__ import annotations

import asyncio
from typing import Any

from planforge.llms.base import ChatClient, ChatReply, Messages
from planforge.llms.cache import ResponseCache, request_key


def estimate_tokens(messages: Messages) -> int:
    """About four characters a token: enough to pace a tokens-per-minute limit before the reply says."""
    return sum(len(str(m.get("content") or "")) for m in messages) // 4 + 8


class _Layer:
    def __init__(self, inner: ChatClient):
        self.inner = inner
        self.model = inner.model
        self.endpoint = inner.endpoint
        self.stats = inner.stats

    def response_format(self, mode: str | None = None) -> dict[str, Any] | None:
        return response_format_of(self.inner, mode)

    async def aclose(self) -> None:
        await self.inner.aclose()


def attach_journal(client: Any, journal: Any) -> bool:
    """Hand a run's batch journal to the batch layer among ``client``'s layers; False when it has none."""
    layer = client
    while layer is not None:
        if hasattr(layer, "attach_journal"):
            layer.attach_journal(journal)
            return True
        layer = getattr(layer, "inner", None)
    return False


def response_format_of(client: Any, mode: str | None = None) -> dict[str, Any] | None:
    """The ``response_format`` a client sends on a rung (default: the one in use); None for a client without
    structured output."""
    found = getattr(client, "response_format", None)
    return found(mode) if callable(found) else None


class RateLimited(_Layer):
    """At most ``concurrency`` requests in flight, and the given requests and tokens per minute."""

    def __init__(
        self,
        inner: ChatClient,
        *,
        concurrency: int = 32,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
    ):
        from aiolimiter import AsyncLimiter

        super().__init__(inner)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._rpm = AsyncLimiter(requests_per_minute, 60) if requests_per_minute else None
        self._tpm = AsyncLimiter(tokens_per_minute, 60) if tokens_per_minute else None

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        async with self._slots:
            if self._rpm is not None:
                await self._rpm.acquire()
            if self._tpm is not None:
                wanted = estimate_tokens(messages) + int(params.get("max_tokens") or 0)
                await self._tpm.acquire(min(self._tpm.max_rate, wanted))
            return await self.inner.chat(messages, params)


class Cached(_Layer):
    """Replies stored on disk by (endpoint, model, messages, parameters, the response_format sent); failures
    are not stored. A reply is looked up under the rung in use and stored under the one its request was sent
    with (the client may have stepped down the ladder on the way)."""

    def __init__(self, inner: ChatClient, cache: ResponseCache):
        super().__init__(inner)
        self.cache = cache

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        key = request_key(self.endpoint, self.model, messages, params, self.response_format())
        found = self.cache.get(key)
        if found is not None:
            self.stats.cache_hits += 1
            return found
        reply = await self.inner.chat(messages, params)
        sent = self.response_format(reply.structured_output) if reply.structured_output else self.response_format()
        self.cache.put(request_key(self.endpoint, self.model, messages, params, sent), reply)
        return reply

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.cache.close()
