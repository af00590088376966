"""A real HTTP, OpenAI-compatible chat-completions server for tests and benchmarks.

The server is an aiohttp app bound to 127.0.0.1 (port 0 by default, i.e. a free port). What it
answers is decided per request by a *responder*: a callable ``(request_json, n) -> Reply`` where
``n`` is the 0-based arrival index of the request.

In tests::

    from tests.support.openai_server import OpenAIServer, Reply, script

    with OpenAIServer(script(Reply.rate_limited(retry_after=1), Reply("ok"))) as srv:
        client = openai.AsyncOpenAI(base_url=srv.base_url, api_key="test", max_retries=2)
        ...
        assert srv.count == 2

For benchmarks (foreground process, prints ``READY http://127.0.0.1:PORT/v1`` once listening,
exits on SIGTERM/SIGINT)::

    python -m tests.support.openai_server --port 0 --latency 0.2 [--content-file F | --replies-file F]
        [--fault-rate 0.1]

Endpoints: ``POST /v1/chat/completions`` (non-streaming), ``GET /v1/models``, and the batch API: ``POST
/v1/files``, ``GET /v1/files/{id}[/content]``, ``POST /v1/batches``, ``GET /v1/batches[/{id}]`` (each batch answered
by the same responder when it is polled, with failures and expiry as :class:`BatchBehavior` says).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import logging
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

__all__ = [
    "DEFAULT_CONTENT",
    "LLAMA_CPP_JSON_SCHEMA_ERROR",
    "BatchBehavior",
    "LlamaCppFormats",
    "OpenAIServer",
    "Received",
    "Reply",
    "ReplyBook",
    "Responder",
    "messages_key",
    "script",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "test-model"

#: Default assistant content: a small valid JSON document shaped like a generator answer.
DEFAULT_CONTENT = json.dumps(
    {
        "examples": [
            {
                "query": "What is Sid's email address?",
                "plan": '1. get_email_address("Sid")\n2. join()',
            }
        ]
    }
)


def _estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters per token), at least 1 for non-empty text."""
    if not text:
        return 0
    return max(1, len(text) // 4)


def _error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> str:
    return json.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


@dataclass
class Reply:
    """How to answer one request.

    content: the assistant message text (``None`` -> ``"content": null``). A dict/list is JSON-encoded.
    status: HTTP status. For a non-2xx status without ``body``, an OpenAI-style error object is sent.
    headers: extra response headers (``Content-Type`` defaults to ``application/json``).
    body: raw response body; overrides everything generated (use for malformed JSON, custom errors).
    delay: seconds to wait before answering (asyncio sleep: other requests are served meanwhile).
    drop: close the connection without sending any HTTP response (after ``delay``).
    usage: ``(prompt_tokens, completion_tokens)``; default: ~len(text)/4 of the request messages and
        of ``content``.
    finish_reason: ``choices[0].finish_reason`` (e.g. ``"length"`` to simulate truncation; :meth:`cut`).
    """

    content: str | dict | list | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    delay: float = 0.0
    drop: bool = False
    usage: tuple[int, int] | None = None
    finish_reason: str = "stop"

    # ------------------------------------------------------------------ helpers
    @classmethod
    def error(
        cls,
        status: int,
        message: str = "error",
        *,
        type: str = "server_error",  # noqa: A002 - mirrors the OpenAI field name
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """A ``status`` answer with an OpenAI-style ``{"error": {...}}`` body."""
        return cls(
            status=status,
            body=_error_body(message, type, code),
            headers=dict(headers or {}),
            delay=delay,
        )

    @classmethod
    def rate_limited(
        cls,
        retry_after: float | None = 1,
        *,
        retry_after_ms: float | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """429 with ``Retry-After: <retry_after>`` (seconds; omitted if None), optionally
        ``retry-after-ms``, and an OpenAI-style rate-limit error body."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = _fmt_number(retry_after)
        if retry_after_ms is not None:
            headers["retry-after-ms"] = _fmt_number(retry_after_ms)
        return cls.error(
            429,
            "Rate limit reached for test-model: please try again later.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
            delay=delay,
        )

    @classmethod
    def server_error(
        cls,
        status: int = 500,
        message: str = "The server had an error while processing your request.",
        *,
        delay: float = 0.0,
    ) -> Reply:
        """5xx with an OpenAI-style error body."""
        return cls.error(status, message, type="server_error", delay=delay)

    @classmethod
    def malformed(
        cls, body: str = '{"id": "chatcmpl-broken", "choices": [', *, content_type: str = "application/json"
    ) -> Reply:
        """200 whose body is not valid JSON (by default still labelled ``application/json``)."""
        return cls(status=200, body=body, headers={"Content-Type": content_type})

    @classmethod
    def cut(cls, content: str | dict | list, at: int, *, delay: float = 0.0) -> Reply:
        """The first ``at`` characters of ``content`` (JSON-encoded when not a str) with finish_reason "length":
        a reply that reached max_tokens."""
        text = content if isinstance(content, str) else json.dumps(content)
        return cls(text[:at], finish_reason="length", delay=delay)

    @classmethod
    def dropped(cls, delay: float = 0.0) -> Reply:
        """Close the connection without an HTTP response."""
        return cls(drop=True, delay=delay)


def messages_key(request: dict) -> str:
    """The key of a request by its messages (what :class:`ReplyBook` files replies under)."""
    import hashlib

    return hashlib.sha1(json.dumps(request.get("messages"), sort_keys=True).encode()).hexdigest()


class ReplyBook:
    """A responder that answers each request with the content filed under its messages (``{"key", "content"}``
    lines, keys from :func:`messages_key`), the default content otherwise, after ``latency`` seconds.

    ``fault_rate``: the share of distinct requests whose first attempt fails (chosen by a hash of the key, so
    the same ones in every run), half with 429 and ``Retry-After: retry_after``, half with 500; the retry is
    answered normally."""

    def __init__(self, contents: dict[str, str], *, latency: float = 0.0, fault_rate: float = 0.0, retry_after=1):
        self.contents = contents
        self.latency = latency
        self.fault_rate = fault_rate
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.faults = 0

    @classmethod
    def load(cls, path: str, **kw: Any) -> ReplyBook:
        with open(path, encoding="utf-8") as handle:
            contents = {line["key"]: line["content"] for line in map(json.loads, handle)}
        return cls(contents, **kw)

    def __call__(self, request: dict, n: int) -> Reply:
        key = messages_key(request)
        with self.lock:
            attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        if attempt == 1 and int(key[:8], 16) / 0xFFFFFFFF < self.fault_rate:
            with self.lock:
                self.faults += 1
            if int(key[8:10], 16) % 2:
                return Reply.rate_limited(retry_after=self.retry_after, delay=self.latency)
            return Reply.server_error(delay=self.latency)
        return Reply(self.contents.get(key, DEFAULT_CONTENT), delay=self.latency)


#: What llama-cpp-python's server (0.3.36) answers a ``response_format`` of type json_schema: HTTP 500 whose
#: message is its request model's validation error, naming response_format.
LLAMA_CPP_JSON_SCHEMA_ERROR = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}"
)


class LlamaCppFormats:
    """A responder that treats ``response_format`` as llama-cpp-python's server does: json_schema refused with
    HTTP 500 (:data:`LLAMA_CPP_JSON_SCHEMA_ERROR`), json_object with or without a ``schema`` accepted (llama.cpp
    turns the schema into a grammar); what is accepted goes to ``inner``. ``refuse_schema``: refuse a schema in
    json_object too (HTTP 400 naming it), as a server that knows only plain json_object might.
    ``seen``: the format of each request, in order ("json_schema", "json_object+schema", "json_object", None)."""

    def __init__(self, inner: Responder | ReplyLike = None, *, refuse_schema: bool = False):
        self.inner = _normalize_responder(inner)
        self.refuse_schema = refuse_schema
        self.seen: list[str | None] = []
        self.lock = threading.Lock()

    @staticmethod
    def kind(request: dict) -> str | None:
        response_format = request.get("response_format") or {}
        kind = response_format.get("type")
        return f"{kind}+schema" if kind == "json_object" and "schema" in response_format else kind

    def __call__(self, request: dict, n: int) -> Any:
        kind = self.kind(request)
        with self.lock:
            self.seen.append(kind)
        if kind == "json_schema":
            return Reply.error(500, LLAMA_CPP_JSON_SCHEMA_ERROR, type="internal_server_error")
        if kind == "json_object+schema" and self.refuse_schema:
            message = "response_format: extra fields not permitted ('schema')"
            return Reply.error(400, message, type="invalid_request_error")
        return self.inner(request, n)


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


ReplyLike = Reply | str | dict | list | None
#: ``(request_json, n) -> Reply``; may also return a str/dict/list (= content), None (= DEFAULT_CONTENT),
#: or an awaitable of any of these.
Responder = Callable[[dict, int], ReplyLike | Awaitable[ReplyLike]]


def script(*items: Reply | str | Responder) -> Responder:
    """A responder that answers request ``n`` with ``items[n % len(items)]`` (cycling).

    Each item is a ``Reply``, a str (content), or itself a responder callable.
    """
    if not items:
        raise ValueError("script() needs at least one reply")
    seq = list(items)

    def responder(request: dict, n: int) -> Any:
        item = seq[n % len(seq)]
        if callable(item) and not isinstance(item, Reply):
            return item(request, n)
        return item

    return responder


@dataclass
class Received:
    """One request the server received (in arrival order)."""

    n: int
    path: str
    json: dict
    headers: Mapping[str, str]  # case-insensitive
    time: float  # time.monotonic() at arrival


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    if value is None:
        return Reply(content=DEFAULT_CONTENT)
    if isinstance(value, (str, dict, list)):
        return Reply(content=value)
    raise TypeError(f"responder returned {type(value).__name__}, expected Reply or str")


def _normalize_responder(responder: Responder | ReplyLike) -> Responder:
    if responder is None:
        return lambda request, n: Reply(content=DEFAULT_CONTENT)
    if isinstance(responder, (Reply, str, dict, list)):
        fixed = _as_reply(responder)
        return lambda request, n: fixed
    if not callable(responder):
        raise TypeError(f"responder must be callable, a Reply or a str, got {type(responder).__name__}")
    return responder


def _prompt_text(request: dict) -> str:
    parts: list[str] = []
    for m in request.get("messages") or ():
        if not isinstance(m, dict):
            continue
        c = m.get("content")
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):  # content parts
            parts.extend(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return "\n".join(parts)


@dataclass
class BatchBehavior:
    """How the server's batch API treats the batches it is given (``/v1/files`` and ``/v1/batches``).

        fail: request indexes (0-based, over all batch requests the server received, in order) answered with
        ``status_code`` 500 in the error file; expire_after: a batch ends ``expired`` once it has answered this many
        of its requests (the rest go to the error file as ``batch_expired``); polls: how many retrieves of a batch
        see it ``in_progress`` before it is done (the requests are answered when it is done); refuse: no batch is
    created at all."""

    fail: frozenset[int] = frozenset()
    expire_after: int | None = None
    polls: int = 1
    refuse: bool = False  # POST /v1/batches answers 403, as for an organization without the batch API


class _App:
    """The aiohttp application plus request bookkeeping (shared by OpenAIServer and the CLI)."""

    def __init__(
        self,
        responder: Responder | ReplyLike,
        *,
        api_key: str | None = None,
        models: Sequence[str] = (DEFAULT_MODEL,),
    ) -> None:
        self.responder = _normalize_responder(responder)
        self.api_key = api_key
        self.models = list(models)
        self.lock = threading.Lock()
        self.records: list[Received] = []
        self.count = 0
        self.unauthorized = 0
        self.errors: list[BaseException] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.record_requests = True
        self.batch = BatchBehavior()
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_polls: dict[str, int] = {}
        self.batch_requests = 0  # requests answered through batches

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_post("/v1/files", self.create_file)
        app.router.add_get("/v1/files/{id}", self.get_file)
        app.router.add_get("/v1/files/{id}/content", self.file_content)
        app.router.add_post("/v1/batches", self.create_batch)
        app.router.add_get("/v1/batches", self.list_batches)
        app.router.add_get("/v1/batches/{id}", self.get_batch)
        return app

    # ------------------------------------------------------------------ files and batches
    def _json(self, obj: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=json.dumps(obj), content_type="application/json")

    def _file(self, content: bytes, purpose: str, filename: str) -> dict[str, Any]:
        entry = {
            "id": f"file-{uuid.uuid4().hex[:24]}",
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
        }
        with self.lock:
            self.files[entry["id"]] = {**entry, "content": content}
        return entry

    async def create_file(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        form = await request.post()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return self._json({"error": {"message": "no file", "type": "invalid_request_error"}}, 400)
        return self._json(self._file(upload.file.read(), str(form.get("purpose", "")), upload.filename or "upload"))

    async def get_file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        if found is None:
            return self._json({"error": {"message": "no such file", "type": "invalid_request_error"}}, 404)
        return self._json({k: v for k, v in found.items() if k != "content"})

    async def file_content(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        if found is None:
            return self._json({"error": {"message": "no such file", "type": "invalid_request_error"}}, 404)
        return web.Response(body=found["content"], content_type="application/octet-stream")

    async def create_batch(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        if self.batch.refuse:
            return self._json({"error": {"message": "Batches are not enabled", "type": "invalid_request_error"}}, 403)
        payload = await request.json()
        source = self.files.get(payload.get("input_file_id", ""))
        if source is None:
            return self._json({"error": {"message": "no such input file", "type": "invalid_request_error"}}, 400)
        lines = [json.loads(line) for line in source["content"].decode().splitlines() if line.strip()]
        batch = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "object": "batch",
            "endpoint": payload.get("endpoint"),
            "input_file_id": source["id"],
            "completion_window": payload.get("completion_window", "24h"),
            "status": "in_progress",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": payload.get("metadata"),
        }
        with self.lock:
            self.batches[batch["id"]] = {**batch, "lines": lines}
            self.batch_polls[batch["id"]] = 0
        return self._json(batch)

    async def list_batches(self, request: web.Request) -> web.Response:
        """Newest first, ``limit`` a page, ``after`` the last id of the page before (OpenAI's cursor pages)."""
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        limit = int(request.query.get("limit", "20"))
        with self.lock:
            newest_first = [{k: v for k, v in b.items() if k != "lines"} for b in reversed(self.batches.values())]
        after = request.query.get("after")
        if after is not None:
            ids = [b["id"] for b in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
        page = newest_first[:limit]
        return self._json(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(newest_first) > limit,
            }
        )

    async def get_batch(self, request: web.Request) -> web.Response:
        found = self.batches.get(request.match_info["id"])
        if found is None:
            return self._json({"error": {"message": "no such batch", "type": "invalid_request_error"}}, 404)
        with self.lock:
            self.batch_polls[found["id"]] += 1
            due = self.batch_polls[found["id"]] > self.batch.polls and found["status"] == "in_progress"
        if due:
            await self._run_batch(found)
        return self._json({k: v for k, v in found.items() if k != "lines"})

    async def _run_batch(self, batch: dict[str, Any]) -> None:
        """Answer a batch's requests with the responder: an output file, an error file, the final status."""
        output, errors = [], []
        expired = False
        for position, line in enumerate(batch["lines"]):
            custom_id = line["custom_id"]
            if self.batch.expire_after is not None and position >= self.batch.expire_after:
                expired = True
                error = {"code": "batch_expired", "message": "This request could not be executed before expiry."}
                errors.append(
                    {
                        "id": f"batch_req_{uuid.uuid4().hex[:12]}",
                        "custom_id": custom_id,
                        "response": None,
                        "error": error,
                    }
                )
                continue
            with self.lock:
                index = self.batch_requests
                self.batch_requests += 1
            if index in self.batch.fail:
                body = json.loads(_error_body("The server had an error processing your request.", "server_error"))
                response = {"status_code": 500, "request_id": f"req_{uuid.uuid4().hex[:12]}", "body": body}
                errors.append({"id": f"batch_req_{index}", "custom_id": custom_id, "response": response, "error": None})
                continue
            result = self.responder(line["body"], index)
            if inspect.isawaitable(result):
                result = await result
            reply = _as_reply(result)
            body = json.loads(self._build_response(line["body"], Reply(reply.content)).body)
            response = {"status_code": 200, "request_id": f"req_{uuid.uuid4().hex[:12]}", "body": body}
            output.append({"id": f"batch_req_{index}", "custom_id": custom_id, "response": response, "error": None})
        batch["request_counts"] = {"total": len(batch["lines"]), "completed": len(output), "failed": len(errors)}
        if output:
            text = "".join(json.dumps(line) + "\n" for line in output).encode()
            batch["output_file_id"] = self._file(text, "batch_output", "output.jsonl")["id"]
        if errors:
            text = "".join(json.dumps(line) + "\n" for line in errors).encode()
            batch["error_file_id"] = self._file(text, "batch_output", "errors.jsonl")["id"]
        batch["status"] = "expired" if expired else "completed"

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization", "") == f"Bearer {self.api_key}":
            return None
        with self.lock:
            self.unauthorized += 1
        return web.Response(
            status=401,
            body=_error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
            content_type="application/json",
        )

    async def list_models(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        created = int(time.time())
        data = [{"id": m, "object": "model", "created": created, "owned_by": "planforge-tests"} for m in self.models]
        return web.Response(body=json.dumps({"object": "list", "data": data}), content_type="application/json")

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            return web.Response(
                status=400,
                body=_error_body(f"Invalid JSON body: {exc}", "invalid_request_error"),
                content_type="application/json",
            )
        if payload.get("stream"):
            return web.Response(
                status=400,
                body=_error_body("stream=true is not supported by the test server", "invalid_request_error"),
                content_type="application/json",
            )

        arrived = time.monotonic()
        with self.lock:
            n = self.count
            self.count += 1
            if self.record_requests:
                self.records.append(Received(n, request.path, payload, CIMultiDict(request.headers), arrived))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            try:
                result = self.responder(payload, n)
                if inspect.isawaitable(result):
                    result = await result
                reply = _as_reply(result)
            except Exception as exc:  # surfaced to the test via .errors; not retried by the SDK
                log.exception("responder failed on request %d", n)
                with self.lock:
                    self.errors.append(exc)
                return web.Response(
                    status=500,
                    body=_error_body(f"responder raised {exc!r}", "server_error"),
                    headers={"x-should-retry": "false"},
                    content_type="application/json",
                )

            if reply.delay > 0:
                await asyncio.sleep(reply.delay)

            if reply.drop:
                transport = request.transport
                if transport is not None:
                    transport.close()  # FIN without any response bytes
                # Whatever aiohttp tries to write now goes to a closed transport and is ignored.
                raise asyncio.CancelledError

            return self._build_response(payload, reply)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _build_response(self, payload: dict, reply: Reply) -> web.Response:
        headers = {"Content-Type": "application/json", "x-request-id": f"req_{uuid.uuid4().hex[:24]}"}
        lower = {k.lower() for k in reply.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in lower}
        headers.update(reply.headers)

        if reply.body is not None:
            body = reply.body if isinstance(reply.body, bytes) else reply.body.encode()
            return web.Response(status=reply.status, body=body, headers=headers)

        if reply.status >= 400:
            kind = "server_error" if reply.status >= 500 else "invalid_request_error"
            body = _error_body(f"HTTP {reply.status}", kind)
            return web.Response(status=reply.status, body=body.encode(), headers=headers)

        content = reply.content
        if content is not None and not isinstance(content, str):
            content = json.dumps(content)
        if reply.usage is not None:
            prompt_tokens, completion_tokens = reply.usage
        else:
            prompt_tokens = _estimate_tokens(_prompt_text(payload))
            completion_tokens = _estimate_tokens(content or "")
        obj = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model") or DEFAULT_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return web.Response(status=reply.status, body=json.dumps(obj).encode(), headers=headers)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


async def _start(app: _App, sock: socket.socket, shutdown_timeout: float) -> web.AppRunner:
    runner = web.AppRunner(
        app.make_app(),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=shutdown_timeout,
        handler_cancellation=True,  # a client that disconnects cancels its (delayed) handler
        keepalive_timeout=75.0,
    )
    await runner.setup()
    # A large backlog matters: hundreds of clients connecting at once overflow the default 128
    # and the kernel then drops SYNs (1 s retransmit penalty).
    site = web.SockSite(runner, sock, backlog=2048)
    await site.start()
    return runner


class OpenAIServer:
    """OpenAI-compatible server in a background thread with its own event loop.

    ``responder``: a callable ``(request_json, n) -> Reply | str`` (sync or async), a fixed ``Reply``
    or str, or ``None`` for ``DEFAULT_CONTENT``. Use as a context manager, or call start()/stop().
    """

    def __init__(
        self,
        responder: Responder | ReplyLike = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Sequence[str] = (DEFAULT_MODEL,),
        shutdown_timeout: float = 0.5,
        batch: BatchBehavior | None = None,
    ) -> None:
        self._app = _App(responder, api_key=api_key, models=models)
        if batch is not None:
            self._app.batch = batch
        self._host = host
        self._port = port
        self._shutdown_timeout = shutdown_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> OpenAIServer:
        if self._thread is not None:
            raise RuntimeError("server already started")
        sock = _bind(self._host, self._port)
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"openai-server-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("OpenAIServer did not start within 10 s")
        if self._startup_error is not None:
            raise RuntimeError("OpenAIServer failed to start") from self._startup_error
        return self

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        self._stop_event = asyncio.Event()
        try:
            runner = await _start(self._app, sock, self._shutdown_timeout)
        except BaseException as exc:
            self._startup_error = exc
            sock.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        thread, loop, ev = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and ev is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ev.set)
        thread.join(timeout=self._shutdown_timeout + 10)
        self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ inspection
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass as ``AsyncOpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    @property
    def requests(self) -> list[dict]:
        """JSON bodies of the chat-completion requests received so far (a copy, arrival order)."""
        with self._app.lock:
            return [r.json for r in self._app.records]

    @property
    def received(self) -> list[Received]:
        """Full records (index, path, body, headers, monotonic arrival time), a copy."""
        with self._app.lock:
            return list(self._app.records)

    @property
    def count(self) -> int:
        """Number of chat-completion requests received (= next arrival index)."""
        with self._app.lock:
            return self._app.count

    @property
    def unauthorized(self) -> int:
        """Requests rejected with 401 (only when constructed with ``api_key``)."""
        with self._app.lock:
            return self._app.unauthorized

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by the responder (each was answered with a non-retryable 500)."""
        with self._app.lock:
            return list(self._app.errors)

    @property
    def batches(self) -> list[dict]:
        """The batches created so far (without their request lines), in order."""
        with self._app.lock:
            return [{k: v for k, v in b.items() if k != "lines"} for b in self._app.batches.values()]

    @contextlib.contextmanager
    def file_lines(self, file_id: str):
        """The JSON lines of an uploaded or produced file."""
        with self._app.lock:
            content = self._app.files[file_id]["content"]
        yield [json.loads(line) for line in content.decode().splitlines() if line.strip()]

    @property
    def batch_requests(self) -> int:
        """Requests answered through batches (not counted in :attr:`count`)."""
        with self._app.lock:
            return self._app.batch_requests

    @property
    def max_in_flight(self) -> int:
        """Highest number of chat-completion requests being handled at the same time."""
        with self._app.lock:
            return self._app.max_in_flight


# ---------------------------------------------------------------------- CLI
async def _cli_main(args: argparse.Namespace) -> None:
    if args.content_file:
        with open(args.content_file, encoding="utf-8") as f:
            content = f.read()
    else:
        content = args.content if args.content is not None else DEFAULT_CONTENT
    fixed = Reply(content=content, delay=args.latency)
    responder: Responder = lambda request, n: fixed  # noqa: E731
    if args.replies_file:
        responder = ReplyBook.load(args.replies_file, latency=args.latency, fault_rate=args.fault_rate)
    app = _App(responder, api_key=args.api_key)
    app.record_requests = False  # long benchmark runs must not grow memory
    sock = _bind(args.host, args.port)
    runner = await _start(app, sock, shutdown_timeout=1.0)
    port = sock.getsockname()[1]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY http://{args.host}:{port}/v1", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print(f"served {app.count} requests, max in flight {app.max_in_flight}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.support.openai_server",
        description="OpenAI-compatible chat-completions server answering a fixed content after a fixed latency.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (printed on the READY line)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    p.add_argument("--content-file", help="file whose text is the assistant content of every answer")
    p.add_argument("--content", help="assistant content of every answer (default: a small JSON document)")
    p.add_argument("--api-key", help="require 'Authorization: Bearer <key>'")
    p.add_argument("--replies-file", help="JSONL of {key, content}: the answer to each request by its messages")
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of requests whose first attempt fails")
    args = p.parse_args(argv)
    asyncio.run(_cli_main(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
