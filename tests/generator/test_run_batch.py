"""`gen run --batch` against the test server's batch API over real HTTP: requests go as size-capped batches,
what a batch reports failed or expired goes online, batches are priced at half, and a run killed while its
batch is pending resumes polling that batch instead of paying for its requests again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from planforge.generator.pricing import BATCH_PRICE_FACTOR, cost_usd, price_for
from tests.generator.test_run_openai import FaultyTeacher, gen
from tests.support.openai_server import BatchBehavior, OpenAIServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BATCH = ["--batch", "--batch-size", "8", "--batch-poll", "0.05", "--model", "gpt-4o-mini", "--no-cache"]


def test_batches_with_failures_and_expiry_fall_back_online_at_the_batch_price(tmp_path, template_responder):
    teacher = FaultyTeacher(template_responder, scenarios=("ok",))
    behavior = BatchBehavior(fail=frozenset({2, 5}), expire_after=7)
    with OpenAIServer(teacher, batch=behavior) as server:
        result = gen(server.base_url, "--out", str(tmp_path / "d"), "-n", "60", "--examples-per-request", "3", *BATCH)
        online, batches = server.count, server.batches
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    stats, counts = run["stats"], run["client"]["batches"]
    assert run["accepted"] == 60 and stats["failed_requests"] == 0
    assert len(batches) >= 2 and all(b["request_counts"]["total"] <= 8 for b in batches)
    assert counts["ids"] == [b["id"] for b in batches]
    assert counts["failed"] == 2 and counts["expired"] > 0 and any(b["status"] == "expired" for b in batches)
    assert counts["online"] == 1 + counts["failed"] + counts["expired"] == online  # the first request, then fallbacks
    assert stats["batched_responses"] == counts["answered"] > 0
    # every request was answered once: by a batch, or online
    assert stats["responses"] == counts["answered"] + counts["online"] == stats["requests"]
    price = price_for("gpt-4o-mini")
    full = cost_usd(price, stats["prompt_tokens"], stats["completion_tokens"])
    assert full * BATCH_PRICE_FACTOR < run["cost_usd"] < full
    assert "batches (half price)" in result.stderr


def test_a_killed_run_resumes_polling_its_batch_instead_of_paying_again(tmp_path, template_responder):
    teacher = FaultyTeacher(template_responder, scenarios=("ok",))
    behavior = BatchBehavior(polls=10**9)  # batches stay in progress until the test lets them finish
    out = tmp_path / "d"
    args = ["-n", "30", "--examples-per-request", "3", *BATCH]
    with OpenAIServer(teacher, batch=behavior) as server:
        env = {**os.environ, "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url}
        command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), *args]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        checkpoint = out / "checkpoint.jsonl"
        deadline = time.monotonic() + 120

        # killed as soon as the provider holds a batch, recorded by id or not: a batch is journalled by its tag
        # before it is created, so even a kill between creating it and recording its id finds it again
        while time.monotonic() < deadline and not server.batches:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        lines = [json.loads(line) for line in checkpoint.open() if '"kind":"batch"' in line]
        tags = {line["tag"] for line in lines if line["status"] == "creating"}
        held = server.batches
        assert held and all(batch["metadata"]["planforge_batch"] in tags for batch in held)
        submitted = [batch["id"] for batch in held]
        behavior.polls = 0  # the provider finishes them while no run is there
        online_before = server.count
        in_old_batches = sum(b["request_counts"]["total"] for b in server.batches)
        resumed = gen(server.base_url, "--out", str(out), *args, "--resume")
        batches, online = server.batches, server.count - online_before
    assert resumed.returncode == 0, resumed.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["accepted"] == 30 and run["resumed"] is True
    assert set(submitted) <= set(run["client"]["batches"]["ids"])
    assert run["client"]["batches"]["answered"] >= in_old_batches  # the old batches' replies were used
    assert online <= 1  # at most one new request went online first
    # no request went into two batches: nothing was paid twice
    keys = Counter()
    for batch in batches:
        with server.file_lines(batch["input_file_id"]) as lines:
            keys.update(line["custom_id"] for line in lines)
    assert keys and max(keys.values()) == 1
