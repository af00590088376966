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
