"""Time and peak memory of `gen stats` and `gen report` on a million rows.

The rows are a real template-teacher dataset's rows repeated to 1,000,000 (same columns and value sizes as a
real run; statistics do not care that rows repeat). Each command runs as its own process under
``/usr/bin/time -v``, so the figures are a user's: CPU seconds, wall seconds and peak RSS.

    python benchmarks/stats_bench.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(folder: Path, rows: int) -> Path:
    import datasets

    seed = folder / "seed"
    subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(seed), "-n", "5000",
         "--teacher", "template", "--no-cache", "--overwrite"],
        check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    train = datasets.load_from_disk(str(seed))["train"]
    copies = -(-rows // len(train))
    big = datasets.concatenate_datasets([train] * copies)  # references the same Arrow file: no copy
    if len(big) > rows:
        big = big.select(range(rows))
    out = folder / "big"
    shards = max(1, int(big.data.nbytes * rows / len(big)) // 200_000_000 + 1)  # ~200 MB each: 32-bit offsets
    datasets.DatasetDict({"train": big}).save_to_disk(str(out), num_shards={"train": shards})
    return out


def measure(args: list[str]) -> dict[str, float]:
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "planforge", *args], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-800:]}")

    def number(label: str) -> float:
        return float(re.search(rf"{label}: ([\d.:]+)", result.stderr).group(1).split(":")[-1])

    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", result.stderr).group(1)
    seconds = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.split(":"))))
    return {
        "cpu_s": number("User time \\(seconds\\)") + number("System time \\(seconds\\)"),
        "wall_s": seconds,
        "peak_rss_mb": number("Maximum resident set size \\(kbytes\\)") / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the rows here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="planforge-stats-"))
    started = time.perf_counter()
    data = build(folder, args.rows)
    print(f"built {args.rows:,} rows in {time.perf_counter() - started:.0f} s: {data}", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    for name, command in (
        ("gen stats", ["stats", str(data), "--json"]),
        ("gen report", ["report", str(data), "--out", str(folder / "report.html")]),
    ):
        figures = measure(command)
        print(
            f"{name:10s} {args.rows:,} rows: {figures['cpu_s']:.1f} s CPU, {figures['wall_s']:.1f} s wall, "
            f"peak RSS {figures['peak_rss_mb']:,.0f} MB (load average {' '.join(load)})",
            flush=True,
        )


if __name__ == "__main__":
    main()
