"""Tests of the fake OpenAI server against the real ``openai`` SDK.

They also pin down what the SDK itself does (openai/_base_client.py), which planforge relies on:

* retried statuses: 408, 409, 429 and every status >= 500, plus connection errors and timeouts;
  ``x-should-retry: true|false`` overrides the status rule. Other 4xx are raised at once.
* wait before retry: ``retry-after-ms`` (preferred) or ``Retry-After`` (seconds, float allowed, or an
  HTTP date) is used as-is when 0 < value <= 120 s; a value > 120 s means *no retry at all*.
  Otherwise: ``min(0.5 * 2**retries_taken, 8.0) * (1 - 0.25 * random())``, i.e. 0.375-0.5 s,
  0.75-1 s, 1.5-2 s, ... capped at 8 s.
* a 200 whose body is not JSON raises ``json.JSONDecodeError`` (NOT an ``openai.OpenAIError``) when
  labelled application/json; with another content type the call returns the raw ``str`` unless
  the client was built with ``_strict_response_validation=True`` (then ``APIResponseValidationError``).
  Neither is retried.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")
pytest.importorskip("aiohttp")

from tests.support.openai_server import DEFAULT_CONTENT, OpenAIServer, Reply, script  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

REPO_ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Find Sid's email address."}]


def client(srv: OpenAIServer, transport: str = "httpx", **kw) -> openai.AsyncOpenAI:
    """AsyncOpenAI on the SDK's default httpx transport, or on its aiohttp transport
    (``openai.DefaultAioHttpClient``, the faster one at high concurrency)."""
    kw.setdefault("api_key", "test-key")
    kw.setdefault("max_retries", 0)
    if transport == "aiohttp":
        kw["http_client"] = openai.DefaultAioHttpClient()
    return openai.AsyncOpenAI(base_url=srv.base_url, **kw)


TRANSPORTS = pytest.mark.parametrize("transport", ["httpx", "aiohttp"])


async def ask(c: openai.AsyncOpenAI, **kw):
    kw.setdefault("model", "teacher-1")
    kw.setdefault("messages", MESSAGES)
    return await c.chat.completions.create(**kw)


def test_normal_reply_parsed_by_sdk():
    with OpenAIServer(Reply("hello there", usage=(12, 3))) as srv:

        async def go():
            async with client(srv) as c:
                return await ask(c, response_format={"type": "json_object"}, temperature=0.7)

        r = asyncio.run(go())
        assert r.object == "chat.completion"
        assert r.id.startswith("chatcmpl-")
        assert r.model == "teacher-1"  # echoed
        assert r.choices[0].message.role == "assistant"
        assert r.choices[0].message.content == "hello there"
        assert r.choices[0].finish_reason == "stop"
        assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (12, 3, 15)
        assert srv.count == 1
        req = srv.requests[0]
        assert req["messages"] == MESSAGES
        assert req["response_format"] == {"type": "json_object"}
        assert req["temperature"] == 0.7
        assert srv.received[0].headers["Authorization"] == "Bearer test-key"


def test_default_content_usage_estimate_and_models_endpoint():
    with OpenAIServer() as srv:

        async def go():
            async with client(srv) as c:
                return await ask(c), await c.models.list()

        r, models = asyncio.run(go())
        assert json.loads(r.choices[0].message.content) == json.loads(DEFAULT_CONTENT)
        assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
        assert [m.id for m in models.data] == ["test-model"]


def test_responder_sees_request_and_index_and_may_be_async():
    seen = []

    async def responder(request, n):
        seen.append(n)
        await asyncio.sleep(0)
        return f"{n}:{request['messages'][0]['content']}"

    with OpenAIServer(responder) as srv:

        async def go():
            async with client(srv) as c:
                return [(await ask(c)).choices[0].message.content for _ in range(3)]

        assert asyncio.run(go()) == [f"{i}:{MESSAGES[0]['content']}" for i in range(3)]
        assert seen == [0, 1, 2]


def test_script_cycles():
    r = script(Reply("a"), "b", lambda req, n: Reply(f"c{n}"))
    got = [r({}, n) for n in range(6)]
    assert [x if isinstance(x, str) else x.content for x in got] == ["a", "b", "c2", "a", "b", "c5"]


def test_429_with_retry_after_is_retried_after_waiting():
    with OpenAIServer(script(Reply.rate_limited(retry_after=1), Reply("ok"))) as srv:

        async def go():
            async with client(srv, max_retries=1) as c:
                t0 = time.monotonic()
                r = await ask(c)
                return r, time.monotonic() - t0

        r, elapsed = asyncio.run(go())
        assert r.choices[0].message.content == "ok"
        assert elapsed >= 1.0
        rec = srv.received
        assert len(rec) == 2
        assert rec[1].time - rec[0].time >= 1.0
        assert rec[0].headers["x-stainless-retry-count"] == "0"
        assert rec[1].headers["X-Stainless-Retry-Count"] == "1"  # headers are case-insensitive


def test_retry_after_ms_is_preferred_over_backoff():
    # 50 ms is far below the minimum exponential backoff (0.375 s), so the gap proves it was honoured.
    with OpenAIServer(script(Reply.rate_limited(retry_after=30, retry_after_ms=50), Reply("ok"))) as srv:

        async def go():
            async with client(srv, max_retries=1) as c:
                return await ask(c)

        assert asyncio.run(go()).choices[0].message.content == "ok"
        rec = srv.received
        assert 0.05 <= rec[1].time - rec[0].time < 0.3


def test_retry_after_above_120s_is_not_retried():
    with OpenAIServer(Reply.rate_limited(retry_after=121)) as srv:

        async def go():
            async with client(srv, max_retries=3) as c:
                await ask(c)

        with pytest.raises(openai.RateLimitError) as ei:
            asyncio.run(go())
        assert ei.value.status_code == 429
        assert ei.value.code == "rate_limit_exceeded"
        assert srv.count == 1


def test_429_exhausted_raises_rate_limit_error():
    with OpenAIServer(Reply.rate_limited(retry_after=0.05)) as srv:

        async def go():
            async with client(srv, max_retries=2) as c:
                await ask(c)

        with pytest.raises(openai.RateLimitError):
            asyncio.run(go())
        assert srv.count == 3


@TRANSPORTS
def test_500_then_success_is_retried_with_backoff(transport):
    with OpenAIServer(script(Reply.server_error(), Reply("ok"))) as srv:

        async def go():
            async with client(srv, transport, max_retries=2) as c:
                return await ask(c)

        assert asyncio.run(go()).choices[0].message.content == "ok"
        rec = srv.received
        assert len(rec) == 2
        # first backoff: 0.5 s * (1 - 0.25 * random()) = 0.375 .. 0.5 s
        assert 0.37 <= rec[1].time - rec[0].time < 0.9


def test_500_without_retries_and_400_never_retried():
    with OpenAIServer(script(Reply.server_error(), Reply.error(400, "bad", type="invalid_request_error"))) as srv:

        async def go():
            async with client(srv, max_retries=0) as c:
                with pytest.raises(openai.InternalServerError):
                    await ask(c)
            async with client(srv, max_retries=3) as c:
                with pytest.raises(openai.BadRequestError):
                    await ask(c)

        asyncio.run(go())
        assert srv.count == 2


def test_malformed_body_raises():
    with OpenAIServer(
        script(
            Reply.malformed(),
            Reply.malformed("not json", content_type="text/plain"),
            Reply.malformed("nope", content_type="text/plain"),
        )
    ) as srv:

        async def go():
            async with client(srv, max_retries=2) as c:
                # labelled JSON but unparsable: json.JSONDecodeError, not an openai error, not retried
                with pytest.raises(json.JSONDecodeError):
                    await ask(c)
                # not labelled JSON: the SDK silently returns the text
                assert await ask(c) == "not json"
            async with client(srv, max_retries=2, _strict_response_validation=True) as c:
                with pytest.raises(openai.APIResponseValidationError):
                    await ask(c)

        asyncio.run(go())
        assert srv.count == 3


@TRANSPORTS
def test_delay_is_concurrent(transport):
    with OpenAIServer(Reply("slow", delay=0.3)) as srv:

        async def go():
            async with client(srv, transport) as c:
                t0 = time.monotonic()
                rs = await asyncio.gather(*(ask(c) for _ in range(10)))
                return rs, time.monotonic() - t0

        rs, elapsed = asyncio.run(go())
        assert [r.choices[0].message.content for r in rs] == ["slow"] * 10
        assert 0.3 <= elapsed < 2.0  # one at a time: 3 s
        assert srv.max_in_flight == 10


@TRANSPORTS
def test_dropped_connection(transport):
    # httpx raises APIConnectionError; the aiohttp transport maps the disconnect to a ConnectTimeout,
    # i.e. APITimeoutError, a subclass of APIConnectionError. Either way it is retried.
    with OpenAIServer(script(Reply.dropped(), Reply.dropped(), Reply("ok"))) as srv:

        async def go():
            async with client(srv, transport, max_retries=0) as c:
                with pytest.raises(openai.APIConnectionError):
                    await ask(c)
            async with client(srv, transport, max_retries=1) as c:
                return await ask(c)

        assert asyncio.run(go()).choices[0].message.content == "ok"
        assert srv.count == 3


def test_api_key_enforced_only_when_configured():
    with OpenAIServer(Reply("ok"), api_key="s3cret") as srv:

        async def go():
            async with client(srv, api_key="wrong", max_retries=2) as c:
                with pytest.raises(openai.AuthenticationError):
                    await ask(c)
            async with client(srv, api_key="s3cret") as c:
                return await ask(c)

        assert asyncio.run(go()).choices[0].message.content == "ok"
        assert srv.unauthorized == 1  # 401 is not retried
        assert srv.count == 1


def test_responder_exception_is_reported_and_not_retried():
    def boom(request, n):
        raise KeyError("nope")

    with OpenAIServer(boom) as srv:

        async def go():
            async with client(srv, max_retries=3) as c:
                await ask(c)

        with pytest.raises(openai.InternalServerError):
            asyncio.run(go())
        assert srv.count == 1
        assert isinstance(srv.errors[0], KeyError)


def test_cli_ready_line_serves_and_exits_on_sigterm(tmp_path):
    content_file = tmp_path / "content.txt"
    content_file.write_text("from file")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.openai_server",
            "--port",
            "0",
            "--latency",
            "0.05",
            "--content-file",
            str(content_file),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/v1"), line
        base_url = line.split()[1]

        async def go():
            async with openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0) as c:
                return await c.chat.completions.create(model="m", messages=MESSAGES)

        assert asyncio.run(go()).choices[0].message.content == "from file"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
