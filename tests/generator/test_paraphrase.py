"""--mode paraphrase, diversity seeds and --verify replan|judge through real HTTP against the test server, with
exact counts: the stand-in teacher (tests.support.paraphrase_responder) knows which rewrites drop a literal and
which requests it replans wrongly."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from planforge.dataset.provenance import RunRecord
from planforge.errors import ConfigError
from planforge.generator.job import JobSettings, TeacherOptions, check_modes
from planforge.generator.sampler import FunctionSampler
from planforge.llms.endpoint import EndpointOptions
from planforge.plan import parse_plan
from planforge.prompting import plan_text
from planforge.recipes.loader import load_recipe
from tests.support.openai_server import OpenAIServer
from tests.support.paraphrase_responder import VARIANTS, ParaphraseResponder

pytestmark = pytest.mark.integration

RECIPE = load_recipe("mac_assistant")
MISMATCH = VARIANTS[4][0]  # the fifth rewrite of every request starts with this


def gen(server_url: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server_url}
    command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def rows(folder: Path) -> list[dict]:
    data = datasets.load_from_disk(str(folder))
    return [row for split in data.values() for row in split.to_list()]


def canonical(text: str, offered: list[str]) -> str:
    tools = RECIPE.tools.subset(offered)
    return plan_text(parse_plan(text, param_order=tools.param_order).bind(tools.param_order), tools)


PARAPHRASE = ["--mode", "paraphrase", "--model", "test-model", "--no-cache", "--concurrency", "2", "-n", "100000"]


def test_rewrites_keep_the_seed_plan_and_those_dropping_a_literal_are_counted(tmp_path, template_responder):
    teacher = ParaphraseResponder(drop_every=2)
    with OpenAIServer(teacher) as server:
        result = gen(server.base_url, tmp_path / "d", *PARAPHRASE, "--max-requests", "8", "--examples-per-request", "3")
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    stats = run["stats"]
    assert stats["requests"] == 8 and stats["proposed"] == 8 * 3
    # the first rewrite of requests 0, 2, 4, 6 drops a name or a title, except on a no-call request (mac_assistant's
    # sampling.no_call_share; request 4 of seed 0), whose empty plan needs no literal
    sampler = FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=0)
    assert [seq for seq in range(8) if sampler.is_no_call(seq)] == [4]
    assert teacher.dropped == 3
    assert run["rejected"] == {"literal_missing": 3}
    assert stats["valid"] == 24 - 3  # every kept rewrite's plan is valid: it is the seed's
    assert run["accepted"] == stats["valid"] - stats["duplicates_exact"] - stats["duplicates_near"]
    assert run["mode"] == "paraphrase" and run["seeds_from"] == "template" and run["teacher"] == "paraphrase"
    assert run["tokens_per_accepted"]["teacher"] > 0
    found = rows(tmp_path / "d")
    assert len(found) == run["accepted"]
    for row in found:
        offered = [t["function"]["name"] for t in row["tools"]]
        assert "that thing" not in row["query"]
        assert row["meta"]["teacher"] == "paraphrase" and row["meta"]["paraphrase_of"]
        assert row["query"] != row["meta"]["paraphrase_of"]
        assert canonical(teacher.plans[row["query"]], offered) == row["plan_text"]  # the plan the seed came with
        assert row["meta"]["no_call"] == (row["plan_text"] == "1. join()")  # a no-call seed's rewrites stay no-call
    assert any(row["meta"]["no_call"] for row in found)
    personas, scenarios = RECIPE.seeds["personas"], RECIPE.seeds["scenarios"]
    assert all(r["meta"]["persona"] in personas and r["meta"]["scenario"] in scenarios for r in found)


def test_paraphrase_prompts_cost_fewer_tokens_per_accepted_example_than_free_mode(tmp_path, template_responder):
    teacher = ParaphraseResponder(template_responder)
    with OpenAIServer(teacher) as server:
        common = ["--model", "test-model", "--no-cache", "-n", "60", "--seed", "1"]
        assert gen(server.base_url, tmp_path / "free", *common).returncode == 0
        assert gen(server.base_url, tmp_path / "para", *common, "--mode", "paraphrase").returncode == 0
    free, para = (json.loads((tmp_path / x / "run.json").read_text()) for x in ("free", "para"))
    assert free["accepted"] == para["accepted"] == 60
    assert free["mode"] == "free" and "tokens_per_accepted" in free
    assert para["tokens_per_accepted"]["teacher"] < free["tokens_per_accepted"]["teacher"] / 2
    assert free["diversity"] == {"personas": 30, "scenarios": 30}


def test_replan_keeps_only_examples_whose_blind_plan_is_isomorphic(tmp_path, template_responder):
    teacher = ParaphraseResponder(mismatch_prefix=MISMATCH)
    with OpenAIServer(teacher) as server:
        result = gen(server.base_url, tmp_path / "d", *PARAPHRASE, "--max-requests", "6", "--verify", "replan")
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    verify, stats = run["verify"], run["stats"]
    assert stats["proposed"] == stats["valid"] == 6 * 5
    assert teacher.kinds["replan"] == 30 and teacher.mismatched == 6
    assert verify["method"] == "replan" and verify["model"] == "test-model"
    assert (verify["checked"], verify["agreed"], verify["replan_mismatch"], verify["replan_failed"]) == (30, 24, 6, 0)
    assert run["rejected"] == {"replan_mismatch": 6}
    assert run["accepted"] == 24 - stats["duplicates_exact"] - stats["duplicates_near"]
    assert not any(row["query"].startswith(MISMATCH) for row in rows(tmp_path / "d"))
    record = RunRecord.from_dict(run)
    assert [stage for stage, _ in record.funnel] == ["proposed", "parsed", "valid", "verified", "accepted"]
    assert dict(record.funnel)["verified"] == 24
    assert "verify replan (test-model)" in result.stderr and "6 mismatched" in result.stderr


def test_judge_keeps_every_example_with_its_verdict_in_meta(tmp_path, template_responder):
    teacher = ParaphraseResponder(mismatch_prefix=MISMATCH)
    with OpenAIServer(teacher) as server:
        args = [*PARAPHRASE, "--max-requests", "4", "--verify", "judge", "--verify-model", "judge-model"]
        result = gen(server.base_url, tmp_path / "d", *args)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    verify = run["verify"]
    assert (verify["checked"], verify["yes"], verify["no"], verify["unknown"], verify["kept"]) == (20, 16, 4, 0, 20)
    assert verify["model"] == "judge-model" and teacher.kinds["judge"] == 20
    models = {r["model"] for r in server.requests if "A user asked" in r["messages"][-1]["content"]}
    assert models == {"judge-model"}
    found = rows(tmp_path / "d")
    assert found and all(
        row["meta"]["judge_verdict"] == ("no" if row["query"].startswith(MISMATCH) else "yes") for row in found
    )
    assert {row["meta"]["judge_reason"] for row in found} <= {"matches", "it asks for another thing"}


def test_seeds_from_a_dataset_keep_its_functions_and_now(tmp_path):
    source = tmp_path / "source"
    made = subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(source), "-n", "12",
         "--teacher", "template", "--seed", "3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    by_query = {row["query"]: row for row in rows(source)}
    teacher = ParaphraseResponder()
    with OpenAIServer(teacher) as server:
        args = [*PARAPHRASE, "--max-requests", "5", "--examples-per-request", "2", "--from-dataset", str(source)]
        result = gen(server.base_url, tmp_path / "d", *args)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert run["seeds_from"] == str(source) and run["stats"]["proposed"] == 10
    found = rows(tmp_path / "d")
    assert found
    for row in found:
        seed = by_query[row["meta"]["paraphrase_of"]]
        assert row["meta"]["now"] == seed["meta"]["now"] and row["plan_text"] == seed["plan_text"]
        assert [t["function"]["name"] for t in row["tools"]] == [t["function"]["name"] for t in seed["tools"]]


def test_free_mode_prompts_carry_the_recipe_persona_and_scenario(tmp_path, template_responder):
    teacher = ParaphraseResponder(template_responder)
    with OpenAIServer(teacher) as server:
        result = gen(server.base_url, tmp_path / "d", "--model", "test-model", "--no-cache", "-n", "20")
        prompts = [r["messages"][1]["content"] for r in server.requests]
    assert result.returncode == 0, result.stderr
    said = {p.split("The person asking: ", 1)[1].split(".", 1)[0] for p in prompts if "The person asking: " in p}
    assert len(said) == len(prompts) and said <= set(RECIPE.seeds["personas"])
    found = rows(tmp_path / "d")
    assert {row["meta"]["persona"] for row in found} <= said and all(row["meta"]["scenario"] for row in found)


def settings(**kw) -> JobSettings:
    teacher = kw.pop("teacher", TeacherOptions("openai", EndpointOptions(model="m", base_url="http://127.0.0.1:9/v1")))
    return JobSettings("mac_assistant", Path("unused"), teacher=teacher, **kw)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"mode": "paraphrase", "teacher": TeacherOptions("template")}, "--mode paraphrase needs a teacher LLM"),
        ({"mode": "rewrite"}, "--mode must be free or paraphrase"),
        ({"from_dataset": Path(".")}, "--from-dataset gives paraphrase seeds: it needs --mode paraphrase"),
        ({"mode": "paraphrase", "from_dataset": Path("/no/such")}, "no such dataset folder"),
        ({"verify": "replan", "teacher": TeacherOptions("template")}, "--verify replan needs a model endpoint"),
        ({"verify": "vibes"}, "--verify must be replan or judge"),
        ({"verify_model": "m"}, "give --verify replan|judge"),
    ],
)
def test_bad_flags_are_one_line_config_errors(given, message):
    with pytest.raises(ConfigError, match=message) as caught:
        check_modes(settings(**given))
    assert "\n" not in str(caught.value)


def test_paraphrase_with_the_template_teacher_exits_2_with_one_line(tmp_path):
    command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(tmp_path / "d")]
    result = subprocess.run([*command, "--teacher", "template", "--mode", "paraphrase"], capture_output=True, text=True)
    assert result.returncode == 2 and "--mode paraphrase needs a teacher LLM" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
