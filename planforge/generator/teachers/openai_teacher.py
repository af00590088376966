"""A teacher behind any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, Ollama...).

Retries (429 honouring Retry-After, 5xx, timeouts, dropped connections; jittered exponential back-off)
are the ``openai`` SDK's own; this module adds bounded concurrency, requests/minute and tokens/minute
limits (aiolimiter), the response cache, and ``response_format`` json_schema with a fallback for
endpoints that do not support it. The API key stays inside the client: never logged, never stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
from aiolimiter import AsyncLimiter

from planforge.generator.cache import ResponseCache, request_key
from planforge.generator.teachers.base import TeacherError, TeacherReply, TeacherRequest
from planforge.prompting import PLANNER_INSTRUCTIONS, render_function
from planforge.recipes.loader import Recipe

DEFAULT_SYSTEM_PROMPT = """\
You write training data for a small on-device planner model. Each example is a realistic request a user \
might type or say to their assistant, and the plan the planner should output for it.

{planner_instructions}

The functions the assistant can call:
{functions}

Rules the plans must follow:
{rules}

Examples of requests and plans:
{few_shot}

Answer with JSON only: {{"examples": [{{"query": "...", "plan": "1. ...\\n2. join()"}}]}}."""

DEFAULT_USER_PROMPT = """\
Write {num_examples} new examples. Each request must need these functions: {targets}. The other listed \
functions are distractors: use one only if the request truly needs it. Vary the wording, length and \
register of the requests; use concrete names, topics, places and times. The current date and time is \
{now}: resolve relative dates ("tomorrow at 3pm", "next Friday") against it."""

EXAMPLES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["examples"],
    "properties": {
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["query", "plan"],
                "properties": {"query": {"type": "string"}, "plan": {"type": "string"}},
            },
        }
    },
}


def _estimate_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(m["content"]) for m in messages) // 4 + 8


class OpenAITeacher:
    name = "openai"

    def __init__(
        self,
        recipe: Recipe,
        *,
        model: str,
        base_url: str | None,
        api_key: str,
        concurrency: int = 32,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_retries: int = 6,
        timeout: float = 120.0,
        cache: ResponseCache | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ):
        self.recipe = recipe
        self.model = model
        self.base_url = base_url
        self.cache = cache
        self.temperature = recipe.teacher["temperature"] if temperature is None else temperature
        self.max_tokens = max_tokens or recipe.teacher["max_tokens"]
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "none",
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=_http_client(concurrency),
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._rpm = AsyncLimiter(requests_per_minute, 60) if requests_per_minute else None
        self._tpm = AsyncLimiter(tokens_per_minute, 60) if tokens_per_minute else None
        self._json_schema = True  # switched off if the endpoint refuses response_format json_schema
        self.calls = 0

    # -- prompt ----------------------------------------------------------------------------------------

    def messages(self, request: TeacherRequest) -> list[dict[str, Any]]:
        teacher = self.recipe.teacher
        few_shot = (
            "\n\n".join(
                f"Request: {shot.query}\n" + (f"(now: {shot.now})\n" if shot.now else "") + f"Plan:\n{shot.plan}"
                for shot in self.recipe.few_shot
            )
            or "(none)"
        )
        rules = "\n".join(f"- {r.description}" for r in self.recipe.rules) or "- (none)"
        system = teacher.get("system_prompt", DEFAULT_SYSTEM_PROMPT).format(
            planner_instructions=teacher.get("planner_instructions", PLANNER_INSTRUCTIONS),
            functions="\n".join(render_function(spec) for spec in request.tools.specs),
            rules=rules,
            few_shot=few_shot,
        )
        user = teacher.get("user_prompt", DEFAULT_USER_PROMPT).format(
            num_examples=request.num_examples, targets=", ".join(request.targets), now=request.now
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def render(self, request: TeacherRequest) -> str:
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages(request))

    def sampling_params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def estimated_prompt_tokens(self, request: TeacherRequest) -> int:
        return _estimate_tokens(self.messages(request))

    # -- calls -----------------------------------------------------------------------------------------

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        messages = self.messages(request)
        params = self.sampling_params()
        key = request_key(self.model, messages, params)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        async with self._slots:
            if self._rpm is not None:
                await self._rpm.acquire()
            if self._tpm is not None:
                await self._tpm.acquire(min(self._tpm.max_rate, _estimate_tokens(messages) + self.max_tokens))
            reply = await self._call(messages, params)
        if self.cache is not None:
            self.cache.put(key, reply)
        return reply

    async def _call(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> TeacherReply:
        self.calls += 1
        extra: dict[str, Any] = {}
        if self._json_schema:
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "examples", "schema": EXAMPLES_SCHEMA, "strict": True},
            }
        try:
            # client.post rather than chat.completions.create: the same retries, auth and errors, without
            # the per-call walk over typed parameters and the pydantic response model, which together
            # cost more CPU than everything else a request does (about 2 ms per request).
            response = await self._client.post(
                "/chat/completions", body={"model": self.model, "messages": messages, **params, **extra}, cast_to=dict
            )
        except openai.BadRequestError as exc:
            message = str(exc).lower()
            if self._json_schema and ("response_format" in message or "json_schema" in message):
                self._json_schema = False  # this endpoint does not do structured outputs: ask in the prompt only
                return await self._call(messages, params)
            raise TeacherError(f"the endpoint refused the request: {_short(exc)}") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise TeacherError(f"the endpoint refused the API key: {_short(exc)}", fatal=True) from None
        except openai.NotFoundError as exc:
            raise TeacherError(f"model {self.model!r} or endpoint not found: {_short(exc)}", fatal=True) from None
        except openai.RateLimitError as exc:
            raise TeacherError(f"rate limited after retries: {_short(exc)}") from None
        except openai.APIConnectionError as exc:
            raise TeacherError(f"cannot reach {self.base_url or 'the OpenAI API'}: {_short(exc)}") from None
        except openai.APIStatusError as exc:
            raise TeacherError(f"server error {exc.status_code} after retries") from None
        except json.JSONDecodeError:  # a 200 whose body is not JSON (the SDK does not retry it)
            raise TeacherError("malformed response body (not JSON)") from None
        try:
            content = response["choices"][0]["message"]["content"] or ""
            usage = response.get("usage") or {}
            return TeacherReply(
                content,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        except (TypeError, KeyError, IndexError, AttributeError, ValueError):
            raise TeacherError("malformed response body (no choices[0].message)") from None

    async def aclose(self) -> None:
        await self._client.close()


def _http_client(concurrency: int):
    """The SDK's aiohttp transport (about half the client CPU per request of its httpx default), with a
    connection pool as large as the concurrency."""
    try:
        import httpx2 as httpx  # the transport package of openai >= 3
    except ImportError:  # pragma: no cover - older openai
        import httpx
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        return openai.DefaultAioHttpClient(limits=limits)
    except (RuntimeError, ImportError, TypeError):  # aiohttp extra missing
        return openai.DefaultAsyncHttpxClient(limits=limits)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"
