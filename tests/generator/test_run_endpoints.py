"""`gen run` spread over several OpenAI-compatible endpoints, over real HTTP: per-endpoint concurrency, an
endpoint that keeps failing is rested while the run goes on, and what each endpoint did is in run.json."""

from __future__ import annotations

import json
import threading

import pytest

from tests.generator.test_run_openai import FaultyTeacher, gen
from tests.support.openai_server import OpenAIServer, Reply

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_a_failing_endpoint_rests_and_the_run_goes_on_with_the_others(tmp_path, template_responder):
    inner = FaultyTeacher(template_responder, scenarios=("ok",))

    def good(body, n):
        # a reply that takes a moment keeps a request in flight at a, so the pool also sends to b: with instant
        # replies a busy machine can finish the run on a before b has failed the three times that rest it
        reply = inner(body, n)
        reply.delay = 0.05
        return reply

    with OpenAIServer(good) as a, OpenAIServer(Reply.server_error()) as b:
        result = gen(
            a.base_url,
            "--base-url", a.base_url, "--base-url", b.base_url,
            "--out", str(tmp_path / "d"), "-n", "100", "--examples-per-request", "2", "--no-cache", "--concurrency", "2",
            "--max-retries", "1",
        )  # fmt: skip
        failed_at_b = b.count
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert run["accepted"] == 100 and run["failed_requests"] == 0  # every request b failed went to a
    by_url = {e["url"]: e for e in run["client"]["endpoints"]}
    assert by_url[b.base_url]["failures"] >= 3 and by_url[b.base_url]["rests"] >= 1
    assert by_url[a.base_url]["failures"] == 0 and by_url[a.base_url]["requests"] == run["teacher_requests"]
    assert by_url[a.base_url]["latency_p50_s"] > 0
    # resting works: b saw its failed requests (each at most a structured-output probe and one SDK retry), then
    # nothing more while it rested
    assert by_url[b.base_url]["failures"] <= failed_at_b <= 3 * by_url[b.base_url]["failures"]
    assert "resting" in " ".join(run["client"]["notes"]) and f"endpoint {b.base_url}" in result.stderr


def test_an_endpoints_file_sets_each_endpoints_concurrency(tmp_path, template_responder):
    inner = FaultyTeacher(template_responder, scenarios=("ok",))
    lock = threading.Lock()

    def slow(body, n):
        with lock:
            reply = inner(body, n)
        reply.delay = 0.05
        return reply

    with OpenAIServer(slow) as a, OpenAIServer(slow) as b:
        listing = tmp_path / "endpoints.txt"
        listing.write_text(f"# two replicas\n{a.base_url} 1\n{b.base_url} 3\n")
        result = gen(a.base_url, "--endpoints", str(listing), "--out", str(tmp_path / "d"), "-n", "60", "--no-cache")
        in_flight = (a.max_in_flight, b.max_in_flight)
        counts = (a.count, b.count)
    assert result.returncode == 0, result.stderr
    assert in_flight[0] == 1 and 1 <= in_flight[1] <= 3
    assert counts[0] > 0 and counts[1] > counts[0]  # the wider endpoint takes more of the work
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert [e["concurrency"] for e in run["client"]["endpoints"]] == [1, 3]
    assert sum(e["requests"] for e in run["client"]["endpoints"]) == run["teacher_requests"]


def test_a_bad_endpoints_file_is_one_line(tmp_path):
    listing = tmp_path / "endpoints.txt"
    listing.write_text("http://127.0.0.1:9/v1 many\n")
    result = gen("http://127.0.0.1:9/v1", "--endpoints", str(listing), "--out", str(tmp_path / "d"), "-n", "5")
    assert result.returncode == 2 and "expected 'URL [CONCURRENCY]'" in result.stderr
