"""How many of the hand-written dev set's plan structures a generated dataset covers.

A structure is a plan's function multiset and DAG up to isomorphism (:mod:`planforge.structures`). The dev set
(``benchmarks/data/mac_dev.jsonl``) is never training data; this reads only its plans, and prints only counts
and structure keys, never its requests, so a generator can be held to the structures people ask for without
seeing their words.

    python benchmarks/dev_coverage.py DATASET_DIR [--dev benchmarks/data/mac_dev.jsonl] [--missing]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planforge.dataset.stats import compute_stats, reference_structures, structure_coverage  # noqa: E402
from planforge.publishing.source import load_source  # noqa: E402
from planforge.structures import describe  # noqa: E402


def coverage(dataset: Path, dev: Path) -> dict:
    """The figures of ``gen stats DATASET --dev DEV`` (the same functions)."""
    source = load_source(dataset)
    stats = compute_stats(source.splits, source.kind, source.split_sizes)
    found = structure_coverage(stats, reference_structures(load_source(dev).splits))
    return {"dataset_structures": len(stats.structures), **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--dev", type=Path, default=ROOT / "benchmarks" / "data" / "mac_dev.jsonl")
    parser.add_argument("--missing", action="store_true", help="print the structures the dataset lacks")
    args = parser.parse_args()
    found = coverage(args.dataset, args.dev)
    print(f"dataset structures: {found['dataset_structures']:,}")
    for name, counts in [("structures", found["structures"]), *found["items"].items()]:
        covered, total = counts["covered"], counts["total"]
        print(f"dev {name} covered: {covered}/{total} ({covered / total:.1%})")
    if args.missing:
        for key in found["missing"]:
            print(f"missing: {key}    ({describe(key)})")


if __name__ == "__main__":
    main()
