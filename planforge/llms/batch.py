"""Half-price batches: requests collected into provider batches (OpenAI's batch API: upload a JSONL file,
create a batch, poll it, download the results), as a :class:`~planforge.llms.base.ChatClient` layer.

A request joins the open batch; the batch is submitted when it holds ``max_size`` requests or none has joined
for ``flush_after`` seconds. Every batch is recorded in a *journal* (the run's checkpoint) with the request
keys it carries, when submitted and when done, so after a crash or Ctrl-C the resumed run finds its requests
in the journal and polls those batches (or downloads their results again) instead of paying for them twice.
A batch is journalled before it is created too (``creating``, with a tag the batch carries in its metadata):
a crash between the provider creating it and the journal recording its id leaves the tag, and the resumed run
finds the batch by that tag in the provider's list instead of creating another.
What a batch reports failed or expired goes to the online client. The first request goes online: a wrong key
costs one request, and the structured-output mode is settled before any batch is built."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from planforge.errors import LLMError
from planforge.llms.base import ChatClient, ChatReply, Messages
from planforge.llms.cache import request_key
from planforge.llms.openai_client import OpenAIChatClient

TERMINAL = ("completed", "failed", "expired", "cancelled")
#: the metadata key a batch's tag travels under
TAG_KEY = "planforge_batch"
#: how far before its ``creating`` entry a batch may have been created (clock skew) and still be the one
LIST_MARGIN_SECONDS = 300


class BatchJournal(Protocol):
    def record(self, entry: dict[str, Any]) -> None: ...

    def entries(self) -> Iterable[dict[str, Any]]: ...


class Batched:
    def __init__(
        self,
        plain: OpenAIChatClient,
        online: ChatClient,
        *,
        max_size: int = 1000,
        flush_after: float = 2.0,
        poll_every: float = 30.0,
    ):
        self.plain, self.online = plain, online
        self.model, self.endpoint, self.stats = online.model, online.endpoint, online.stats
        self.max_size, self.flush_after, self.poll_every = max_size, flush_after, poll_every
        self.journal: BatchJournal | None = None
        self._online_first = True
        self._open: dict[str, tuple[dict[str, Any], asyncio.Future[ChatReply | None]]] = {}
        self._flush_task: asyncio.Task[None] | None = None
        self._known: dict[str, str] = {}  # request key -> batch id (batches of an earlier, interrupted run)
        self._waiting: dict[str, asyncio.Future[ChatReply | None]] = {}  # request key -> its reply, when known
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._results: dict[str, dict[str, ChatReply | None]] = {}  # batch id -> its replies, once downloaded
        self._submitting: set[asyncio.Task[None]] = set()
        self._unconfirmed: dict[str, dict[str, Any]] = {}  # request key -> a ``creating`` entry with no batch id
        self._finding: dict[str, asyncio.Task[str | None]] = {}  # tag -> the search for its batch
        self.stats.batches = {"ids": [], "requests": 0, "answered": 0, "failed": 0, "expired": 0, "online": 0}

    def response_format(self, mode: str | None = None) -> dict[str, Any] | None:
        return self.plain.response_format(mode)

    def attach_journal(self, journal: BatchJournal) -> None:
        """Where batches are recorded; batches it already holds are polled again when their requests come."""
        self.journal = journal
        creating: dict[str, dict[str, Any]] = {}
        for entry in journal.entries():
            if entry.get("status") == "creating":
                creating[entry["tag"]] = entry
                continue
            creating.pop(entry.get("tag", ""), None)
            if "id" not in entry:  # a batch the provider refused to create
                continue
            for key in entry.get("keys", ()):
                self._known[key] = entry["id"]
            if entry["id"] not in self.stats.batches["ids"]:
                self.stats.batches["ids"].append(entry["id"])
        for entry in creating.values():  # created or not: the provider's list says
            for key in entry["keys"]:
                if key not in self._known:
                    self._unconfirmed[key] = entry

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        key = request_key(self.endpoint, self.model, messages, params)
        if key in self._unconfirmed:
            await self._confirm(self._unconfirmed[key])
        if self._online_first and key not in self._known:
            self._online_first = False
            self.stats.batches["online"] += 1
            return await self.online.chat(messages, params)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ChatReply | None] = loop.create_future()
        self._waiting[key] = future
        if key in self._known and self._known[key] in self._results:
            future.set_result(self._results[self._known[key]].get(key))
        elif key in self._known:
            self._watch(self._known[key])
        else:
            self._open[key] = (self.plain.body(messages, params), future)
            if len(self._open) >= self.max_size:
                self._submit_open()
            elif self._flush_task is None:
                self._flush_task = asyncio.ensure_future(self._flush_later())
        try:
            reply = await future
        finally:
            self._waiting.pop(key, None)
        if reply is not None:
            return reply
        self.stats.batches["online"] += 1
        return await self.online.chat(messages, params)

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self.flush_after)
        finally:
            self._flush_task = None
        if self._open:
            self._submit_open()

    def _submit_open(self) -> None:
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        requests, self._open = self._open, {}
        task = asyncio.ensure_future(self._submit(requests))
        self._submitting.add(task)
        task.add_done_callback(self._submitting.discard)

    async def _submit(self, requests: dict[str, tuple[dict[str, Any], asyncio.Future[ChatReply | None]]]) -> None:
        lines = "".join(
            json.dumps({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n"
            for key, (body, _) in requests.items()
        )
        tag, journalled = f"planforge-{uuid.uuid4().hex}", False
        try:
            client = self.plain.sdk
            uploaded = await client.files.create(file=("requests.jsonl", lines.encode()), purpose="batch")
            if self.journal is not None:  # before the batch exists: a crash from here on finds it by its tag
                self.journal.record({"tag": tag, "status": "creating", "at": time.time(), "keys": list(requests)})
                journalled = True
            batch = await client.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={TAG_KEY: tag},
            )
        except Exception as exc:  # noqa: BLE001 - no batch API there: these requests go online
            if journalled:  # settled: a resumed run need not look for it
                self.journal.record({"tag": tag, "status": "not_created"})  # type: ignore[union-attr]
            self.stats.notes.append(f"{self.endpoint}: batch not submitted ({_short(exc)}); requests sent online")
            for _, future in requests.values():
                if not future.done():
                    future.set_result(None)
            return
        for key in requests:
            self._known[key] = batch.id
        self.stats.batches["ids"].append(batch.id)
        self.stats.batches["requests"] += len(requests)
        if self.journal is not None:
            self.journal.record({"id": batch.id, "tag": tag, "status": "submitted", "keys": list(requests)})
        self._watch(batch.id)

    async def _confirm(self, entry: dict[str, Any]) -> None:
        """Settle a ``creating`` entry of an interrupted run: the batch the provider holds under its tag becomes
        a known batch (journalled, polled); where there is none, its requests are new again."""
        tag = entry["tag"]
        if tag not in self._finding:
            self._finding[tag] = asyncio.ensure_future(self._find(tag, float(entry.get("at", 0))))
        found = await self._finding[tag]
        for key in entry["keys"]:
            if self._unconfirmed.get(key) is entry:
                del self._unconfirmed[key]
                if found is not None:
                    self._known.setdefault(key, found)
        if found is not None and found not in self.stats.batches["ids"]:
            self.stats.batches["ids"].append(found)
            if self.journal is not None:
                self.journal.record({"id": found, "tag": tag, "status": "submitted", "keys": entry["keys"]})

    async def _find(self, tag: str, since: float) -> str | None:
        """The id of the batch tagged ``tag``, from the provider's list (newest first, back to ``since``)."""
        try:
            async for batch in self.plain.sdk.batches.list(limit=100):
                if (batch.metadata or {}).get(TAG_KEY) == tag:
                    return batch.id
                if batch.created_at and batch.created_at < since - LIST_MARGIN_SECONDS:
                    break
        except Exception as exc:  # noqa: BLE001 - no list to read: the requests go into a new batch
            self.stats.notes.append(
                f"{self.endpoint}: batches not listed ({_short(exc)}); an interrupted one may run twice"
            )
        return None

    def _watch(self, batch_id: str) -> None:
        if batch_id not in self._watchers:
            self._watchers[batch_id] = asyncio.ensure_future(self._poll(batch_id))

    async def _poll(self, batch_id: str) -> None:
        client = self.plain.sdk
        while True:
            try:
                batch = await client.batches.retrieve(batch_id)
            except Exception as exc:  # noqa: BLE001 - a lost batch: its requests go online
                self.stats.notes.append(f"batch {batch_id} cannot be read ({_short(exc)}); its requests go online")
                self._resolve(batch_id, {})
                return
            if batch.status in TERMINAL:
                break
            await asyncio.sleep(self.poll_every)
        replies: dict[str, ChatReply | None] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await client.files.content(file_id)
            for line in content.text.splitlines():
                if line.strip():
                    key, reply = self._result(json.loads(line))
                    replies[key] = reply
        if self.journal is not None:
            self.journal.record({"id": batch_id, "status": batch.status})
        self._resolve(batch_id, replies)

    def _result(self, line: dict[str, Any]) -> tuple[str, ChatReply | None]:
        key = line.get("custom_id", "")
        response = line.get("response") or {}
        error = line.get("error") or {}
        if error.get("code") == "batch_expired":
            self.stats.batches["expired"] += 1
            return key, None
        if response.get("status_code") != 200:
            self.stats.batches["failed"] += 1
            return key, None
        try:
            reply = OpenAIChatClient.reply_of(response.get("body"))
        except LLMError:
            self.stats.batches["failed"] += 1
            return key, None
        self.stats.batches["answered"] += 1
        # a batch is built once the first request settled the rung: its requests were sent on the one in use
        return key, replace(reply, batched=True, structured_output=self.plain.stats.structured_output)

    def _resolve(self, batch_id: str, replies: dict[str, ChatReply | None]) -> None:
        self._results[batch_id] = replies
        for key, known in list(self._known.items()):
            if known != batch_id:
                continue
            future = self._waiting.get(key)
            if future is not None and not future.done():
                future.set_result(replies.get(key))
        self._watchers.pop(batch_id, None)

    async def aclose(self) -> None:
        for task in [self._flush_task, *self._watchers.values(), *self._submitting]:
            if task is not None:
                task.cancel()
        for task in [*self._watchers.values(), *self._submitting]:
            with contextlib.suppress(BaseException):
                await task
        await self.online.aclose()


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:159] + "…"
