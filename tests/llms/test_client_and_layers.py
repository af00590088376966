"""The LLM layer over real HTTP: the plain client, structured output with its fallback, the cache and limit layers."""

from __future__ import annotations

import asyncio
import json

import pytest

from planforge.errors import LLMError
from planforge.llms.endpoint import EndpointOptions, connect
from planforge.llms.planners import EndpointPlanner, PlannerPrompt
from planforge.tools import ToolSet
from tests.support.openai_server import OpenAIServer, Reply

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SCHEMA = {"type": "object", "properties": {"examples": {"type": "array"}}, "required": ["examples"]}
MESSAGES = [{"role": "user", "content": "hello"}]


def chat(client, messages=MESSAGES, params=None):
    async def go():
        try:
            return await client.chat(messages, params or {"temperature": 0})
        finally:
            await client.aclose()

    return asyncio.run(go())


def options(server: OpenAIServer, tmp_path, **kw) -> EndpointOptions:
    return EndpointOptions(base_url=server.base_url, cache_dir=tmp_path / "cache", max_retries=2, **kw)


def test_a_refused_response_format_falls_back_and_is_remembered(tmp_path):
    """llama.cpp's server answers json_schema with HTTP 500 naming response_format: one try each, then prompt only."""

    def responder(request, n):
        kind = (request.get("response_format") or {}).get("type")
        if kind == "json_schema":
            return Reply.error(500, "unsupported response_format type json_schema")
        if kind == "json_object":
            return Reply.error(400, "response_format json_object is not supported", type="invalid_request_error")
        return Reply(content='{"examples": []}')

    with OpenAIServer(responder) as server:
        client = connect(options(server, tmp_path, use_cache=False), "m", json_schema=SCHEMA)

        async def go():
            try:
                first = await client.chat(MESSAGES, {})
                second = await client.chat(MESSAGES, {"temperature": 1})
                return first, second
            finally:
                await client.aclose()

        first, second = asyncio.run(go())
        kinds = [(r.get("response_format") or {}).get("type") for r in server.requests]
    assert first.content == second.content == '{"examples": []}'
    assert kinds == ["json_schema", "json_object", None, None]  # no retries spent on the refusals; remembered
    assert client.stats.structured_output == "prompt" and len(client.stats.notes) == 2
    assert "refused response_format json_schema (HTTP 500)" in client.stats.notes[0]


def test_an_accepted_response_format_is_kept(tmp_path):
    with OpenAIServer(Reply(content='{"examples": []}')) as server:
        client = connect(options(server, tmp_path, use_cache=False), "m", json_schema=SCHEMA)
        chat(client)
        sent = server.requests[0]
    assert (
        sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["schema"] == SCHEMA
    )
    assert client.stats.structured_output == "json_schema" and client.stats.notes == []


def test_the_cache_knows_the_endpoint(tmp_path):
    """Two endpoints serving a model of the same name: each is asked once; the second run of each costs nothing."""
    with OpenAIServer("from a") as a, OpenAIServer("from b") as b:
        first_a = chat(connect(options(a, tmp_path), "same-model"))
        first_b = chat(connect(options(b, tmp_path), "same-model"))
        again = connect(options(a, tmp_path), "same-model")
        cached = chat(again)
        assert (a.count, b.count) == (1, 1)
    assert (first_a.content, first_b.content, cached.content) == ("from a", "from b", "from a")
    assert cached.cached and again.stats.cache_hits == 1 and again.stats.calls == 0


def test_failures_are_not_cached(tmp_path):
    replies = iter([Reply.error(503, "busy"), Reply.error(503, "busy"), Reply.error(503, "busy"), Reply(content="ok")])
    with OpenAIServer(lambda request, n: next(replies)) as server:
        with pytest.raises(LLMError, match="server error 503 after retries"):
            chat(connect(options(server, tmp_path), "m"))
        assert chat(connect(options(server, tmp_path), "m")).content == "ok"


def test_errors_say_what_happened(tmp_path):
    refusing = OpenAIServer(Reply.error(401, "bad key", type="invalid_request_error"))
    with refusing as server, pytest.raises(LLMError, match=r"refused the API key \(HTTP 401\)") as caught:
        chat(connect(options(server, tmp_path, use_cache=False), "m"))
    assert caught.value.fatal
    dead = EndpointOptions(base_url="http://127.0.0.1:9/v1", max_retries=0, use_cache=False)
    with pytest.raises(LLMError, match="cannot reach http://127.0.0.1:9/v1: connection refused"):
        chat(connect(dead, "m"))


def test_rate_limited_layer_bounds_requests_in_flight(tmp_path):
    with OpenAIServer(Reply(content="x", delay=0.05)) as server:
        planner = EndpointPlanner(options(server, tmp_path, concurrency=3, use_cache=False, model="m"))
        tools = ToolSet(())
        texts = planner.generate([PlannerPrompt([{"role": "user", "content": f"q{i}"}], tools) for i in range(12)])
        assert texts == ["x"] * 12 and server.count == 12
        assert server.max_in_flight <= 3


def test_keys_never_reach_the_cache(tmp_path):
    secret = "sk-test-0123456789abcdefghijkl"
    with OpenAIServer("ok") as server:
        opts = options(server, tmp_path)
        import os

        os.environ["PLANFORGE_TEST_KEY"] = secret
        try:
            opts.api_key_env = "PLANFORGE_TEST_KEY"
            chat(connect(opts, "m"))
        finally:
            del os.environ["PLANFORGE_TEST_KEY"]
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert secret.encode() not in blobs and json.dumps(secret).encode() not in blobs
