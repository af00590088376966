"""A large offline run: `gen run recipe mac_assistant` with the template teacher.

Reports wall time and the peak resident memory of the run (a child process). Target for 50,000
examples on 2 cores: under 5 minutes and under 1.5 GB.

    python benchmarks/template_run.py [--examples 50000] [--out /tmp/planforge-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/planforge-bench-template"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    command = [
        sys.executable,
        "-m",
        "planforge",
        "run",
        "recipe",
        "mac_assistant",
        "--out",
        str(args.out),
        "-n",
        str(args.examples),
        "--teacher",
        "template",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = json.loads((args.out / "run.json").read_text())
    print(
        f"examples: {run['accepted']:,} accepted of {run['stats']['proposed']:,} proposed "
        f"({run['duplicates']['exact'] + run['duplicates']['near']:,} duplicates dropped)"
    )
    print(f"wall time: {wall:.1f} s (run loop {run['wall_seconds']:.1f} s); peak RSS: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
