"""Validation throughput: parse + every check, on one core.

Generates N LLMCompiler plans of 1-6 steps over the 16 mac_assistant functions, a share of their steps
broken on purpose (a wrong type, a missing argument, a forward reference, an unknown function), then
times ``validate`` (parse + every check) over all of them. Target: >= 20,000 plans/s.

    python benchmarks/validate_bench.py [--plans 10000] [--seed 0] [--broken-steps 0.06]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from importlib import resources

from planforge.plan import format_value
from planforge.tools import ToolSet, load_tools
from planforge.validators import validate

SAMPLE_VALUES = {
    "string": ["Sid", "Quarterly review", "2026-11-22 15:00:00", "", "Meeting notes: bring the slides"],
    "integer": [0, 1, 30, 60],
    "boolean": [True, False],
}


def sample_value(schema: dict, rng: random.Random, earlier: int):
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "array":
        if earlier and rng.random() < 0.5:
            return [f"${rng.randint(1, earlier)}"]
        return [rng.choice(SAMPLE_VALUES["string"]) for _ in range(rng.randint(0, 2))]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if kind == "string" and earlier and rng.random() < 0.3:
        return f"${rng.randint(1, earlier)}"
    return rng.choice(SAMPLE_VALUES.get(kind, ["x"]))


def make_plan(tools: ToolSet, rng: random.Random, broken: float = 0.06) -> str:
    names = list(tools)
    lines = []
    steps = rng.randint(1, 6)
    for index in range(1, steps + 1):
        spec = tools[rng.choice(names)]
        props = spec.parameters["properties"]
        values = [sample_value(props[p], rng, index - 1) for p in spec.param_names]
        roll = rng.random() / broken if broken else 2.0
        if roll < 0.4 and values:
            values.pop()  # missing argument
        elif roll < 0.8 and values:
            values[0] = 12345  # wrong type
        elif roll < 0.9:
            values.append(f"${index + 1}")  # forward reference (and one argument too many)
        name = "send_telegram" if 0.9 <= roll < 1.0 else spec.name
        lines.append(f"{index}. {name}({', '.join(format_value(v) for v in values)})")
    lines.append(f"{steps + 1}. join()")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--broken-steps", type=float, default=0.06, help="share of steps broken on purpose")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    tools = load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")
    rng = random.Random(args.seed)
    plans = [make_plan(tools, rng, args.broken_steps) for _ in range(args.plans)]
    validate(plans[0], tools, require_join=True)  # compile the per-function checkers once
    start = time.process_time()  # CPU time of this process: other load on the machine does not count
    invalid = sum(1 for plan in plans if validate(plan, tools, require_join=True))
    elapsed = time.process_time() - start
    mean_steps = sum(p.count("\n") for p in plans) / len(plans)
    print(f"plans: {len(plans)} (mean {mean_steps:.2f} calls + join), invalid: {invalid}")
    print(f"elapsed: {elapsed:.3f} s on one core -> {len(plans) / elapsed:,.0f} plans/s")


if __name__ == "__main__":
    main()
