"""The openai teacher against a server that behaves like llama-cpp-python's (json_schema refused with HTTP 500,
json_object with the schema taken), with what a small model writes: replies cut at max_tokens, empty example
lists, the wrong shape, raw newlines inside strings; and runs that accept nothing or time out."""

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest

from planforge.generator.cli import rejection_rate
from planforge.generator.run import RunStats
from tests.support.openai_server import LlamaCppFormats, OpenAIServer, Reply

pytestmark = pytest.mark.integration

SCENARIOS = ("ok", "cut", "empty", "newline", "shape")


def gen(server_url: str, out, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def plain(text: str) -> str:
    """The summary's words with the table's lines and the spacing gone."""
    return " ".join(text.replace("│", " ").split())


class SmallModel:
    """Answers each distinct request (by its messages) with one scenario, in turn, from valid examples."""

    def __init__(self, template_responder):
        self.template = template_responder
        self.lock = threading.Lock()
        self.scenario_of: dict[str, str] = {}
        self.bodies: list[dict] = []

    def __call__(self, body: dict, n: int) -> Reply:
        key = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
        with self.lock:
            scenario = self.scenario_of.setdefault(key, SCENARIOS[len(self.scenario_of) % len(SCENARIOS)])
            self.bodies.append(body)
        examples = self.template.examples(body)
        assert len(examples) == 3
        if scenario == "cut":  # cut inside the third example: the first two are complete
            at = len(json.dumps({"examples": examples[:2]})) - 2 + 12
            return Reply.cut({"examples": examples}, at)
        if scenario == "empty":
            return Reply('{"examples": []}')
        if scenario == "shape":
            return Reply(json.dumps({"example1": examples}))
        text = json.dumps({"examples": examples})
        if scenario == "newline":  # the plans' newlines raw inside their strings, as a grammar lets through
            text = text.replace("\\n", "\n")
            assert "\n" in text
        return Reply(text)


def test_a_llama_cpp_teacher_settles_on_json_object_with_the_schema_and_every_reply_is_counted(
    tmp_path, template_responder
):
    model = SmallModel(template_responder)
    formats = LlamaCppFormats(model)
    args = ["-n", "1000", "--max-requests", "10", "--examples-per-request", "3", "--concurrency", "2"]
    args += ["--no-cache", "--max-tokens", "300", "--temperature", "0.2"]
    with OpenAIServer(formats) as server:
        result = gen(server.base_url, tmp_path / "d", *args)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    stats = run["stats"]
    assert formats.seen == ["json_schema"] + ["json_object+schema"] * 10
    assert run["client"]["structured_output"] == "json_object+schema"
    assert "refused response_format json_schema (HTTP 500); using json_object+schema" in run["client"]["notes"][0]
    assert all((b["max_tokens"], b["temperature"]) == (300, 0.2) for b in model.bodies)
    assert run["teacher_params"] == {"temperature": 0.2, "max_tokens": 300}
    assert stats["responses"] == 10 and stats["failed_requests"] == 0 and run["failures"] == {}
    assert stats["truncated_responses"] == run["truncated_responses"] == 2
    assert stats["salvaged_responses"] == 2
    assert run["rejected_replies"] == {"empty_examples": 2, "wrong_shape": 2} and stats["rejected_responses"] == 4
    assert stats["proposed"] == 2 * 3 + 2 * 2 + 2 * 3  # ok, cut (two salvaged), raw newlines
    assert stats["valid"] == stats["proposed"]
    summary = plain(result.stderr)
    for shown in (
        "structured output json_object with the schema",
        "rejected reply: empty_examples 2",
        "rejected reply: wrong_shape 2",
        "replies cut at max_tokens 2 (raise --max-tokens)",
    ):
        assert shown in summary, shown
    assert "cache" not in result.stderr.lower()  # --no-cache: nothing said of it


def test_a_run_that_accepts_nothing_says_why_and_writes_no_dataset(tmp_path):
    with OpenAIServer(LlamaCppFormats(Reply('{"examples": []}'))) as server:
        result = gen(server.base_url, tmp_path / "d", "-n", "5", "--max-requests", "3", "--no-cache")
    assert result.returncode == 1, result.stderr
    message = plain(result.stderr)
    assert "nothing was accepted (max requests reached): 3 replies held no example (empty_examples 3)" in message
    assert "No dataset was written" in message and "DatasetDict" not in message and "wrote" not in message
    assert "cache" not in message.lower()
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert run["accepted"] == 0 and run["rejected_replies"] == {"empty_examples": 3}
    assert not (tmp_path / "d" / "dataset_dict.json").exists()


def test_timeouts_are_counted_and_say_what_to_change(tmp_path):
    """Every reply comes after the timeout: the first request is tried once more, both fail as timeouts."""
    with OpenAIServer(Reply('{"examples": []}', delay=3)) as server:
        result = gen(
            server.base_url, tmp_path / "d", "-n", "5", "--max-requests", "2", "--no-cache",
            "--timeout", "1", "--max-retries", "0", "--concurrency", "1",
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert run["failed_requests"] == 2 and run["failures"] == {"timeout": 2}
    assert "the first request timed out after 1 s; tried it once more" in run["client"]["notes"][0]
    message = plain(result.stderr)
    assert "failed: timeout 2 (timed out after 1 s: lower --concurrency or raise --timeout)" in message
    assert "2 of 2 requests failed (timeout 2) (lower --concurrency or raise --timeout)" in message


def test_the_rejection_rate_counts_replies_without_an_example():
    stats = RunStats(proposed=6, valid=3, rejected_responses=4)
    assert rejection_rate(stats) == pytest.approx((3 + 4) / (6 + 4))
    assert rejection_rate(RunStats(rejected_responses=2)) == 1.0 and rejection_rate(RunStats()) == 0.0


def test_messages_say_nothing_of_the_cache_without_it_and_a_dry_run_keeps_long_lines(tmp_path, template_responder):
    with OpenAIServer(SmallModel(template_responder)) as server:
        args = ["-n", "3", "--examples-per-request", "3", "--no-cache"]
        assert gen(server.base_url, tmp_path / "d", *args).returncode == 0
        again = gen(server.base_url, tmp_path / "d", *args, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "starting over (--overwrite)" in again.stderr and "cache" not in again.stderr.lower()
    env = {**os.environ, "COLUMNS": "40"}
    env.pop("OPENAI_API_KEY", None)
    dry = subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(tmp_path / "dry")]
        + ["--model", "m", "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    assert max(len(line) for line in dry.stdout.splitlines()) > 100  # the prompt's lines as written, not at 40
