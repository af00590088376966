"""Publishing and reporting on a large dataset: `gen publish --dry-run` and `gen report`.

Makes a dataset with `gen run recipe mac_assistant` and the template teacher (offline), then times a
dry-run publish (scrubbing, statistics, card, parquet) and a report, each in a child process, with its
peak resident memory. Target for 20,000 examples on 2 cores: each under 60 s and under 1 GB.

    python benchmarks/publish_report.py [--examples 20000] [--out /tmp/planforge-bench-publish]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

APP = "from planforge.cli import app\napp()\n"


def timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time and this child's own peak resident memory (``wait4``'s rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{stderr[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/planforge-bench-publish"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    data, dry, page = args.out / "data", args.out / "dry", args.out / "report.html"
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    run = [
        sys.executable,
        "-m",
        "planforge",
        "run",
        "recipe",
        "mac_assistant",
        "--out",
        str(data),
        "-n",
        str(args.examples),
    ]
    generate = timed(run, env)
    publish = timed(
        [sys.executable, "-c", APP, "publish", str(data), "--repo-id", "bench/mac", "--dry-run", str(dry)], env
    )
    report = timed([sys.executable, "-c", APP, "report", str(data), "--out", str(page)], env)
    result = {
        "examples": args.examples,
        "generate": generate,
        "publish_dry_run": publish,
        "report": report,
        "dry_run_mb": round(sum(p.stat().st_size for p in dry.rglob("*") if p.is_file()) / 2**20, 2),
        "report_kb": round(page.stat().st_size / 1024, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
