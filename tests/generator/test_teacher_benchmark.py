"""benchmarks/teacher_throughput.py keeps measuring what it says: a short round where every reply is the filed
one (five valid examples), so a change to the prompts cannot leave it timing runs that accept nothing."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_round_finds_every_filed_reply_and_reports_each_run():
    command = [sys.executable, str(ROOT / "benchmarks" / "teacher_throughput.py"), "--requests", "12"]
    command += ["--repeat", "1", "--latency", "0.01", "--concurrency", "4", "--faults", "0.3"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    accepted = re.search(r"planforge accepted ([\d,]+) examples of ([\d,]+) proposed", result.stdout)
    assert accepted, result.stdout
    assert accepted.group(2) == "60"  # 12 requests, five filed examples each
    assert int(accepted.group(1).replace(",", "")) >= 48
    for label in ("control: SDK create", "control: SDK post", "planforge |", "30% of requests fail once"):
        assert label in result.stdout, label


def test_the_stages_mode_reports_each_part_of_planforge_s_cpu():
    command = [sys.executable, str(ROOT / "benchmarks" / "teacher_throughput.py"), "--stages"]
    command += ["--requests", "12", "--repeat", "1"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assess = re.search(r"assess ([\d.]+) ms \(of which dedup fingerprints ([\d.]+) ms\)", result.stdout)
    assert assess and 0 < float(assess.group(2)) < float(assess.group(1)), result.stdout
    run = re.search(r"gen run ([\d.]+) s CPU, the SDK control ([\d.]+) s", result.stdout)
    assert run and float(run.group(1)) > 0 and float(run.group(2)) > 0, result.stdout
    for label in ("import openai", "import datasets + pyarrow", "import the gen CLI", "import polars"):
        assert label in result.stdout, label
