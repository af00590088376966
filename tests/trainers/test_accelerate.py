"""Multi-process training through ``accelerate launch`` (TRL's own path): two processes on CPU (gloo) run a few
data-parallel SFT steps of `gen train sft` on the tiny model and write one adapter and one set of run files.

``--multi_gpu`` is accelerate's flag for a multi-process launch (torch.distributed); without a GPU the processes
use the CPU and gloo. ``--cpu`` would start one process only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]


def test_two_cpu_processes_train_sft_through_accelerate_launch(plans_dir, tiny_model_dir, tmp_path):
    launcher = shutil.which("accelerate")
    if launcher is None:
        pytest.skip("accelerate is not installed (the train extra)")
    out = tmp_path / "sft"
    command = [
        launcher,
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
    ]
    command += ["--dynamo_backend", "no", "-m", "planforge", "train", "sft", "--data", str(plans_dir)]
    command += [
        "--model",
        str(tiny_model_dir),
        "--out",
        str(out),
        "--max-steps",
        "3",
        "--batch-size",
        "2",
        "--seed",
        "3",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, result.stderr[-4000:]
    # both processes left their process group before exiting: none aborted in a C++ destructor on the way out
    assert "terminate called" not in result.stderr
    assert (out / "adapter_model.safetensors").is_file() and (out / "run_config.json").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_steps"] == 3
    assert metrics["train_examples"] == 32
    # each step took a batch of 2 on each of the 2 processes: 3 steps are 12 of the 32 examples
    assert "'epoch': '0.375'" in result.stdout
    found = []
    for line in result.stdout.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    assert len(found) == 1  # the metrics line comes from the main process only
