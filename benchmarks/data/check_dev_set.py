"""What the mac_assistant development set holds: items valid against the recipe, counts by difficulty, items
per function, plan lengths, dependency depth and the share of each tag.

    python benchmarks/data/check_dev_set.py [benchmarks/data/mac_dev.jsonl] [--markdown]

Exits 1 when an item's plan does not pass the recipe's validators (tools, join, rules with the item's query and
"now"), so the counts it prints are those of a clean set. ``--markdown`` prints the tables as the README shows
them. tests/test_dev_set.py holds every item to the rest of the set's contract.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's planforge, whatever else is installed

from planforge.plan import Plan, parse_plan  # noqa: E402
from planforge.recipes.loader import load_recipe  # noqa: E402
from planforge.validators import validate  # noqa: E402

DEFAULT = Path(__file__).resolve().parent / "mac_dev.jsonl"
DIFFICULTIES = ("single", "parallel", "multi")


def depth(plan: Plan) -> int:
    """Calls on the longest $K chain (1 for a plan of independent calls)."""
    level: dict[int, int] = {}
    for step in plan.calls:
        level[step.index] = 1 + max((level.get(r, 0) for r in step.references), default=0)
    return max(level.values(), default=0)


def table(title: str, header: tuple[str, str, str], rows: list[tuple[str, int, str]], markdown: bool) -> str:
    if markdown:
        lines = [f"| {header[0]} | {header[1]} | {header[2]} |", "|---|---:|---:|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        return f"**{title}**\n\n" + "\n".join(lines) + "\n"
    width = max([len(header[0])] + [len(a) for a, _, _ in rows])
    lines = [f"{header[0]:<{width}}  {header[1]:>6}  {header[2]:>6}"]
    lines += [f"{a:<{width}}  {b:>6}  {c:>6}" for a, b, c in rows]
    return f"{title}\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--markdown", action="store_true", help="Print the tables as Markdown.")
    args = parser.parse_args(argv)

    recipe = load_recipe("mac_assistant")
    tools = recipe.tools
    items = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    n = len(items)
    invalid = 0
    by_difficulty: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    calls_per_function: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    depths: Counter[int] = Counter()
    tags: Counter[str] = Counter()
    pairs: set[tuple[str, str]] = set()  # functions used together in one plan
    wide = 0  # items with a step taking three or more $K inputs
    for item in items:
        plan = parse_plan(item["plan"], "llmcompiler", tools.param_order)
        errors = validate(
            plan,
            tools,
            require_join=recipe.require_join,
            rules=recipe.rule_functions(),
            context={"query": item["query"], "now": item["now"]},
        )
        if errors:
            invalid += 1
            for error in errors:
                print(f"{item['id']}: {error.message}", file=sys.stderr)
        by_difficulty[item["difficulty"]] += 1
        by_function.update(set(plan.function_names()))
        calls_per_function.update(plan.function_names())
        lengths[len(plan.calls)] += 1
        depths[depth(plan)] += 1
        tags.update(set(item.get("tags", [])))
        used = sorted(set(plan.function_names()))
        pairs.update((a, b) for i, a in enumerate(used) for b in used[i + 1 :])
        wide += any(len(set(s.references)) >= 3 for s in plan.calls)

    def share(k: int) -> str:
        return f"{100 * k / n:.0f}%" if n else "-"

    md = args.markdown
    out = [f"{args.path.name}: {n} items, {n - invalid} valid\n"]
    out.append(
        table(
            "By difficulty",
            ("difficulty", "items", "share"),
            [(d, by_difficulty[d], share(by_difficulty[d])) for d in DIFFICULTIES],
            md,
        )
    )
    functions = sorted(tools.param_order, key=lambda f: (-by_function[f], f))
    out.append(
        table(
            "By function (items using it, calls in all)",
            ("function", "items", "calls"),
            [(f, by_function[f], str(calls_per_function[f])) for f in functions],
            md,
        )
    )
    missing = [f for f in tools.param_order if not by_function[f]]
    out.append(
        f"functions covered: {len(tools.param_order) - len(missing)}/{len(tools.param_order)}"
        + (f" (missing: {', '.join(missing)})" if missing else "")
        + "\n"
    )
    n_functions = len(tools.param_order)
    out.append(f"function pairs used together in one plan: {len(pairs)} of {n_functions * (n_functions - 1) // 2}\n")
    out.append(
        table(
            "Plan length (calls, join() aside)",
            ("calls", "items", "share"),
            [(str(k), lengths[k], share(lengths[k])) for k in sorted(lengths)],
            md,
        )
    )
    out.append(
        table(
            "Longest $K chain (calls)",
            ("depth", "items", "share"),
            [(str(k), depths[k], share(depths[k])) for k in sorted(depths)],
            md,
        )
    )
    out.append(f"items with a step taking three or more $K inputs: {wide}\n")
    out.append(
        table(
            "Tags",
            ("tag", "items", "share"),
            [(t, c, share(c)) for t, c in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))],
            md,
        )
    )
    print("\n".join(out), end="")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
