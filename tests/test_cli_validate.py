"""``gen validate`` end to end, through the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plans.jsonl"
MAC_TOOLS = ROOT / "planforge" / "recipes" / "mac_assistant" / "tools.json"


def gen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "planforge", *args], capture_output=True, text=True, timeout=60)


def test_verdict_per_line_in_order_and_exit_1_when_any_invalid():
    result = gen("validate", str(EXAMPLE), "--tools", str(MAC_TOOLS), "--require-join")
    assert result.returncode == 1, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["id"] for v in verdicts] == ["zoom-sid", "sms-json", "pdf-summary", "bad-cycle", "bad-types"]
    assert [v["valid"] for v in verdicts] == [True, True, True, False, False]
    assert {e["code"] for e in verdicts[3]["errors"]} == {"bad_reference", "cycle"}
    assert {e["code"] for e in verdicts[4]["errors"]} == {"unknown_function", "type_mismatch"}
    assert "3/5 valid" in result.stderr and "cycle" in result.stderr


def test_exit_0_when_all_valid_and_tools_per_line(tmp_path, mac_tools):
    rows = [
        {
            "id": 1,
            "plan": "1. f(1)\n2. join()",
            "tools": [{"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "float"}}}}],
        },
        {"id": 2, "plan": [{"name": "send_sms", "arguments": {"recipients": ["+1"], "message": "hi"}}]},
    ]
    path = tmp_path / "plans.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    result = gen("validate", str(path), "--tools", str(MAC_TOOLS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [json.loads(line)["valid"] for line in result.stdout.splitlines()] == [True, True]


def test_the_empty_plan_is_valid_only_on_lines_marked_no_call(tmp_path):
    rows = [
        {"id": "chat", "plan": "1. join()", "no_call": True},
        {"id": "meta", "plan": "1. join()", "meta": {"no_call": True}},
        {"id": "unmarked", "plan": "1. join()"},
        {"id": "called", "plan": '1. get_phone_number("Sid")\n2. join()', "no_call": True},
    ]
    path = tmp_path / "plans.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = gen("validate", str(path), "--tools", str(MAC_TOOLS), "--require-join")
    assert result.returncode == 1, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["valid"] for v in verdicts] == [True, True, False, False]
    assert [e["code"] for e in verdicts[2]["errors"]] == ["empty_plan"]
    assert [e["code"] for e in verdicts[3]["errors"]] == ["unexpected_call"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "no such file"),
        ('{"id": 1, "plan": "1. f()"}\nnot json\n', ["--tools", str(MAC_TOOLS)], "plans.jsonl:2: not a JSON object"),
        ('{"id": 1, "plan": "1. f()"}\n', [], "plans.jsonl:1: no 'tools'"),
        ('{"id": 1, "plan": "1. f()", "tools": [{"nome": "f"}]}\n', [], "plans.jsonl:1: unreadable tools"),
        ('{"id": 1}\n', ["--tools", str(MAC_TOOLS)], "plans.jsonl:1: expected an object with a 'plan' key"),
        ('{"id": 1, "plan": ""}\n', ["--tools", str(ROOT / "README.md")], "README.md: not valid JSON"),
        ('{"id": 1, "plan": ""}\n', ["--tools", str(MAC_TOOLS), "--format", "yaml"], "--format must be"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, content, args, message):
    path = tmp_path / "plans.jsonl"
    if content is not None:
        path.write_text(content)
    result = gen("validate", str(path), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _write(tmp_path, *lines: str) -> Path:
    path = tmp_path / "plans.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_ids_and_names_that_utf8_cannot_carry_are_escaped(tmp_path):
    odd = [{"name": "\ud800", "arguments": {}}]
    plain = [{"name": "send_sms", "arguments": {"recipients": ["é"], "message": "ü"}}]
    path = _write(tmp_path, json.dumps({"id": "\ud800", "plan": odd}), json.dumps({"id": "é\u2028", "plan": plain}))
    result = gen("validate", str(path), "--tools", str(MAC_TOOLS))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.split("\n")[:-1]
    assert [json.loads(line)["id"] for line in lines] == ["\ud800", "é\u2028"]
    assert "\\ud800" in lines[0] and "é" in lines[1]  # UTF-8 where it can be, an escape where it must


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"id": 1, "plan": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "plans.jsonl:1: not a JSON object (nested too deeply)",
        ),
        (
            '{"id": ' + "[" * 40 + "]" * 40 + ', "plan": ""}',
            "plans.jsonl:1: 'id' cannot be echoed in a verdict (nested deeper",
        ),
        ('{"id": NaN, "plan": ""}', "'id' cannot be echoed in a verdict (non-finite"),
        (
            '{"id": 1, "plan": "' + "x" * (4 * 1024 * 1024) + '"}',
            "plans.jsonl:1: line of 4,194,325 characters, over the 4,194,304 limit",
        ),
        (
            json.dumps({"plan": "", "tools": [{"name": "f", "parameters": {"properties": {"a": {"pattern": "("}}}}]}),
            "plans.jsonl:1: unreadable tools (function 'f': parameters.properties.a.pattern: '(' is not a valid regular",
        ),
    ],
    ids=["deep line", "deep id", "NaN id", "long line", "bad tools"],  # the lines themselves are too long for ids
)
def test_unusable_lines_exit_2_with_one_line(tmp_path, line, message):
    result = gen("validate", str(_write(tmp_path, line)), "--tools", str(MAC_TOOLS))
    assert result.returncode == 2 and result.stdout == ""
    assert message in _one_line_error(result)


def test_a_bad_tools_file_exits_2_naming_the_function_and_field(tmp_path):
    tools = json.loads(MAC_TOOLS.read_text())
    sms = next(t for t in tools if t["name"] == "send_sms")
    sms["parameters"]["properties"]["recipients"]["pattern"] = "("
    tools_path = tmp_path / "tools.json"
    tools_path.write_text(json.dumps(tools))
    result = gen("validate", str(_write(tmp_path, '{"plan": ""}')), "--tools", str(tools_path))
    assert result.returncode == 2
    assert "function 'send_sms': parameters.properties.recipients.pattern: '(' is not a valid regular expression" in (
        _one_line_error(result)
    )


def test_lines_end_at_newlines_only(tmp_path):
    row = {"id": "a\u2028b\x1cc\x85", "plan": '1. get_email_address("Sid\u2029")'}
    result = gen("validate", str(_write(tmp_path, json.dumps(row, ensure_ascii=False))), "--tools", str(MAC_TOOLS))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.split("\n")[:-1]] == [row["id"]]


def test_oversized_and_deep_plans_are_syntax_verdicts_not_errors(tmp_path):
    rows = [
        {"id": "deep", "plan": [{"name": "send_sms", "arguments": {"message": json.loads("[" * 500 + "]" * 500)}}]},
        {"id": "big", "plan": [{"name": "send_sms", "arguments": {"message": "x" * 300_000}}]},
        {"id": "quadratic", "plan": '1. open_note("' + '\\"' * 30_000 + ")"},
    ]
    result = gen("validate", str(_write(tmp_path, *(json.dumps(r) for r in rows))), "--tools", str(MAC_TOOLS))
    assert result.returncode == 1, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["errors"][0]["code"] for v in verdicts] == ["syntax"] * 3
    assert "deeper than 32 levels" in verdicts[0]["errors"][0]["message"]
    assert "262,144 limit" in verdicts[1]["errors"][0]["message"]


def test_a_bug_exits_3_naming_the_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import planforge.plan_files
    from planforge.cli import app

    real = planforge.plan_files.validate

    def broken(plan, tools, **kwargs):
        if plan == "1. boom()":
            raise KeyError("boom")
        return real(plan, tools, **kwargs)

    monkeypatch.setattr(planforge.plan_files, "validate", broken)
    path = _write(tmp_path, '{"id": 1, "plan": "1. join()"}', '{"id": 2, "plan": "1. boom()"}')
    result = CliRunner().invoke(app, ["validate", str(path), "--tools", str(MAC_TOOLS)])
    assert result.exit_code == 3
    assert "internal error, please report" in result.stderr and "plans.jsonl:2: KeyError" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]


# -- inputs beyond a JSONL file: stdin, a dataset folder, a recipe's rules ----------------------------


def test_validate_reads_stdin(tmp_path):
    from typer.testing import CliRunner

    from planforge.cli import app

    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps([{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}])
    )
    lines = (
        json.dumps({"id": "a", "plan": "1. f(1)\n2. join()"})
        + "\n"
        + json.dumps({"id": "b", "plan": '1. f("one")'})
        + "\n"
    )
    result = CliRunner().invoke(app, ["validate", "-", "--tools", str(tools)], input=lines)
    assert result.exit_code == 1, result.output
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(v["id"], v["valid"]) for v in verdicts] == [("a", True), ("b", False)]
    assert "stdin: 1/2 valid" in result.stderr


def test_validate_a_dataset_folder(plans_dir):
    from typer.testing import CliRunner

    from planforge.cli import app

    result = CliRunner().invoke(app, ["validate", str(plans_dir), "--recipe", "mac_assistant"])
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == 40 and all(v["valid"] for v in verdicts)
    assert verdicts[0]["id"].startswith("ex-")


def test_validate_with_a_recipe_applies_its_rules_and_each_lines_now(tmp_path):
    from typer.testing import CliRunner

    from planforge.cli import app

    def line(id_, plan, now):
        return json.dumps({"id": id_, "query": "Remind me to call mum", "now": now, "plan": plan})

    plan = '1. create_reminder("call mum", "2026-03-10 09:00:00", "", "", 0, False)\n2. join()'
    texted = '1. send_sms(["Sid"], "hi")\n2. join()'
    path = tmp_path / "plans.jsonl"
    path.write_text(
        "\n".join(
            [
                line("future", plan, "2026-03-09 10:00:00"),
                line("past", plan, "2026-04-01 10:00:00"),
                line("no_lookup", texted, "2026-03-09 10:00:00"),
            ]
        )
        + "\n"
    )
    plain = CliRunner().invoke(app, ["validate", str(path), "--tools", "planforge/recipes/mac_assistant/tools.json"])
    assert plain.exit_code == 0, plain.output  # the rules are the recipe's: without it, all three pass
    ruled = CliRunner().invoke(app, ["validate", str(path), "--recipe", "mac_assistant"])
    assert ruled.exit_code == 1
    verdicts = {v["id"]: v for v in map(json.loads, ruled.stdout.splitlines())}
    assert verdicts["future"]["valid"]
    assert not verdicts["past"]["valid"] and "before now" in verdicts["past"]["errors"][0]["message"]
    assert not verdicts["no_lookup"]["valid"] and verdicts["no_lookup"]["errors"][0]["code"] == "rule"


@pytest.mark.slow
def test_a_reader_that_leaves_early_is_no_traceback(tmp_path):
    """`gen validate ... | head -1`: the command stops quietly (exit 141, as a shell reports SIGPIPE)."""
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"name": "f", "parameters": {"type": "object", "properties": {}}}]))
    plans = tmp_path / "plans.jsonl"
    plans.write_text("".join(json.dumps({"id": i, "plan": "1. f()\n2. join()"}) + "\n" for i in range(200_000)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "planforge", "validate", str(plans), "--tools", str(tools)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b'{"id": 0')
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr
