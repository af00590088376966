"""`gen pairs` end to end: corruptions, an OpenAI-compatible student (a real local HTTP server), a local
transformers student (a tiny Llama), and TRL's DPOTrainer reading the result as is."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest

from planforge.dataset.features import PAIR_FEATURES
from planforge.dataset.rows import row_tools
from planforge.pairs.corruptions import KINDS
from planforge.prompting import with_function_list
from planforge.recipes.loader import recipe_key_arguments, recipe_rules
from planforge.tools import tools_from_json
from planforge.validators import KeyArguments, judge
from tests.support.openai_server import OpenAIServer, Reply

RULES = recipe_rules("mac_assistant")
KEYS = KeyArguments.of(recipe_key_arguments("mac_assistant"), free_text="ignore")


def _check_rows(pairs: datasets.DatasetDict, plans: datasets.DatasetDict) -> None:
    """Every row: chosen = the example's validated plan, rejected really wrong, verdicts as recorded."""
    by_id = {(split, row["id"]): row for split, rows in plans.items() for row in rows}
    for split, rows in pairs.items():
        for row in rows:
            example = by_id[(split, row["example_id"])]  # pairs keep the example's split
            tools = tools_from_json(row["tools"])
            assert list(tools) == list(row_tools(example))
            assert row["prompt"] == example["prompt"]  # the SFT prompt, as is
            assert row["chosen"] == example["completion"]
            context = {"query": row["query"], "now": row["meta"]["now"]}
            chosen = judge(row["chosen"][0]["content"], tools, rules=RULES, context=context)
            rejected = judge(
                row["rejected"][0]["content"],
                tools,
                reference=chosen.plan,
                rules=RULES,
                context=context,
                key_arguments=KEYS,
            )
            assert chosen.valid and row["chosen_valid"] and row["chosen_errors"] == []
            assert not rejected.valid or not rejected.equivalent or rejected.arguments_wrong  # really wrong
            assert row["rejected_valid"] == rejected.valid
            assert row["rejected_equivalent"] == bool(rejected.equivalent)
            assert [e["code"] for e in row["rejected_errors"]] == [e["code"] for e in rejected.error_dicts()]
            assert row["rejected"][0]["role"] == "assistant"
            assert row["rejected"][0]["content"] != row["chosen"][0]["content"]


def test_corruption_pairs_cover_every_kind_and_are_reproducible(gen, plans_dir, tmp_path):
    out = tmp_path / "pairs"
    result = gen("pairs", plans_dir, "--out", out, "--rejected", "corruptions")
    assert result.exit_code == 0, result.output
    pairs, plans = datasets.load_from_disk(str(out)), datasets.load_from_disk(str(plans_dir))
    assert list(pairs) == list(plans) and pairs["train"].features == PAIR_FEATURES
    assert {s: len(r) for s, r in pairs.items()} == {s: len(r) for s, r in plans.items()}
    _check_rows(pairs, plans)
    report = json.loads((out / "pairs.json").read_text())
    assert report["total_pairs"] == 40 and report["by_source"] == {"corruption": 40}
    assert set(report["by_kind"]) == set(KINDS) and max(report["by_kind"].values()) <= 6  # balanced: 40 / 8 = 5
    rows = [r for split in pairs.values() for r in split]
    assert {r["rejection_source"] for r in rows} == {"corruption"}
    assert len({r["id"] for r in rows}) == len(rows)

    again = tmp_path / "again"
    assert gen("pairs", plans_dir, "--out", again, "--rejected", "corruptions").exit_code == 0
    assert datasets.load_from_disk(str(again))["train"]["id"] == pairs["train"]["id"]
    two = tmp_path / "two"
    args = ("--rejected", "corruptions", "--per-example", "2", "--kinds", "missing_step,type_error")
    assert gen("pairs", plans_dir, "--out", two, *args, "--splits", "test").exit_code == 0
    only_test = datasets.load_from_disk(str(two))
    assert list(only_test) == ["test"] and len(only_test["test"]) == 4
    assert Counter(only_test["test"]["rejection_kind"]) == {"missing_step": 2, "type_error": 2}


def _student_server(plans: datasets.DatasetDict):
    """An OpenAI-compatible server answering each request by its user turn: the right plan for one third of
    the examples, a broken text for another third, and a plan missing its last call for the rest."""
    by_query = {row["query"]: row for split in plans.values() for row in split}
    kinds: dict[str, str] = {}

    def responder(request, n):
        query = request["messages"][-1]["content"]
        row = by_query[query]
        which = ("match", "garbage", "partial")[sorted(by_query).index(query) % 3]
        kinds[query] = which
        if which == "match":
            return Reply(content=f"```\n{row['plan_text']}\n```")
        if which == "garbage":
            return Reply(content="Sure! I would call get_email_address for that.")
        lines = row["plan_text"].splitlines()
        return Reply(content="\n".join(lines[:-2] + [f"{len(lines) - 1}. join()"]) if len(lines) > 2 else "1. join()")

    return OpenAIServer(responder), kinds


