"""Large offline runs: `gen run recipe mac_assistant` with the template teacher at several sizes.

For each size, one `gen run` process: wall time, CPU time (the run and its worker processes), peak memory
of the whole process tree (the sum of PSS, which counts pages the forked workers share once, sampled every
0.2 s; the largest single RSS beside it), checkpoint and dataset bytes, and the same per 10,000 examples so
the growth is visible. Targets: 200,000 examples in under 5 minutes on 2 cores, peak memory under 1 GB,
checkpoint under 2 KB per example. The machine's load average is printed with the figures.

    python benchmarks/template_run.py [--examples 10000 50000 200000] [--out /tmp/planforge-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of PSS, largest RSS) in bytes over a process and its descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    pss, rss = 0, 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        pss += info.pss
        rss = max(rss, info.rss)
    return pss, rss


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(examples: int, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out)]
    command += ["-n", str(examples), "--teacher", "template"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    peak = [0, 0]

    def sample() -> None:
        while process.poll() is None:
            pss, rss = tree_memory(process.pid)
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if process.wait() != 0:
        raise SystemExit(f"gen run failed with exit code {process.returncode}")
    wall = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run_json = json.loads((out / "run.json").read_text())
    checkpoint = (out / "checkpoint.jsonl").stat().st_size
    dataset = folder_bytes(out) - checkpoint
    return {
        "examples": run_json["accepted"],
        "wall": wall,
        "loop": run_json["wall_seconds"],
        "cpu": cpu,
        "pss": peak[0],
        "rss": peak[1],
        "checkpoint": checkpoint,
        "dataset": dataset,
        "timings": run_json.get("timings", {}),
        "load": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--out", type=Path, default=Path("/tmp/planforge-bench-template"))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = "examples | wall s | CPU s | run loop s | peak PSS MiB (largest RSS) | checkpoint | dataset | per 10k: "
    print(header + "wall s, CPU s, checkpoint MB, dataset MB | load average after")
    for examples in args.examples:
        found = run(examples, args.out)
        per = 10_000 / found["examples"]
        print(
            f"{found['examples']:,} | {found['wall']:.1f} | {found['cpu']:.1f} | {found['loop']:.1f} | "
            f"{found['pss'] / 2**20:.0f} ({found['rss'] / 2**20:.0f}) | "
            f"{found['checkpoint'] / 2**20:.1f} MiB ({found['checkpoint'] / found['examples']:.0f} B/example) | "
            f"{found['dataset'] / 2**20:.0f} MiB | {found['wall'] * per:.1f}, {found['cpu'] * per:.1f}, "
            f"{found['checkpoint'] * per / 1e6:.1f}, {found['dataset'] * per / 1e6:.1f} | "
            f"{' '.join(f'{x:.2f}' for x in found['load'])}; stages: {found['timings']}",
            flush=True,
        )
    shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
