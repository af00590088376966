"""``gen export`` and ``gen import`` from the command line: the round trip through OpenAI's format gives the same
requests and DAG-equivalent plans; BFCL's own files (from the bfcl-eval package) import with their answers; bad
input is a one-line error or a counted code, and an interrupted write leaves nothing behind."""

from __future__ import annotations

import json

import datasets
import pytest

from planforge.dataset.features import PLAN_FEATURES
from planforge.dataset.rows import row_plan, row_tools
from planforge.interchange.calls import NO_CALL_REPLY
from planforge.validators import plans_equivalent

from .test_formats import GLAIVE_PUBLISHED, XLAM_PUBLISHED


def _rows(folder):
    loaded = datasets.load_from_disk(str(folder))
    return {split: list(part) for split, part in loaded.items()}


def _bound(row):
    return row_plan(row).bind(row_tools(row).param_order)


def test_openai_round_trip_keeps_queries_and_plans(gen, plans_dir, tmp_path):
    exported = tmp_path / "mac.openai.jsonl"
    result = gen("export", plans_dir, "--to", "openai", "--out", exported)
    assert result.exit_code == 0, result.output
    assert f"wrote 40 openai records (train 36, validation 2, test 2) to {exported}" in " ".join(result.stdout.split())
    assert len(exported.read_text().splitlines()) == 40

    back = tmp_path / "back"
    result = gen("import", exported, "--from", "openai", "--out", back, "--splits", "validation=0,test=0")
    assert result.exit_code == 0, result.output
    original = [row for rows in _rows(plans_dir).values() for row in rows]
    imported = _rows(back)["train"]
    assert imported[0].keys() >= set(PLAN_FEATURES)
    assert sorted(r["query"] for r in imported) == sorted(r["query"] for r in original)
    by_query = {r["query"]: r for r in imported}
    for row in original:
        again = by_query[row["query"]]
        assert plans_equivalent(_bound(again), _bound(row)), row["query"]
        assert again["meta"]["now"] == row["meta"]["now"] and again["meta"]["teacher"] == "import:openai"
        assert again["plan_text"] == row["plan_text"]  # the same canonical plan text
    run = json.loads((back / "run.json").read_text())
    assert run["accepted"] == 40 and run["rejected"] == {} and run["teacher"] == "import:openai"
    assert run["imported_from"]["format"] == "openai"


def test_import_splits_and_counts_invalid_records_by_code(gen, plans_dir, tmp_path):
    exported = tmp_path / "mac.xlam.jsonl"
    assert gen("export", plans_dir, "--to", "xlam", "--out", exported).exit_code == 0
    lines = exported.read_text().splitlines()
    broken = json.loads(lines[0])
    answers = json.loads(broken["answers"])
    answers[0]["name"] = "launch_rockets"
    broken["answers"] = json.dumps(answers)
    lines += [json.dumps(broken), "{not json", json.dumps({"query": "hi", "answers": "[]"}), lines[1]]
    exported.write_text("\n".join(lines) + "\n")
    out = tmp_path / "imported"
    result = gen("import", exported, "--from", "xlam", "--out", out, "--splits", "validation=4,test=0.1", "--seed", "3")
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["rejected"] == {"unknown_function": 1, "unreadable": 1, "no_calls": 1}
    assert run["duplicates"] == {"exact": 1} and run["accepted"] == 40 and run["requested"] == 44
    assert run["splits"] == {"train": 32, "validation": 4, "test": 4}
    assert "unknown_function" in result.stderr and "records read" in result.stderr
    sizes = {split: len(rows) for split, rows in _rows(out).items()}
    assert sizes == {"train": 32, "validation": 4, "test": 4}


