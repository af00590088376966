"""The openai teacher through real HTTP against an OpenAI-compatible server started by the test:
slow replies, 429 + Retry-After, 500, malformed bodies and content, hallucinated functions, cycles."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections import Counter

import datasets
import pytest

from planforge.secrets import scrub_text, scrub_url
from tests.support.openai_server import OpenAIServer, Reply

pytestmark = pytest.mark.integration

SCENARIOS = ("ok", "rate_limit", "server_error", "slow", "malformed_body", "bad_content", "hallucinated", "cycle")


class FaultyTeacher:
    """Answers each distinct request (by its messages) with one scenario, in turn; retries of a request
    see the same scenario, and rate limits / server errors clear on the second attempt."""

    def __init__(self, template_responder, scenarios=SCENARIOS):
        self.template = template_responder
        self.scenarios = scenarios
        self.lock = threading.Lock()
        self.scenario_of: dict[str, str] = {}
        self.attempts: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()  # per distinct request, counted on its final answer
        self.saw_response_format = 0

    def __call__(self, body: dict, n: int) -> Reply:
        key = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
        with self.lock:
            if key not in self.scenario_of:
                self.scenario_of[key] = self.scenarios[len(self.scenario_of) % len(self.scenarios)]
            scenario = self.scenario_of[key]
            self.attempts[key] += 1
            first = self.attempts[key] == 1
            self.saw_response_format += "response_format" in body
        if scenario == "rate_limit" and first:
            return Reply.rate_limited(retry_after=1)
        if scenario == "server_error" and first:
            return Reply.server_error()
        if scenario == "malformed_body":
            return Reply.malformed()
        if scenario == "bad_content":
            return Reply("Sorry, I can only help with cooking questions.")
        examples = self.template.examples(body)
        offered = self.template.request_from_prompt(body).tools
        if scenario == "hallucinated":
            examples[0]["plan"] = '1. send_telegram("Sid", "hi")\n2. join()'
            examples[1]["plan"] = '1. book_uber("SFO")\n2. join()'
        if scenario == "cycle":
            f = next(iter(offered))
            examples[0]["plan"] = f'1. {f}("$2")\n2. {f}("$1")\n3. join()'
        return Reply(json.dumps({"examples": examples}), delay=0.3 if scenario == "slow" else 0.0)


def gen(server_url: str, *args: str, key: str = "test-key") -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": key, "OPENAI_BASE_URL": server_url}
    return subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_faults_are_retried_or_counted_exactly(tmp_path, template_responder):
    teacher = FaultyTeacher(template_responder)
    with OpenAIServer(teacher) as server:
        result = gen(
            server.base_url,
            "--out",
            str(tmp_path / "d"),
            "-n",
            "100000",
            "--max-requests",
            "24",
            "--examples-per-request",
            "3",
            "--concurrency",
            "8",
            "--model",
            "test-model",
            "--cache-dir",
            str(tmp_path / "cache"),
        )
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    stats = run["stats"]
    assert run["stop_reason"] == "max requests reached"
    assert stats["requests"] == 24 and stats["failed_requests"] == 3  # malformed bodies: not JSON, not retried
    assert stats["responses"] == 21 and stats["rejected_responses"] == 3  # prose instead of JSON
    assert run["rejected"]["unknown_function"] == 3 * 2
    assert run["rejected"]["cycle"] == 3
    assert stats["proposed"] == 18 * 3  # six scenarios answer with three examples each
    assert run["accepted"] == stats["valid"] - stats["duplicates_exact"] - stats["duplicates_near"]
    assert run["tokens"]["prompt"] > 0 and teacher.saw_response_format > 0
    # 429s and 500s were retried by the client: two attempts for each of those requests
    retried = [k for k, s in teacher.scenario_of.items() if s in ("rate_limit", "server_error")]
    assert retried and all(teacher.attempts[k] == 2 for k in retried)


def test_run_reaches_the_requested_count_through_faults(tmp_path, template_responder):
    with OpenAIServer(FaultyTeacher(template_responder)) as server:
        result = gen(
            server.base_url,
            "--out",
            str(tmp_path / "d"),
            "-n",
            "30",
            "--examples-per-request",
            "3",
            "--concurrency",
            "4",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--splits",
            "validation=3,test=3",
        )
    assert result.returncode == 0, result.stderr
    data = datasets.load_from_disk(str(tmp_path / "d"))
    assert sum(len(s) for s in data.values()) == 30 and len(data["test"]) == 3
    assert json.loads((tmp_path / "d" / "run.json").read_text())["accepted"] == 30


def test_rerun_makes_zero_teacher_calls_and_the_same_dataset(tmp_path, template_responder):
    teacher = FaultyTeacher(template_responder, scenarios=("ok",))
    with OpenAIServer(teacher) as server:
        args = ["-n", "40", "--cache-dir", str(tmp_path / "cache"), "--seed", "3"]
        assert gen(server.base_url, "--out", str(tmp_path / "a"), *args).returncode == 0
        calls = server.count
        second = gen(server.base_url, "--out", str(tmp_path / "b"), *args)
        assert second.returncode == 0, second.stderr
        assert server.count == calls  # every reply came from the cache
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert run["stats"]["cached_responses"] == run["stats"]["responses"] and run["cost_usd"] == 0
    a, b = (datasets.load_from_disk(str(tmp_path / x)) for x in "ab")
    assert a["train"].to_list() == b["train"].to_list()


def test_structured_output_falls_back_when_the_endpoint_refuses_it(tmp_path, template_responder):
    plain = FaultyTeacher(template_responder, scenarios=("ok",))

    def responder(body, n):
        if "response_format" in body:
            return Reply.error(
                400, "response_format of type json_schema is not supported by this model", type="invalid_request_error"
            )
        return plain(body, n)

    with OpenAIServer(responder) as server:
        result = gen(server.base_url, "--out", str(tmp_path / "d"), "-n", "10", "--no-cache", "--concurrency", "1")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "d" / "run.json").read_text())["accepted"] == 10


def test_wrong_key_is_a_clear_error_and_never_printed(tmp_path, template_responder):
    secret = "sk-test-0123456789abcdefghijklmnop"
    with OpenAIServer(FaultyTeacher(template_responder, ("ok",)), api_key="the-right-key") as server:
        result = gen(server.base_url, "--out", str(tmp_path / "d"), "-n", "5", "--no-cache", key=secret)
        sent = server.unauthorized + server.count
    assert result.returncode == 2
    assert "refused the API key" in result.stderr and "nothing was kept" in result.stderr
    assert "rerun with --resume" not in result.stderr  # no finished request to resume from
    assert sent == 1  # the first request alone, not a whole window of 64
    assert "Traceback" not in result.stderr
    for text in (result.stdout, result.stderr, *(p.read_text() for p in (tmp_path / "d").rglob("*") if p.is_file())):
        assert secret not in text


def test_unreachable_server_is_a_clear_error(tmp_path):
    result = gen("http://127.0.0.1:9/v1", "--out", str(tmp_path / "d"), "-n", "5", "--no-cache", "--max-retries", "0")
    assert result.returncode == 2
    assert "cannot reach http://127.0.0.1:9/v1: connection refused" in result.stderr
    assert "timed out" not in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "d" / "checkpoint.jsonl").exists()


def test_credentials_in_the_base_url_are_refused_and_never_printed(tmp_path, template_responder):
    with OpenAIServer(FaultyTeacher(template_responder, ("ok",))) as server:
        leaky = server.base_url.replace("http://", "http://user:hunter2pass@")
        result = gen(leaky, "--out", str(tmp_path / "d"), "-n", "5", "--no-cache")
    assert result.returncode == 2 and "carries credentials" in result.stderr
    assert "hunter2pass" not in result.stderr + result.stdout and "[REDACTED]" in result.stderr


def test_scrubbing():
    assert scrub_url("https://u:p4ss@host/v1?api_key=abc&x=1") == "https://[REDACTED]@host/v1?api_key=[REDACTED]&x=1"
    os.environ["PLANFORGE_TEST_TOKEN"] = "tok-1234567890"
    try:
        assert scrub_text("--key sk-abcdefghijklmnopqrstuv and tok-1234567890") == "--key [REDACTED] and [REDACTED]"
    finally:
        del os.environ["PLANFORGE_TEST_TOKEN"]


def test_a_request_waiting_out_a_retry_holds_up_nothing_and_the_dataset_is_the_same(tmp_path, template_responder):
    """The second request is told to come back in 2 s; the run goes on asking (far past 2 x concurrency), then
    commits in request order: the dataset is the one of a run without the wait."""
    clean = FaultyTeacher(template_responder, scenarios=("ok",))
    arrivals: list[str] = []
    slow: list[str] = []

    def responder(body, n):
        key = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
        with clean.lock:
            arrivals.append(key)
            first_time = arrivals.count(key) == 1
            if len(set(arrivals)) == 2 and first_time and not slow:
                slow.append(key)
        if slow and key == slow[0] and first_time:
            return Reply.rate_limited(retry_after=2)
        return clean(body, n)

    args = ["-n", "150", "--examples-per-request", "3", "--concurrency", "2", "--no-cache", "--seed", "2"]
    with OpenAIServer(responder) as server:
        assert gen(server.base_url, "--out", str(tmp_path / "waited"), *args).returncode == 0
    retried_at = [i for i, key in enumerate(arrivals) if key == slow[0]]
    assert len(retried_at) == 2 and retried_at[1] - retried_at[0] > 20  # 2 x concurrency would be 4
    with OpenAIServer(FaultyTeacher(template_responder, scenarios=("ok",))) as server:
        assert gen(server.base_url, "--out", str(tmp_path / "clean"), *args).returncode == 0
    waited, reference = (datasets.load_from_disk(str(tmp_path / x)) for x in ("waited", "clean"))
    for split in reference:
        assert waited[split].to_list() == reference[split].to_list()


def test_replies_assessed_in_worker_processes_give_the_same_dataset(tmp_path, template_responder):
    args = ["-n", "60", "--examples-per-request", "3", "--concurrency", "4", "--no-cache", "--seed", "5"]
    for name, workers in (("inline", "0"), ("pool", "2")):
        with OpenAIServer(FaultyTeacher(template_responder, scenarios=("ok",))) as server:
            result = gen(server.base_url, "--out", str(tmp_path / name), *args, "--workers", workers)
            assert result.returncode == 0, result.stderr
    inline, pool = (datasets.load_from_disk(str(tmp_path / x)) for x in ("inline", "pool"))
    assert {s: inline[s].to_list() for s in inline} == {s: pool[s].to_list() for s in pool}
