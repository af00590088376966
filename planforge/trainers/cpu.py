"""CPU settings of the torch trainers, and the per-step timings their metrics report.

torch runs its CPU kernels on libgomp's OpenMP threads (one per core by default), whose waiters spin before they
sleep. On cores other jobs share, a spinning thread holds a core that the thread it waits for needs. On 2 such
cores (load average 6-13), a raw LoRA step of SmolLM2-135M took 2.2-2.7 times as long, and 2.5 times the CPU
seconds, with spinning waiters as with sleeping ones (``OMP_WAIT_POLICY=PASSIVE``;
``benchmarks/trainers_threads.py``). libgomp reads the variable once, when torch is imported, so the CLI calls
:func:`prefer_sleeping_threads` before that; a policy the caller set wins."""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

#: libgomp's wait policy that planforge sets when the caller set none.
WAIT_POLICY = "PASSIVE"


def prefer_sleeping_threads() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set a policy. ``False``, and nothing set, once torch is
    imported: libgomp has read the variable then, and setting it would only make :func:`cpu_report` wrong."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    return True


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads (``None``: leave torch's default, one per core)."""
    if threads is None:
        return
    from planforge.errors import ConfigError

    if threads < 1:
        raise ConfigError("--threads must be at least 1")
    import torch

    torch.set_num_threads(threads)


def cpu_report() -> dict[str, Any]:
    """What a CPU figure depends on: threads, wait policy and the machine's load (1-minute average)."""
    import torch

    report: dict[str, Any] = {
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
    }
    if hasattr(os, "getloadavg"):  # not on Windows
        report["load_average_1m"] = round(os.getloadavg()[0], 2)
    return report


def step_timer() -> Any:
    """A ``TrainerCallback`` that times each optimizer step from the end of the one before (data, forward, backward,
    optimizer, logging): wall and process CPU seconds (every thread's). ``.metrics()`` leaves the first step out:
    it also pays for the allocator's warm-up and lazy initialisation."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.wall: list[float] = []
            self.cpu: list[float] = []
            self._mark = (time.perf_counter(), time.process_time())

        def on_train_begin(self, args, state, control, **kwargs):
            self._mark = (time.perf_counter(), time.process_time())

        def on_step_end(self, args, state, control, **kwargs):
            now = (time.perf_counter(), time.process_time())
            self.wall.append(now[0] - self._mark[0])
            self.cpu.append(now[1] - self._mark[1])
            self._mark = now

        def metrics(self) -> dict[str, Any]:
            if not self.wall:
                return {}
            out: dict[str, Any] = {"train_first_step_seconds": self.wall[0]}
            if len(self.wall) > 1:
                out["train_seconds_per_step"] = statistics.fmean(self.wall[1:])
                out["train_cpu_seconds_per_step"] = statistics.fmean(self.cpu[1:])
            return out

    return StepTimer()
