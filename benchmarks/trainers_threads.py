"""OpenMP threads on a CPU other jobs share: the raw LoRA step of SmolLM2-135M (last 15 layers) with 2 threads whose
waiters spin first (libgomp's default, what torch gets unless ``OMP_WAIT_POLICY`` is set) or sleep
(``OMP_WAIT_POLICY=PASSIVE``, what ``gen train`` sets), and with 1 thread. Each configuration runs in its own
process (libgomp reads the policy once), in alternating rounds, so that every configuration meets about the same
load; compare the figures of one run, CPU seconds first (the load moves wall times).

    python benchmarks/trainers_threads.py [--batch 4] [--length 470] [--rounds 2]

Measured on 2 cores that other jobs kept busy (torch 2.13, transformers 5.24), 4 x 470 tokens, ``--rounds 2``
stopped after 11 minutes, one process short of the end (each takes 1-2 minutes at that load):

    round 1, load average 6.5-9.0: 2 threads spinning 43.4 s per step (25.5 s CPU), sleeping 19.7 s (10.0 s CPU),
             1 thread 29.4 s (9.6 s CPU)
    round 2, load average 12-13:   2 threads spinning 67.8 s per step (23.8 s CPU), sleeping 24.7 s (9.7 s CPU)

Spinning waiters burned about 2.5 times the CPU seconds of sleeping ones for the same step, and the step takes 2.2-2.7
times as long.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

STEP_SPEED = Path(__file__).resolve().parent / "trainers_step_speed.py"
CONFIGS = [("spinning", "default", 2), ("sleeping", "passive", 2), ("spinning", "default", 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=470)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps per process, after a warm-up step")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    results: dict[str, list[dict]] = {}
    for round_ in range(1, args.rounds + 1):
        for waiters, policy, threads in CONFIGS:
            command = [sys.executable, str(STEP_SPEED), "--layers", "last", "--json"]
            command += ["--batch", str(args.batch), "--length", str(args.length), "--steps", str(args.steps)]
            command += ["--threads", str(threads), "--wait-policy", policy]
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            name = f"{threads} threads, {waiters} waiters" if threads > 1 else "1 thread"  # no waiters
            results.setdefault(name, []).append(figures)
            print(
                f"round {round_}: {name}: {figures['seconds_per_step']:.1f} s per step, "
                f"{figures['cpu_seconds_per_step']:.1f} s CPU, {figures['tokens_per_second']:.0f} tokens/s, "
                f"load average {figures['load_average_1m']:.2f}",
                flush=True,
            )
    summary = {
        name: {
            "seconds_per_step_median": statistics.median(r["seconds_per_step"] for r in runs),
            "cpu_seconds_per_step_median": statistics.median(r["cpu_seconds_per_step"] for r in runs),
            "load_average_range": [min(r["load_average_1m"] for r in runs), max(r["load_average_1m"] for r in runs)],
        }
        for name, runs in results.items()
    }
    print(json.dumps({"batch": args.batch, "length": args.length, "rounds": args.rounds, **summary}, indent=2))


if __name__ == "__main__":
    main()
