"""The CPU settings of the trainers: sleeping OpenMP waiters unless the caller chose, set before torch loads
(libgomp reads the variable once), ``--threads``, and the step timings left without the warm-up step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from planforge.errors import ConfigError
from planforge.trainers import cpu

pytestmark = pytest.mark.torch

ROOT = Path(__file__).resolve().parents[2]

# Records OMP_WAIT_POLICY when torch is first imported, then runs `gen train sft` (its data does not exist: the run
# stops with a one-line error after --threads imported torch).
WATCH_TORCH_IMPORT = """
import json, os, sys
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))
sys.meta_path.insert(0, Watch())
from typer.testing import CliRunner
from planforge.trainers.cli import train_app
args = ["sft", "--data", sys.argv[1], "--model", "m", "--out", sys.argv[2], "--threads", "1"]
result = CliRunner().invoke(train_app, args)
print(json.dumps({"seen": seen, "exit_code": result.exit_code}))
"""


def test_sleeping_waiters_are_preferred_before_torch_is_imported(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delitem(sys.modules, "torch")  # as in a fresh `gen` process; restored after the test
    assert cpu.prefer_sleeping_threads() is True
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"

    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the caller's choice wins
    assert cpu.prefer_sleeping_threads() is True
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_too_late_once_torch_is_imported(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert "torch" in sys.modules
    assert cpu.prefer_sleeping_threads() is False
    assert "OMP_WAIT_POLICY" not in os.environ  # too late to reach libgomp: the report must not claim it
    assert cpu.cpu_report()["omp_wait_policy"] == "default"


def test_the_cli_sets_the_policy_before_torch_is_imported(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", WATCH_TORCH_IMPORT, str(tmp_path / "no-data"), str(tmp_path / "out")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"seen": ["PASSIVE"], "exit_code": 2}, done.stderr


def test_threads(monkeypatch):
    before = torch.get_num_threads()
    cpu.set_threads(None)
    assert torch.get_num_threads() == before
    with pytest.raises(ConfigError, match="at least 1"):
        cpu.set_threads(0)
    asked = []
    monkeypatch.setattr(torch, "set_num_threads", asked.append)
    cpu.set_threads(2)
    assert asked == [2]
    report = cpu.cpu_report()
    assert report["torch_threads"] == before and "omp_wait_policy" in report and "load_average_1m" in report


def test_step_timer_leaves_the_first_step_out(monkeypatch):
    timer = cpu.step_timer()
    clock = iter([0.0, 10.0, 12.0, 15.0])  # train begins, then three steps: 10 s (warm-up), 2 s, 3 s
    monkeypatch.setattr(cpu.time, "perf_counter", lambda: next(clock))
    cpu_clock = iter([0.0, 5.0, 6.0, 8.0])
    monkeypatch.setattr(cpu.time, "process_time", lambda: next(cpu_clock))
    assert timer.metrics() == {}
    timer.on_train_begin(None, None, None)
    timer.on_step_end(None, None, None)
    assert timer.metrics() == {"train_first_step_seconds": 10.0}
    timer.on_step_end(None, None, None)
    timer.on_step_end(None, None, None)
    assert timer.metrics() == {
        "train_first_step_seconds": 10.0,
        "train_seconds_per_step": 2.5,
        "train_cpu_seconds_per_step": 1.5,
    }
