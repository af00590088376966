"""`gen run recipe mac_assistant` end to end with the offline template teacher."""

import json
import os
import signal
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import datasets
import pytest

from planforge.dataset.features import PLAN_FEATURES
from planforge.dataset.rows import row_plan, row_tools
from planforge.generator.dedup import jaccard
from planforge.recipes.loader import load_recipe
from planforge.validators import validate

pytestmark = pytest.mark.slow

ENV = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}


def gen(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planforge", *args], capture_output=True, text=True, env=ENV, timeout=300, **kwargs
    )


def test_offline_run_writes_a_valid_dataset_and_run_json(tmp_path):
    out = tmp_path / "mac"
    result = gen("run", "recipe", "mac_assistant", "--out", str(out), "-n", "300", "--splits", "validation=30,test=30")
    assert result.returncode == 0, result.stderr
    assert "offline template teacher" in result.stderr and "run summary" in result.stderr
    data = datasets.load_from_disk(str(out))
    assert {k: len(v) for k, v in data.items()} == {"train": 240, "validation": 30, "test": 30}
    assert data["train"].features == PLAN_FEATURES
    recipe = load_recipe("mac_assistant")
    ids = set()
    for split in data.values():
        for row in split:
            ids.add(row["id"])
            tools, plan = row_tools(row), row_plan(row)
            assert (
                validate(
                    row["plan_text"],
                    tools,
                    require_join=True,
                    rules=recipe.rule_functions(),
                    context={"query": row["query"], "now": row["meta"]["now"]},
                    no_call=row["meta"]["no_call"],
                )
                == []
            )
            assert bool(plan.calls) != row["meta"]["no_call"]  # the empty plan exactly on no-call rows
            assert row["target_tools"] == list(dict.fromkeys(plan.function_names()))
            assert set(row["target_tools"]) <= set(tools) and row["meta"]["distractors"]
            assert [m["role"] for m in row["prompt"]] == ["system", "user"] and row["prompt"][1]["content"] == row[
                "query"
            ]
            assert row["completion"] == [{"role": "assistant", "content": row["plan_text"]}]  # the plan, once
            assert [t["function"]["name"] for t in row["tools"]] == list(tools)  # OpenAI entries
    assert len(ids) == 300
    run = json.loads((out / "run.json").read_text())
    assert run["accepted"] == 300 and run["requested"] == 300 and run["teacher"] == "template"
    assert run["recipe"]["name"] == "mac_assistant" and len(run["recipe"]["hash"]) == 64
    assert run["splits"] == {"train": 240, "validation": 30, "test": 30} and run["seed"] == 0
    assert run["valid"] >= run["accepted"] and run["stop_reason"] == "target reached"
    # the summary's coverage is gen stats' own figures for the dataset written
    stats = json.loads(gen("stats", str(out), "--json").stdout)
    assert run["coverage"] == {key: stats[key] for key in run["coverage"]} and len(run["coverage"]) == 5
    assert "coverage (gen stats)" in result.stderr


def test_same_seed_same_dataset_other_seed_other_dataset(tmp_path):
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert (
            gen("run", "recipe", "mac_assistant", "--out", str(tmp_path / name), "-n", "120", "--seed", seed).returncode
            == 0
        )
    load = {name: datasets.load_from_disk(str(tmp_path / name)) for name in "abc"}
    for split in ("train", "validation", "test"):
        assert load["a"][split].to_list() == load["b"][split].to_list()
    assert load["a"]["train"]["id"] != load["c"]["train"]["id"]


def test_splits_never_share_a_near_duplicate(tmp_path):
    out = tmp_path / "d"
    assert (
        gen(
            "run",
            "recipe",
            "mac_assistant",
            "--out",
            str(out),
            "-n",
            "400",
            "--near-dup-threshold",
            "0.35",
            "--splits",
            "validation=0.2,test=0.2",
        ).returncode
        == 0
    )
    data = datasets.load_from_disk(str(out))
    run = json.loads((out / "run.json").read_text())
    assert run["duplicates"]["near"] > 0  # the threshold bites on template paraphrases
    for a, b in combinations(("train", "validation", "test"), 2):
        for q in data[a]["query"]:
            assert all(jaccard(q, r) < 0.35 for r in data[b]["query"]), q


def test_kill_minus_nine_then_resume_gives_the_uninterrupted_dataset(tmp_path):
    out = tmp_path / "killed"
    args = ["run", "recipe", "mac_assistant", "--out", str(out), "-n", "4000", "--seed", "5"]
    process = subprocess.Popen(
        [sys.executable, "-m", "planforge", *args], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = out / "checkpoint.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if checkpoint.exists() and checkpoint.stat().st_size > 100_000:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "run.json").exists()  # it died mid-run
    kept = sum(len(json.loads(line).get("examples", [])) for line in checkpoint.open() if line.endswith("\n"))
    assert 0 < kept < 4000
    resumed = gen(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["resumed"] is True and run["accepted"] == 4000
    data = datasets.load_from_disk(str(out))
    ids = [i for split in data.values() for i in split["id"]]
    assert len(ids) == len(set(ids)) == 4000
    clean = tmp_path / "clean"
    assert gen(*args[:4], str(clean), *args[5:]).returncode == 0
    reference = datasets.load_from_disk(str(clean))
    for split in ("train", "validation", "test"):
        assert data[split]["id"] == reference[split]["id"]


def test_dry_run_prints_the_prompt_and_calls_nothing(tmp_path):
    result = gen("run", "recipe", "mac_assistant", "--out", str(tmp_path / "x"), "--dry-run")
    assert result.returncode == 0 and "template teacher" in result.stdout and "dry run" in result.stderr
    assert not (tmp_path / "x").exists()


def test_bad_flags_are_one_line_errors(tmp_path):
    for args, message in (
        (["--splits", "dev=0.1"], "unknown split 'dev'"),
        (["--teacher", "gpt"], "--teacher must be auto, openai or template"),
        (["--teacher", "openai"], "no API key: set OPENAI_API_KEY"),
        (["--price", "cheap"], "--price must be PROMPT,COMPLETION"),
    ):
        result = gen("run", "recipe", "mac_assistant", "--out", str(tmp_path / "x"), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not Path(tmp_path / "x").exists()
