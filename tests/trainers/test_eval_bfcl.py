"""``gen eval bfcl`` from the command line: predictions files, an OpenAI-compatible endpoint over real HTTP, a local
model; metrics.json in the shape the README gives; gold answers score 100% wherever BFCL's own checker allows it."""

from __future__ import annotations

import json

import pytest

from planforge.trainers.bfcl import CATEGORIES, gold_predictions, load_bfcl
from tests.support.openai_server import OpenAIServer, Reply


def _metrics(out):
    return json.loads((out / "metrics.json").read_text())


def test_gold_predictions_score_every_category(gen, tmp_path):
    items = load_bfcl(limit=15)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": k, "plan": v}) + "\n" for k, v in gold_predictions(items).items()))
    out = tmp_path / "eval"
    result = gen("eval", "bfcl", "--predictions", gold, "--limit", "15", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = _metrics(out)
    assert set(metrics["categories"]) == set(CATEGORIES)
    assert all(v == {"accuracy": 1.0, "correct": 15, "n": 15} for v in metrics["categories"].values())
    assert metrics["overall"] == 1.0 and metrics["summary"]["live_ast"] == 1.0
    assert json.loads(result.stdout.splitlines()[-1])["overall"] == 1.0
    assert "parallel_multiple" in result.stderr and "100.0%" in result.stderr
    verdicts = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(verdicts) == 15 * len(CATEGORIES) and all(v["ok"] for v in verdicts)


def test_categories_and_missing_predictions(gen, tmp_path):
    empty = tmp_path / "none.jsonl"
    empty.write_text(json.dumps({"id": "nothing", "plan": "[]"}) + "\n")
    out = tmp_path / "eval"
    result = gen("eval", "bfcl", "--predictions", empty, "--categories", "simple_python,irrelevance", "--limit", "4",
                 "--out", out)
    assert result.exit_code == 0, result.output
    categories = _metrics(out)["categories"]
    assert set(categories) == {"simple_python", "irrelevance"}
    assert categories["simple_python"]["correct"] == 0  # no prediction is a failure
    bad = gen("eval", "bfcl", "--predictions", empty, "--categories", "simple_java")
    assert bad.exit_code == 2 and "--categories: unknown simple_java" in bad.stderr
    neither = gen("eval", "bfcl")
    assert neither.exit_code == 2 and "give --model" in neither.stderr


@pytest.mark.integration
def test_an_endpoint_answers_over_http(gen, tmp_path):
    """A stand-in model that answers each request with BFCL's gold calls: the prompt is planforge's own (the
    functions listed in the system turn), and its answer is read as JSON calls."""
    items = load_bfcl(["simple_python", "parallel", "irrelevance"], limit=5)
    gold = gold_predictions(items)
    by_request = {item.request: gold[item.id] for item in items}

    def answer(body: dict, n: int) -> Reply:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        assert "Functions:" in system and "You are a planner" in system
        return Reply(by_request[user])

    with OpenAIServer(answer) as server:
        out = tmp_path / "eval"
        result = gen(
            "eval", "bfcl", "--model", "stand-in", "--base-url", server.base_url, "--limit", "5",
            "--categories", "simple_python,parallel,irrelevance", "--out", out,
            env={"OPENAI_API_KEY": "sk-test"},
        )
        assert server.count == 15
    assert result.exit_code == 0, result.output
    metrics = _metrics(out)
    assert metrics["overall"] == 1.0 and metrics["model"] == "openai:stand-in"
    assert "sk-test" not in (out / "run_config.json").read_text()


@pytest.mark.torch
def test_a_local_model_is_scored(gen, tmp_path, tiny_model_dir):
    out = tmp_path / "eval"
    result = gen(
        "eval", "bfcl", "--model", tiny_model_dir, "--categories", "simple_python,live_irrelevance", "--limit", "2",
        "--max-new-tokens", "24", "--out", out,
    )
    assert result.exit_code == 0, result.output
    metrics = _metrics(out)
    assert {c: v["n"] for c, v in metrics["categories"].items()} == {"simple_python": 2, "live_irrelevance": 2}
    assert 0.0 <= metrics["overall"] <= 1.0 and metrics["model"] == str(tiny_model_dir)
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 4
