"""The LLM layer over real HTTP: the plain client, structured output with its fallback, the cache and limit layers."""

from __future__ import annotations

import asyncio
import json

import pytest

from planforge.errors import LLMError
from planforge.llms.endpoint import EndpointOptions, connect
from planforge.llms.planners import EndpointPlanner, PlannerPrompt
from planforge.tools import ToolSet
from tests.support.openai_server import LlamaCppFormats, OpenAIServer, Reply, script

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
    return EndpointOptions(**{"base_url": server.base_url, "cache_dir": tmp_path / "cache", "max_retries": 2, **kw})


def chat_twice(client, second_params=None):
    async def go():
        try:
            first = await client.chat(MESSAGES, {})
            second = await client.chat(MESSAGES, second_params or {"temperature": 1})
            return first, second
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_a_refused_response_format_falls_back_and_is_remembered(tmp_path):
    """Each rung refused (json_schema with HTTP 500 naming response_format, as llama.cpp's server does; a schema
    inside json_object; json_object): one try each, then prompt only, remembered for the next request."""

    def responder(request, n):
        kind = (request.get("response_format") or {}).get("type")
        if kind == "json_schema":
            return Reply.error(500, "unsupported response_format type json_schema")
        if kind == "json_object":
            return Reply.error(400, "response_format json_object is not supported", type="invalid_request_error")
        return Reply(content='{"examples": []}')

    with OpenAIServer(responder) as server:
        client = connect(options(server, tmp_path, use_cache=False), "m", json_schema=SCHEMA)
        first, second = chat_twice(client)
        kinds = [LlamaCppFormats.kind(r) for r in server.requests]
    assert first.content == second.content == '{"examples": []}'
    # no retries spent on the refusals; remembered
    assert kinds == ["json_schema", "json_object+schema", "json_object", None, None]
    assert client.stats.structured_output == "prompt" and len(client.stats.notes) == 3
    assert "refused response_format json_schema (HTTP 500)" in client.stats.notes[0]
    assert first.structured_output == second.structured_output == "prompt"


def test_llama_cpp_gets_json_object_with_the_schema(tmp_path):
    """llama-cpp-python refuses json_schema (HTTP 500) and turns json_object's schema into a grammar: the client
    settles on json_object with the schema, and the reply says which rung it was sent on."""
    formats = LlamaCppFormats(Reply('{"examples": []}', finish_reason="length"))
    with OpenAIServer(formats) as server:
        client = connect(options(server, tmp_path, use_cache=False), "m", json_schema=SCHEMA)
        first, second = chat_twice(client)
        sent = [r.get("response_format") for r in server.requests]
    assert formats.seen == ["json_schema", "json_object+schema", "json_object+schema"]
    assert sent[1] == sent[2] == {"type": "json_object", "schema": SCHEMA}
    assert client.stats.structured_output == "json_object+schema"
    assert client.stats.notes == [
        f"{server.base_url} refused response_format json_schema (HTTP 500); using json_object+schema"
    ]
    assert first.structured_output == "json_object+schema" and first.finish_reason == "length"


def test_a_server_refusing_the_schema_in_json_object_gets_plain_json_object(tmp_path):
    formats = LlamaCppFormats(Reply('{"examples": []}'), refuse_schema=True)
    with OpenAIServer(formats) as server:
        asked = options(server, tmp_path, use_cache=False, structured_output="json_object")
        client = connect(asked, "m", json_schema=SCHEMA)
        chat_twice(client)
    assert formats.seen == ["json_object+schema", "json_object", "json_object"]
    assert client.stats.structured_output == "json_object"


def test_the_rung_an_endpoint_settled_on_is_remembered_in_the_cache(tmp_path):
    """A re-run asks for what the endpoint took last time, so its replies come from the cache: zero calls."""
    formats = LlamaCppFormats(Reply('{"examples": []}'))
    with OpenAIServer(formats) as server:
        chat_twice(connect(options(server, tmp_path), "m", json_schema=SCHEMA))
        calls = server.count
        again = connect(options(server, tmp_path), "m", json_schema=SCHEMA)
        first, second = chat_twice(again)
        assert server.count == calls == 3
    assert first.cached and second.cached and again.stats.cache_hits == 2
    assert again.stats.structured_output == "json_object+schema"
    assert "refused response_format json_schema in an earlier run" in again.stats.notes[0]
    # without the cache nothing is remembered: the endpoint is asked again
    with OpenAIServer(LlamaCppFormats(Reply('{"examples": []}'))) as server:
        fresh = connect(options(server, tmp_path, use_cache=False), "m", json_schema=SCHEMA)
        chat_twice(fresh)
        assert LlamaCppFormats.kind(server.requests[0]) == "json_schema"


def test_the_cache_key_holds_the_response_format_sent(tmp_path):
    """A reply cached for a prompt-only request never answers a request sent with the schema."""
    with OpenAIServer(lambda request, n: Reply(f"reply {n}")) as server:
        prompt_only = chat(connect(options(server, tmp_path, structured_output="prompt"), "m", json_schema=SCHEMA))
        schema = chat(connect(options(server, tmp_path), "m", json_schema=SCHEMA))
        again = chat(connect(options(server, tmp_path), "m", json_schema=SCHEMA))
        assert server.count == 2
    assert (prompt_only.content, schema.content, again.content) == ("reply 0", "reply 1", "reply 1")
    assert again.cached and not schema.cached and again.structured_output == "json_schema"


def test_finish_reason_is_kept_through_the_cache(tmp_path):
    with OpenAIServer(Reply.cut('{"examples": [{"query": "q", "plan": "1. f()"}]}', 20)) as server:
        fresh = chat(connect(options(server, tmp_path), "m"))
        cached = chat(connect(options(server, tmp_path), "m"))
    assert fresh.finish_reason == cached.finish_reason == "length" and cached.cached
    assert fresh.content == cached.content == '{"examples": [{"quer'


def test_a_timeout_says_after_how_long_and_a_first_request_gets_one_more_try(tmp_path):
    """The first request times out (a model loading) and is tried once more; a later timeout is a failure whose
    message says how long was waited."""
    slow, fast = Reply("late", delay=3), Reply("ok")
    with OpenAIServer(script(slow, fast, slow)) as server:
        client = connect(options(server, tmp_path, use_cache=False, max_retries=0, timeout=1.0), "m")

        async def go():
            try:
                first = await client.chat(MESSAGES, {})
                with pytest.raises(LLMError) as caught:
                    await client.chat(MESSAGES, {"temperature": 1})
                return first, caught.value
            finally:
                await client.aclose()

        first, error = asyncio.run(go())
        assert server.count == 3
    assert first.content == "ok"
    assert client.stats.notes == [f"{server.base_url}: the first request timed out after 1 s; tried it once more"]
    assert error.reason == "timeout" and "timed out after 1 s" in str(error) and not error.fatal
    assert client.stats.failures == 1


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
