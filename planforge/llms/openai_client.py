"""A plain async client for any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, Ollama...).

One :meth:`OpenAIChatClient.chat` is one chat completion. Retries (429 honouring Retry-After, 5xx, timeouts,
dropped connections; jittered exponential back-off) are the ``openai`` SDK's own; caching and rate limits
are layers (:mod:`planforge.llms.layers`). The API key stays inside the SDK client: never logged, never stored.

Structured output: given a JSON schema, the client asks for ``response_format`` json_schema; an endpoint that
refuses it (any error whose body names ``response_format``, whatever its status code: llama.cpp's server
answers 500) gets ``{"type": "json_object", "schema": ...}`` next (llama.cpp's server turns that schema into a
grammar; OpenAI-style servers that know no ``schema`` there refuse it or ignore it), then plain json_object,
then the prompt alone (:data:`LADDER`). The rung in use is recorded in :attr:`ClientStats.structured_output`
and on every reply; with a ``memory`` (the response cache) the rung an endpoint settled on is remembered for the
next run, so a re-run neither asks for what the endpoint refused nor misses the cache. Until one request
succeeds with a rung, requests are sent without the SDK's retries, so a refusal costs one round trip, not a
back-off schedule.

A request that fails is an :class:`~planforge.errors.LLMError` whose ``reason`` says why (``timeout``,
``connection``, ``server_error``, ...). The first request of a client that timed out is tried once more: an
endpoint that loads its model on the first request (Ollama, a llama.cpp router) may need longer once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import Any, Protocol

from planforge.errors import LLMError
from planforge.llms.base import ChatReply, ClientStats, Messages
from planforge.secrets import scrub_url

OPENAI_URL = "https://api.openai.com/v1"
#: what can be asked for (``--response-format``)
STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
#: the rungs tried in turn, from the one asked for, as an endpoint refuses them ("json_object" asks for
#: json_object+schema first)
LADDER = ("json_schema", "json_object+schema", "json_object", "prompt")


class FormatMemory(Protocol):
    """Where the rung an endpoint settled on is kept between runs (the response cache)."""

    def remembered(self, key: str) -> str | None: ...

    def remember(self, key: str, value: str) -> None: ...


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


def connection_reason(exc: BaseException) -> str:
    """Why a connection failed, from the innermost cause: "connection refused", "name not resolved", "timed out"."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__} {e}" for e in seen).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host name not resolved"
    if "timeout" in text or "timed out" in text:
        return "timed out"
    if "ssl" in text or "certificate" in text:
        return "TLS error"
    return _short(seen[-1]) or "connection failed"


CONNECTION_FAILURES = ("connection refused", "host name not resolved", "TLS error")


def _names_response_format(exc: BaseException) -> bool:
    parts = [str(exc)]
    body = getattr(exc, "body", None)
    if body is not None:
        parts.append(json.dumps(body, default=str) if not isinstance(body, str) else body)
    response = getattr(exc, "response", None)
    if response is not None:
        with contextlib.suppress(Exception):  # the body may be unreadable; the message is enough then
            parts.append(response.text)
    text = " ".join(parts).lower()
    return "response_format" in text or "json_schema" in text or "response format" in text


def _memory_key(endpoint: str, model: str, start: str, schema: dict[str, Any] | None) -> str:
    payload = json.dumps({"endpoint": endpoint, "model": model, "start": start, "schema": schema}, sort_keys=True)
    return "structured_output:" + hashlib.sha256(payload.encode()).hexdigest()


def _http_client(pool_size: int):
    """The SDK's aiohttp transport (about half the client CPU per request of its httpx default), with a
    connection pool as large as the concurrency."""
    import openai

    try:
        import httpx2 as httpx  # the transport package of openai >= 3
    except ImportError:  # pragma: no cover - older openai
        import httpx
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    try:
        return openai.DefaultAioHttpClient(limits=limits)
    except (RuntimeError, ImportError, TypeError):  # aiohttp extra missing
        return openai.DefaultAsyncHttpxClient(limits=limits)


