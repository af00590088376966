"""The batch layer after a crash between the provider creating a batch and the journal recording its id: the
batch carries the tag of its ``creating`` entry, and the resumed layer finds it in the provider's list (real
HTTP to the test server's batch API) instead of paying for its requests again."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from planforge.llms.batch import TAG_KEY, Batched
from planforge.llms.cache import request_key
from planforge.llms.openai_client import OpenAIChatClient
from tests.support.openai_server import BatchBehavior, OpenAIServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MESSAGES = [{"role": "user", "content": "email Sid the slides"}]


class ListJournal:
    def __init__(self, entries):
        self.written = list(entries)

    def record(self, entry):
        self.written.append(entry)

    def entries(self):
        return list(self.written)


def layer(server):
    plain = OpenAIChatClient("gpt-4o-mini", base_url=server.base_url, api_key="test-key", max_retries=0)
    return Batched(plain, plain, max_size=8, flush_after=0.05, poll_every=0.02)


def ask(client, *conversations):
    """Each conversation's reply through the batch layer, asked together; the layer closed after."""

    async def run():
        try:
            return await asyncio.gather(*(client.chat(messages, {}) for messages in conversations))
        finally:
            await client.aclose()

    return asyncio.run(run())


def create_tagged_batch(server, client, tag, *, extra=0):
    """What an interrupted run left at the provider: an uploaded file and a batch carrying ``tag``, created
    after ``extra`` unrelated batches so the search reads more than one page."""
    import openai

    sdk = openai.OpenAI(api_key="test-key", base_url=server.base_url)
    body = client.plain.body(MESSAGES, {})
    key = request_key(client.endpoint, client.model, MESSAGES, {})
    line = json.dumps({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n"
    uploaded = sdk.files.create(file=("requests.jsonl", line.encode()), purpose="batch")
    batch = sdk.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={TAG_KEY: tag}
    )
    for _ in range(extra):
        sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    return key, batch.id


def test_a_batch_created_but_not_recorded_is_found_by_its_tag_and_polled_not_paid_again():
    with OpenAIServer("the plan", batch=BatchBehavior(polls=0)) as server:
        client = layer(server)
        tag = f"planforge-{uuid.uuid4().hex}"
        key, batch_id = create_tagged_batch(server, client, tag, extra=120)  # past the first page of 100
        journal = ListJournal([{"tag": tag, "status": "creating", "at": time.time(), "keys": [key]}])
        client.attach_journal(journal)
        (reply,) = ask(client, MESSAGES)
        batches, online = server.batches, server.count
    assert reply.content == "the plan" and reply.batched
    assert online == 0  # nothing went online, not even the usual first request
    assert len(batches) == 121  # no new batch: the tagged one answered
    found = [e for e in journal.written if e.get("status") == "submitted"]
    assert found == [{"id": batch_id, "tag": tag, "status": "submitted", "keys": [key]}]
    assert batch_id in client.stats.batches["ids"]


def test_a_creating_entry_with_no_batch_behind_it_leaves_its_requests_new():
    with OpenAIServer("the plan", batch=BatchBehavior(polls=0)) as server:
        client = layer(server)
        key = request_key(client.endpoint, client.model, MESSAGES, {})
        ghost = {"tag": f"planforge-{uuid.uuid4().hex}", "status": "creating", "at": time.time(), "keys": [key]}
        journal = ListJournal([ghost])
        client.attach_journal(journal)
        first, second = ask(client, MESSAGES, [{"role": "user", "content": "text Maya"}])
        batches, online = server.batches, server.count
    assert first.content == second.content == "the plan"
    assert online == 1 and len(batches) == 1  # one request online first, the other in a new batch
    creating = [e for e in journal.written if e.get("status") == "creating"]
    submitted = [e for e in journal.written if e.get("status") == "submitted"]
    assert len(creating) == 2 and len(submitted) == 1  # the ghost, then the new batch journalled before creation
    assert submitted[0]["tag"] == creating[1]["tag"] == batches[0]["metadata"][TAG_KEY]


def test_a_batch_the_provider_refuses_is_journalled_as_not_created():
    with OpenAIServer("the plan", batch=BatchBehavior(refuse=True)) as server:
        client = layer(server)
        journal = ListJournal([])
        client.attach_journal(journal)
        replies = ask(client, MESSAGES, [{"role": "user", "content": "text Maya"}])
        online, batches = server.count, server.batches
    assert [r.content for r in replies] == ["the plan"] * 2 and not any(r.batched for r in replies)
    assert online == 2 and batches == []  # the first request online, the refused batch's one online too
    assert [e["status"] for e in journal.written] == ["creating", "not_created"]
    assert any("batch not submitted" in note for note in client.stats.notes)
    resumed = layer(server)
    resumed.attach_journal(journal)
    assert resumed._unconfirmed == {}  # settled: a resumed run does not look for it