@pytest.mark.integration
def test_openai_student_pairs_skip_matches_and_keep_wrong_plans(gen, plans_dir, tmp_path):
    plans = datasets.load_from_disk(str(plans_dir))
    server, kinds = _student_server(plans)
    out = tmp_path / "student"
    with server:
        result = gen(
            "pairs",
            plans_dir,
            "--out",
            out,
            "--rejected",
            "student",
            "--student",
            "openai",
            "--model",
            "tiny-student",
            "--base-url",
            server.base_url,
            "--concurrency",
            "4",
        )
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert len(requests) == 40 and {r["model"] for r in requests} == {"tiny-student"}
    first = plans["train"][0]
    sent = next(r for r in requests if r["messages"][-1]["content"] == first["query"])
    assert sent["messages"] == with_function_list(first["prompt"], row_tools(first))  # the SFT prompt, as text
    pairs = datasets.load_from_disk(str(out))
    _check_rows(pairs, plans)
    report = json.loads((out / "pairs.json").read_text())
    matches = sum(1 for k in kinds.values() if k == "match")
    assert report["skipped"] == {"student_matched": matches}
    assert report["total_pairs"] == 40 - matches and report["student"] == "openai:tiny-student"
    rows = [r for split in pairs.values() for r in split]
    by_kind = {kinds[r["query"]]: r for r in rows}
    assert set(by_kind) == {"garbage", "partial"}
    garbage = by_kind["garbage"]
    assert garbage["rejection_kind"] == "syntax" and set(garbage["rejected"][0]) == {"role", "content"}
    assert garbage["rejected"][0]["content"] == "Sure! I would call get_email_address for that."
    assert all(r["rejection_source"] == "student" and r["meta"]["student"] == "openai:tiny-student" for r in rows)

    mixed = tmp_path / "mixed"
    with _student_server(plans)[0] as again:
        result = gen(
            "pairs",
            plans_dir,
            "--out",
            mixed,
            "--student",
            "openai",
            "--model",
            "m",
            "--base-url",
            again.base_url,
            "--student-share",
            "0.5",
        )
        asked = again.count
    assert result.exit_code == 0, result.output
    report = json.loads((mixed / "pairs.json").read_text())
    assert report["rejected"] == "mixed" and 8 <= asked <= 32
    assert report["by_source"]["corruption"] == 40 - asked
    assert report["by_source"].get("student", 0) + report["skipped"].get("student_matched", 0) == asked


