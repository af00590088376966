"""How many of the hand-written dev set's plan structures a generated dataset covers.

A structure is a plan's function multiset and DAG up to isomorphism (:mod:`planforge.structures`). The dev set
(``benchmarks/data/mac_dev.jsonl``) is never training data; this reads only its plans, and prints only counts
and structure keys, never its requests, so a generator can be held to the structures people ask for without
seeing their words.

    python benchmarks/dev_coverage.py DATASET_DIR [--dev benchmarks/data/mac_dev.jsonl] [--missing]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planforge.dataset.disk import load_saved_dataset  # noqa: E402
from planforge.dataset.rows import row_plan  # noqa: E402
from planforge.plan import parse_plan  # noqa: E402
from planforge.recipes.loader import load_recipe  # noqa: E402
from planforge.structures import describe, structure_key  # noqa: E402


def coverage(dataset: Path, dev: Path) -> dict:
    tools = load_recipe("mac_assistant").tools
    have = Counter(structure_key(row_plan(row)) for split in load_saved_dataset(dataset).values() for row in split)
    items = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    order = tools.param_order
    keys = [(item["difficulty"], structure_key(parse_plan(item["plan"], param_order=order))) for item in items]
    by = Counter(d for d, _ in keys)
    hit = Counter(d for d, k in keys if k in have)
    distinct = {k for _, k in keys}
    missing = sorted(distinct - set(have))
    return {
        "dataset_structures": len(have),
        "dev_items": len(keys),
        "dev_structures": len(distinct),
        "dev_structures_covered": len(distinct) - len(missing),
        "items_covered": {d: f"{hit[d]}/{by[d]} ({hit[d] / by[d]:.1%})" for d in sorted(by)},
        "missing": missing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--dev", type=Path, default=ROOT / "benchmarks" / "data" / "mac_dev.jsonl")
    parser.add_argument("--missing", action="store_true", help="print the structures the dataset lacks")
    args = parser.parse_args()
    found = coverage(args.dataset, args.dev)
    share = found["dev_structures_covered"] / found["dev_structures"]
    print(f"dataset structures: {found['dataset_structures']:,}")
    print(f"dev structures covered: {found['dev_structures_covered']}/{found['dev_structures']} ({share:.1%})")
    for difficulty, text in found["items_covered"].items():
        print(f"dev {difficulty} items covered: {text}")
    if args.missing:
        for key in found["missing"]:
            print(f"missing: {key}    ({describe(key)})")


if __name__ == "__main__":
    main()