def test_recipe_rules_apply_when_asked(gen, tmp_path):
    """--recipe checks its rules too: a plan that texts a name without looking up the number is kept out."""
    tools = json.dumps(
        [
            {
                "name": "send_sms",
                "description": "",
                "parameters": {
                    "recipients": {"type": "List[str]", "description": "phone numbers"},
                    "message": {"type": "str", "description": "text"},
                },
            }
        ]
    )
    record = {
        "query": "Text Sid that I am late",
        "tools": tools,
        "answers": json.dumps([{"name": "send_sms", "arguments": {"recipients": ["Sid"], "message": "I am late"}}]),
    }
    source = tmp_path / "sms.jsonl"
    source.write_text(json.dumps(record) + "\n")
    plain = gen("import", source, "--from", "xlam", "--out", tmp_path / "plain")
    assert plain.exit_code == 0, plain.output
    ruled = gen("import", source, "--from", "xlam", "--out", tmp_path / "ruled", "--recipe", "mac_assistant")
    assert ruled.exit_code == 2 and "no record could be imported (rule 1)" in " ".join(ruled.stderr.split())
    assert not (tmp_path / "ruled").exists()


def test_bfcl_files_as_published_import_with_their_answers(gen, tmp_path):
    from planforge.trainers.bfcl import bfcl_data_dir

    folder = bfcl_data_dir()
    questions = folder / "BFCL_v4_parallel_multiple.json"
    out = tmp_path / "bfcl"
    result = gen("import", questions, "--from", "bfcl", "--out", out, "--limit", "50")  # answers found beside it
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["requested"] == 50 and run["accepted"] >= 45
    rows = [r for part in _rows(out).values() for r in part]
    first = json.loads((folder / "BFCL_v4_parallel_multiple.json").read_text().splitlines()[0])
    row = next(r for r in rows if r["meta"]["request_id"] == first["id"])
    assert row["query"] == first["question"][0][-1]["content"]
    assert len(json.loads(row["plan"])) >= 2  # parallel calls

    exported = tmp_path / "again" / "questions.jsonl"
    assert gen("export", out, "--to", "bfcl", "--out", exported).exit_code == 0
    assert (tmp_path / "again" / "possible_answer" / "questions.jsonl").is_file()
    irrelevance = gen("import", folder / "BFCL_v4_irrelevance.json", "--from", "bfcl", "--out", tmp_path / "irr")
    assert irrelevance.exit_code == 2 and "pass --answers" in irrelevance.stderr


def test_exported_bfcl_items_pass_the_bfcl_checker_with_their_own_plans(gen, plans_dir, tmp_path):
    """The ground truth written is one BFCL's checker accepts for the plan it came from."""
    from planforge.tools import tools_from_json
    from planforge.trainers.bfcl import BFCLItem, Call, check

    exported = tmp_path / "q.jsonl"
    assert gen("export", plans_dir, "--to", "bfcl", "--out", exported).exit_code == 0
    answers = [json.loads(line) for line in (tmp_path / "possible_answer" / "q.jsonl").read_text().splitlines()]
    categories = {"simple": "simple_python", "multiple": "multiple", "parallel": "parallel"}
    original = [row for rows in _rows(plans_dir).values() for row in rows]
    for line, answer, row in zip(exported.read_text().splitlines(), answers, original, strict=True):
        question = json.loads(line)
        kind = question["id"].rsplit("_", 1)[0]
        item = BFCLItem(
            question["id"],
            categories.get(kind, "parallel_multiple"),
            tuple(question["question"][0]),
            tuple(question["function"]),
            tools_from_json(question["function"]),
            tuple(answer["ground_truth"]),
        )
        calls = [Call(s.name, {k: v for k, v in s.kwargs.items() if v is not None}) for s in _bound(row).calls]
        ok, reason = check(item, calls)
        assert ok, (question["id"], reason)


