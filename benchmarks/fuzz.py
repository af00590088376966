"""Long mutation fuzzing run: LLMCompiler text, JSON plans, tool specs and whole ``gen validate`` lines.

Every input must come back as a verdict or the documented one-line error (tests/support/fuzzing.py says
what counts); the run prints how many inputs it made, the distinct crash sites and hangs (over 1 s of CPU)
it found, and the peak memory of the process.

    python benchmarks/fuzz.py [--inputs 1000000] [--seed 0] [--chunk 50000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import fuzzing  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=50_000, help="inputs per progress line (each chunk reseeds)")
    args = parser.parse_args()
    corpus = fuzzing.Corpus.default()
    inputs, slowest, findings = 0, 0.0, {}
    by_target: dict[str, int] = {}
    start = time.process_time()
    chunk_index = 0
    while inputs < args.inputs:
        count = min(args.chunk, args.inputs - inputs)
        report = fuzzing.run(count, seed=args.seed * 1_000_003 + chunk_index, corpus=corpus)
        chunk_index += 1
        inputs += report.inputs
        slowest = max(slowest, report.slowest)
        for name, n in report.by_target.items():
            by_target[name] = by_target.get(name, 0) + n
        for key, finding in report.findings.items():
            if key in findings:
                findings[key].count += finding.count
            else:
                findings[key] = finding
        crashes = sum(1 for f in findings.values() if f.kind == "crash")
        hangs = sum(1 for f in findings.values() if f.kind == "hang")
        print(
            f"{inputs:,} inputs, {time.process_time() - start:,.0f} s CPU: {crashes} crash sites, {hangs} hangs",
            flush=True,
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    crash_inputs = sum(f.count for f in findings.values() if f.kind == "crash")
    hang_inputs = sum(f.count for f in findings.values() if f.kind == "hang")
    print(f"inputs: {inputs:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(by_target.items()))})")
    print(f"crashes: {crash_inputs} inputs at {sum(1 for f in findings.values() if f.kind == 'crash')} sites")
    print(f"hangs (> {fuzzing.HANG_SECONDS:g} s CPU): {hang_inputs}; slowest input {slowest:.3f} s")
    print(f"CPU: {time.process_time() - start:,.1f} s; peak RSS: {peak_mib:,.0f} MiB")
    for finding in findings.values():
        print(f"  {finding.kind} x{finding.count}: {finding.key}\n      {finding.example[:300]}")


if __name__ == "__main__":
    main()