@pytest.mark.torch
def test_local_student_from_a_model_folder(gen, plans_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "local"
    result = gen(
        "pairs",
        plans_dir,
        "--out",
        out,
        "--rejected",
        "student",
        "--student",
        "local",
        "--model",
        tiny_model_dir,
        "--splits",
        "test",
        "--max-new-tokens",
        "24",
        "--batch-size",
        "2",
    )
    assert result.exit_code == 0, result.output
    pairs = datasets.load_from_disk(str(out))
    assert len(pairs["test"]) == 2  # an untrained model never writes the right plan
    _check_rows(pairs, datasets.load_from_disk(str(plans_dir)))
    assert set(pairs["test"]["rejection_source"]) == {"student"}
    assert json.loads((out / "pairs.json").read_text())["student"] == "local:tiny-llama"


@pytest.mark.torch
def test_dpo_trainer_reads_the_pairs_as_they_are(gen, plans_dir, tiny_model_dir, tmp_path):
    pytest.importorskip("trl")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    out = tmp_path / "pairs"
    assert gen("pairs", plans_dir, "--out", out, "--rejected", "corruptions").exit_code == 0
    pairs = datasets.load_from_disk(str(out))  # no conversion of any kind
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = DPOConfig(
        output_dir=str(tmp_path / "dpo"),
        max_steps=1,
        per_device_train_batch_size=2,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        max_length=1024,
        dataset_num_proc=None,
    )
    trainer = DPOTrainer(model=model, args=config, train_dataset=pairs["train"], processing_class=tokenizer)
    assert trainer.train().global_step == 1


def test_errors_are_one_line_and_write_nothing(gen, plans_dir, tmp_path):
    def error(*args) -> str:
        result = gen("pairs", *args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and "Traceback" not in result.output
        return " ".join(result.stderr.split())

    out = tmp_path / "out"
    assert "no such dataset directory" in error(tmp_path / "missing", "--out", out)
    assert "unknown corruption kind(s) bogus" in error(
        plans_dir, "--out", out, "--rejected", "corruptions", "--kinds", "bogus"
    )
    assert "--rejected must be one of" in error(plans_dir, "--out", out, "--rejected", "some")
    assert "--student openai needs --model" in error(plans_dir, "--out", out, "--student", "openai")
    dead = error(
        plans_dir,
        "--out",
        out,
        "--rejected",
        "student",
        "--student",
        "openai",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--splits",
        "test",
    )
    assert "answered no request" in dead and "connection refused" in dead
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert "is not empty (pass --overwrite" in error(plans_dir, "--out", busy, "--rejected", "corruptions")
    assert (busy / "keep.txt").read_text() == "mine"
    ok = gen("pairs", plans_dir, "--out", busy, "--rejected", "corruptions", "--overwrite")
    assert ok.exit_code == 0 and not (busy / "keep.txt").exists() and (busy / "pairs.json").is_file()


def test_student_plans_are_kept_when_wrong_the_hardest_first(mac_tools):
    from planforge.dataset.rows import Example
    from planforge.pairs.builder import source_from_row, student_rejection, student_rejections
    from planforge.plan import parse_plan

    plan = '1. create_reminder("Call Sid", "2026-11-22", "", "", 0, True)\n2. join()'
    offered = mac_tools.subset(["create_reminder", "create_note", "send_sms"])
    example = Example(
        query="Remind me to call Sid tomorrow",
        plan=parse_plan(plan, param_order=offered.param_order).bind(offered.param_order),
        tools=offered,
        now="2026-11-21 09:00:00",
        recipe="mac_assistant",
    )
    source = source_from_row(example.to_row(), "train")
    assert student_rejection(source, plan, "s") is None
    reworded = plan.replace('"Call Sid"', '"Phone Sid"')  # free text: not wrong
    assert student_rejection(source, reworded, "s") is None
    other_day = plan.replace("2026-11-22", "2026-11-23")
    wrong = student_rejection(source, other_day, "s")
    assert wrong.kind == "wrong_arguments" and "create_reminder.due_date (step 1)" in wrong.detail
    assert wrong.verdict.valid and wrong.verdict.equivalent
    note = '1. create_note("Call Sid", "tomorrow", "")\n2. join()'  # valid, another function
    assert student_rejection(source, note, "s").kind == "not_equivalent"
    texts = ["1. create_reminder(", note, other_day, other_day, plan, plan.replace("0, True", "1, True")]
    found, right = student_rejections(source, texts, "s", 3)
    assert right == 1
    assert [r.kind for r in found] == ["wrong_arguments", "wrong_arguments", "not_equivalent"]  # hardest first
    assert [r.message["content"] for r in found[:2]] == [other_day, plan.replace("0, True", "1, True")]
    assert student_rejections(source, texts, "s", 1)[0][0].message["content"] == other_day


@pytest.mark.torch
def test_on_policy_negatives_from_the_sft_adapter(gen, plans_dir, tiny_model_dir, tmp_path):
    sft = tmp_path / "sft"
    trained = gen("train", "sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", sft, "--max-steps", 1)
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "on-policy"
    args = ["--rejected", "student", "--student", f"adapter:{sft}", "--samples", 3, "--temperature", 1.0]
    args += ["--per-example", 2, "--splits", "test", "--max-new-tokens", 24, "--batch-size", 2]
    result = gen("pairs", plans_dir, "--out", out, *args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "pairs.json").read_text())
    assert report["student"] == "local:tiny-llama+sft"  # the base model read from the adapter's run
    assert report["student_sampling"] == {"temperature": 1.0, "top_p": 1.0, "samples": 3}
    assert report["student_samples"] == 2 * 3 and report["student_right"] == 0
    pairs = datasets.load_from_disk(str(out))
    assert 2 <= len(pairs["test"]) <= 4 and set(pairs["test"]["rejection_source"]) == {"student"}
    _check_rows(pairs, datasets.load_from_disk(str(plans_dir)))
    greedy = gen("pairs", plans_dir, "--out", tmp_path / "x", "--rejected", "student", "--samples", 2)
    assert greedy.exit_code == 2 and "--samples above 1 needs --temperature above 0" in greedy.stderr
    missing = gen("pairs", plans_dir, "--out", tmp_path / "x", "--rejected", "student", "--student", "adapter:/nope")
    assert missing.exit_code == 2 and "not a LoRA adapter directory" in missing.stderr