def test_glaive_json_array_imports(gen, tmp_path):
    source = tmp_path / "glaive.json"
    declined = {**GLAIVE_PUBLISHED, "chat": "USER: Book a flight.\n\n\nASSISTANT: I cannot. <|endoftext|>"}
    source.write_text(json.dumps([GLAIVE_PUBLISHED, declined]))
    result = gen("import", source, "--from", "glaive", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["accepted"] == 1 and run["rejected"] == {"no_calls": 1}


def test_xlam_published_record_imports(gen, tmp_path):
    source = tmp_path / "xlam.json"
    source.write_text(json.dumps([XLAM_PUBLISHED]))
    assert gen("import", source, "--from", "xlam", "--out", tmp_path / "out").exit_code == 0
    (row,) = [r for part in _rows(tmp_path / "out").values() for r in part]
    assert row["target_tools"] == ["top_stories", "is_palindrome"] and row["meta"]["distractors"] == ["mean"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "missing.jsonl", "--from", "openai"), "missing.jsonl: no such file"),
        (("import", "{src}", "--from", "csv"), "--from must be one of openai, sharegpt, hermes, glaive, xlam, bfcl"),
        (("import", "{src}", "--from", "openai", "--answers", "{src}"), "--answers is for --from bfcl only"),
        (("import", "{src}", "--from", "openai", "--splits", "dev=0.1"), "--splits: unknown split 'dev'"),
        (("export", "{plans}", "--to", "csv"), "--to must be one of openai, sharegpt, hermes, xlam, bfcl"),
        (("export", "{plans}", "--to", "openai", "--split", "dev"), "has no split 'dev'"),
        (("export", "{src}", "--to", "openai"), "src.jsonl:1: no 'query' or 'plan'"),
    ],
)
def test_bad_input_is_one_line(gen, plans_dir, tmp_path, args, message):
    src = tmp_path / "src.jsonl"
    src.write_text('{"messages": []}\n')
    filled = [str(a).format(src=src, plans=plans_dir) for a in args]
    result = gen(*filled, "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "out.jsonl").exists()


def test_existing_outputs_are_kept_unless_overwrite(gen, plans_dir, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("keep me\n")
    refused = gen("export", plans_dir, "--to", "hermes", "--out", target)
    assert refused.exit_code == 2 and "exists (pass --overwrite" in refused.stderr
    assert target.read_text() == "keep me\n"
    assert gen("export", plans_dir, "--to", "hermes", "--out", target, "--overwrite").exit_code == 0
    assert len(target.read_text().splitlines()) == 40
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "hermes", "xlam", "bfcl"])
def test_no_call_examples_go_out_as_an_answer_without_calls_and_come_back_with_no_call_rows(gen, tmp_path, fmt):
    from tests.conftest import generate_plans

    source = generate_plans(tmp_path / "plans", 60, seed=0)
    original = [row for rows in _rows(source).values() for row in rows]
    no_call = {r["query"] for r in original if r["meta"]["no_call"]}
    assert no_call, "the seeded run has no-call examples (the recipe's no_call_share)"
    exported = tmp_path / f"mac.{fmt}.jsonl"
    assert gen("export", source, "--to", fmt, "--out", exported).exit_code == 0
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(records) == len(original)
    if fmt == "openai":
        answers = [r["messages"][-1] for r in records if r["messages"][1]["content"] in no_call]
        assert answers and all(a == {"role": "assistant", "content": NO_CALL_REPLY} for a in answers)
    args = ["import", exported, "--from", fmt, "--splits", "validation=0,test=0"]
    kept_out = gen(*args, "--out", tmp_path / "default")
    assert kept_out.exit_code == 0, kept_out.output
    run = json.loads((tmp_path / "default" / "run.json").read_text())
    assert run["rejected"] == {"no_calls": len(no_call)} and run["accepted"] == len(original) - len(no_call)

    kept = gen(*args, "--no-call-rows", "--out", tmp_path / "kept")
    assert kept.exit_code == 0, kept.output
    back = _rows(tmp_path / "kept")["train"]
    assert len(back) == len(original)
    again = {r["query"] for r in back if r["meta"]["no_call"]}
    assert again == no_call
    assert all(r["plan_text"] == "1. join()" and r["target_tools"] == [] for r in back if r["meta"]["no_call"])
    assert json.loads((tmp_path / "kept" / "run.json").read_text())["imported_from"]["no_call_rows"] is True