class OpenAIChatClient:
    """One endpoint and model. ``json_schema``: the schema replies should follow (structured output)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int = 6,
        timeout: float = 120.0,
        pool_size: int = 32,
        json_schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        structured_output: str = "json_schema",
        memory: FormatMemory | None = None,
    ):
        import openai

        self.model = model
        self.base_url = base_url
        self.endpoint = scrub_url(base_url) if base_url else OPENAI_URL
        self.timeout = timeout
        self.json_schema = json_schema
        self.schema_name = schema_name
        start = "json_object+schema" if structured_output == "json_object" else structured_output
        self.stats = ClientStats(structured_output=start if json_schema else "prompt")
        self._memory = memory if json_schema is not None else None
        self._memory_key = ""
        if self._memory is not None:
            self._memory_key = _memory_key(self.endpoint, model, start, json_schema)
            self._recall(start)
        # a rung is confirmed once a request succeeds with it
        self._confirmed = json_schema is None or self.stats.structured_output == "prompt"
        self._answered = False  # a request succeeded (a first request that timed out gets one more try)
        self._tried_again = False
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "none",
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=_http_client(pool_size),
        )
        self._probe = self._client.with_options(max_retries=0)
        self._lock = asyncio.Lock()

    @property
    def sdk(self) -> Any:
        """The SDK client (its retries and auth): for the few calls beyond chat (the batch API)."""
        return self._client

    # -- the request --------------------------------------------------------------------------------------

    def response_format(self, mode: str | None = None) -> dict[str, Any] | None:
        """The ``response_format`` a request sends on a rung (default: the rung in use now); None: none."""
        mode = self.stats.structured_output if mode is None else mode
        if self.json_schema is None or mode == "prompt":
            return None
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "schema": self.json_schema, "strict": True},
            }
        if mode == "json_object+schema":
            return {"type": "json_object", "schema": self.json_schema}
        return {"type": "json_object"}

    def body(self, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
        """The chat-completions request body, with the structured-output rung in use now."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, **params}
        response_format = self.response_format()
        if response_format is not None:
            body["response_format"] = response_format
        return body

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        self.stats.calls += 1
        try:
            try:
                reply = await self._chat(messages, params)
            except LLMError as error:
                if error.reason != "timeout" or self._answered or self._tried_again:
                    raise
                self._tried_again = True  # the first request: a model loading may need longer once
                self.stats.notes.append(
                    f"{self.endpoint}: the first request timed out after {self.timeout:g} s; tried it once more"
                )
                reply = await self._chat(messages, params, once=True)
        except LLMError:
            self.stats.failures += 1
            raise
        self._answered = True
        return reply

    async def _chat(self, messages: Messages, params: dict[str, Any], *, once: bool = False) -> ChatReply:
        """One request on the rung in use, down the ladder while the endpoint refuses it. ``once``: one
        attempt, without the SDK's retries."""
        import openai

        while True:
            mode = self.stats.structured_output
            body = self.body(messages, params)
            probing = not self._confirmed and mode != "prompt"
            try:
                response = await self._post(self._probe if probing or once else self._client, body)
            except openai.APIStatusError as exc:
                if mode != "prompt" and _names_response_format(exc):
                    await self._downgrade(mode, exc)
                    continue
                if probing and not once and (exc.status_code >= 500 or exc.status_code == 429):
                    response = await self._mapped(self._client, body)  # an ordinary failure: now with retries
                else:
                    raise self._error(exc) from None
            except (openai.APIConnectionError, json.JSONDecodeError) as exc:
                if probing and not once:
                    response = await self._mapped(self._client, body)
                else:
                    raise self._error(exc) from None
            if not self._confirmed and self.stats.structured_output == mode:
                self._confirm(mode)
            return self.reply_of(response, mode)

    # -- the ladder ---------------------------------------------------------------------------------------

    def _recall(self, start: str) -> None:
        """Start on the rung this endpoint settled on in an earlier run, when that is below ``start``."""
        assert self._memory is not None
        with contextlib.suppress(Exception):  # an unreadable memory: ask the endpoint again
            found = self._memory.remembered(self._memory_key)
            if found in LADDER and LADDER.index(found) > LADDER.index(start):
                self.stats.structured_output = found
                self.stats.notes.append(
                    f"{self.endpoint} refused response_format {start} in an earlier run; using {found} "
                    "(remembered in the response cache)"
                )

    def _confirm(self, mode: str) -> None:
        self._confirmed = True
        if self._memory is not None:
            with contextlib.suppress(Exception):  # the memory saves a round trip next run; never fails a request
                self._memory.remember(self._memory_key, mode)

    async def _post(self, client: Any, body: dict[str, Any]) -> Any:
        # client.post rather than chat.completions.create: the same retries, auth and errors, without the
        # per-call walk over typed parameters and the pydantic response model, which together cost more CPU
        # than everything else a request does (about 2 ms per request).
        return await client.post("/chat/completions", body=body, cast_to=dict)

    async def _mapped(self, client: Any, body: dict[str, Any]) -> Any:
        import openai

        try:
            return await self._post(client, body)
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise self._error(exc) from None

    async def _downgrade(self, failed_mode: str, exc: BaseException) -> None:
        async with self._lock:
            if self.stats.structured_output != failed_mode:
                return  # another request already moved on
            following = LADDER[LADDER.index(failed_mode) + 1]
            self.stats.structured_output = following
            status = getattr(exc, "status_code", "?")
            self.stats.notes.append(
                f"{self.endpoint} refused response_format {failed_mode} (HTTP {status}); using {following}"
            )

    def _error(self, exc: BaseException) -> LLMError:
        import openai

        where = self.endpoint
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            message = f"{where} refused the API key (HTTP {exc.status_code}): {_short(exc)}"
            return LLMError(message, fatal=True, reason="auth")
        if isinstance(exc, openai.NotFoundError):
            message = f"model {self.model!r} or endpoint not found at {where}: {_short(exc)}"
            return LLMError(message, fatal=True, reason="not_found")
        if isinstance(exc, openai.BadRequestError):
            return LLMError(f"the endpoint refused the request: {_short(exc)}", reason="bad_request")
        if isinstance(exc, openai.RateLimitError):
            return LLMError(f"rate limited after retries: {_short(exc)}", reason="rate_limited")
        if isinstance(exc, openai.APIConnectionError):
            reason = connection_reason(exc)
            # the SDK's aiohttp transport reports a refused connection as a timeout too: its cause tells
            if reason not in CONNECTION_FAILURES and (reason == "timed out" or isinstance(exc, openai.APITimeoutError)):
                return LLMError(f"no reply from {where}: timed out after {self.timeout:g} s", reason="timeout")
            return LLMError(f"cannot reach {where}: {reason}", fatal=False, reason="connection")
        if isinstance(exc, openai.APIStatusError):
            code = "server_error" if exc.status_code >= 500 else f"http_{exc.status_code}"
            return LLMError(f"server error {exc.status_code} after retries", reason=code)
        if isinstance(exc, json.JSONDecodeError):  # a 200 whose body is not JSON (the SDK does not retry it)
            return LLMError("malformed response body (not JSON)", reason="malformed_body")
        return LLMError(_short(exc))

    @staticmethod
    def reply_of(response: Any, structured_output: str = "") -> ChatReply:
        """A chat-completions response body -> the reply (raises LLMError when it has no message)."""
        try:
            choice = response["choices"][0]
            content = choice["message"]["content"] or ""
            usage = response.get("usage") or {}
            return ChatReply(
                content,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=str(choice.get("finish_reason") or ""),
                structured_output=structured_output,
            )
        except (TypeError, KeyError, IndexError, AttributeError, ValueError):
            raise LLMError("malformed response body (no choices[0].message)", reason="malformed_body") from None

    async def aclose(self) -> None:
        await self._client.close()
