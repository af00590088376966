"""Validation throughput: parse + every check, on one core; and ``gen validate`` end to end.

Generates N LLMCompiler plans of 1-6 steps over the 16 mac_assistant functions, a share of their steps
broken on purpose (a wrong type, a missing argument, a forward reference, an unknown function), then
times ``validate`` (parse + every check) over all of them. Target: >= 20,000 plans/s.

Timings are CPU time, best of ``--repeat`` runs, each beside a control measured in the same run (writing
and reading the same plans as JSON lines), so that a busy machine shows in both and the ratio holds.

``--end-to-end`` runs ``gen validate`` on the plans as a JSONL file, as a process, against a process that
only reads and writes the same lines (target: within 2x), and times start-up to the first verdict on a
one-line file (target: <= 0.4 s).

    python benchmarks/validate_bench.py [--plans 10000] [--seed 0] [--broken-steps 0.06] [--repeat 5]
    python benchmarks/validate_bench.py --end-to-end [--plans 20000]
    python benchmarks/validate_bench.py --code ../main   # the same, timing another checkout's planforge
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))  # this checkout's planforge (or --code's), not an installed one

from planforge.plan import format_value  # noqa: E402
from planforge.tools import ToolSet, load_tools  # noqa: E402
from planforge.validators import validate  # noqa: E402

TOOLS_PATH = ROOT / "planforge" / "recipes" / "mac_assistant" / "tools.json"
SAMPLE_VALUES = {
    "string": ["Sid", "Quarterly review", "2026-11-22 15:00:00", "", "Meeting notes: bring the slides"],
    "integer": [0, 1, 30, 60],
    "boolean": [True, False],
}
# Reads and writes every line, as the least any JSONL tool does: the control for gen validate.
READ_WRITE = """import json, sys
out = sys.stdout
for line in open(sys.argv[1]):
    out.write(json.dumps(json.loads(line), ensure_ascii=False) + "\\n")
"""


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


def cpu(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def child_cpu(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process run to completion, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(CODE), **env}  # `-m planforge` from the code under test (cwd first)
    env = {k: v for k, v in env.items() if v}  # an empty value unsets the variable
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env, cwd=CODE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def throughput(plans: list[str], tools: ToolSet, repeat: int) -> None:
    lines = [json.dumps({"id": i, "plan": p}) for i, p in enumerate(plans)]
    validate(plans[0], tools, require_join=True)  # compile the per-function checkers once
    best = control = float("inf")
    for _ in range(repeat):
        best = min(best, cpu(lambda: [validate(p, tools, require_join=True) for p in plans]))
        control = min(control, cpu(lambda: [json.loads(json.dumps(json.loads(line))) for line in lines]))
    verdicts = [bool(validate(plan, tools, require_join=True)) for plan in plans]
    invalid = sum(verdicts)
    mean_steps = sum(p.count("\n") for p in plans) / len(plans)
    print(f"plans: {len(plans)} (mean {mean_steps:.2f} calls + join), invalid: {invalid}")
    print(f"elapsed: {best:.3f} s on one core -> {len(plans) / best:,.0f} plans/s (best of {repeat})")
    print(f"control (read + write each plan as a JSON line): {control:.3f} s; validate/control {best / control:.2f}")
    valid = [plan for plan, wrong in zip(plans, verdicts, strict=True) if not wrong]
    broken = [plan for plan, wrong in zip(plans, verdicts, strict=True) if wrong]
    for label, part in (("valid", valid), ("invalid", broken)):
        if part:
            check_all = lambda part=part: [validate(p, tools, require_join=True) for p in part]  # noqa: E731
            took = min(cpu(check_all) for _ in range(repeat))
            print(f"per {label} plan: {took / len(part) * 1e6:.1f} us ({len(part):,} plans)")


def end_to_end(plans: list[str], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plans.jsonl"
        path.write_text("".join(json.dumps({"id": i, "plan": p}) + "\n" for i, p in enumerate(plans)))
        one = Path(folder) / "one.jsonl"
        one.write_text(json.dumps({"id": 0, "plan": plans[0]}) + "\n")
        python = sys.executable
        gen = [python, "-m", "planforge", "validate", str(path), "--tools", str(TOOLS_PATH)]
        control = [python, "-c", READ_WRITE, str(path)]
        first = [python, "-m", "planforge", "validate", str(one), "--tools", str(TOOLS_PATH)]
        # An installed package runs from cached bytecode; some environments set PYTHONDONTWRITEBYTECODE.
        modes = {
            "bytecode cached": {"PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"), "PYTHONDONTWRITEBYTECODE": ""},
            "no bytecode cache": {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""},
        }
        child_cpu(first, modes["bytecode cached"])  # fill the cache
        for mode, env in modes.items():
            best = {name: (float("inf"), float("inf")) for name in ("gen", "control", "first", "core", "cli", "bare")}
            commands = {
                "gen": gen,
                "control": control,
                "first": first,
                "core": [python, "-c", "import planforge.plan_files"],
                "cli": [python, "-c", "import planforge.cli"],
                "bare": [python, "-c", "pass"],
            }
            for _ in range(repeat):
                for name, command in commands.items():
                    cpu_s, wall_s = child_cpu(command, env)
                    best[name] = (min(best[name][0], cpu_s), min(best[name][1], wall_s))
            gen_s, control_s = best["gen"][0], best["control"][0]
            print(f"-- {mode} (best of {repeat}) --")
            print(f"gen validate, {len(plans):,} plans: {gen_s:.3f} s CPU, start-up included")
            print(f"reading + writing the same lines: {control_s:.3f} s CPU -> ratio {gen_s / control_s:.2f}")
            first_cpu, first_wall = best["first"]
            print(f"start-up to the first verdict (one line): {first_wall:.3f} s wall, {first_cpu:.3f} s CPU")
            bare = best["bare"][1]
            print(
                f"imports (wall, beyond a bare interpreter's {bare:.3f} s): validation engine "
                f"{best['core'][1] - bare:.3f} s, the whole CLI module {best['cli'][1] - bare:.3f} s"
            )
    in_process(plans, repeat)


def in_process(plans: list[str], repeat: int) -> None:
    """The same comparison inside one process: no interpreter or CLI start-up on either side."""
    import io

    try:
        from planforge.plan_files import validate_text
    except ImportError:  # --code names a checkout from before plan_files had it
        print("-- in one process: not available in this checkout --")
        return
    tools = load_tools(TOOLS_PATH)
    text = "".join(json.dumps({"id": i, "plan": p}) + "\n" for i, p in enumerate(plans))

    def read_write() -> None:
        out = io.StringIO()
        for line in text.split("\n")[:-1]:
            out.write(json.dumps(json.loads(line), ensure_ascii=False) + "\n")

    best = control = float("inf")
    for _ in range(repeat):
        best = min(best, cpu(lambda: validate_text(text, "plans.jsonl", tools, out=io.StringIO())))
        control = min(control, cpu(read_write))
    print(f"-- in one process (best of {repeat}) --")
    print(f"validate_text, {len(plans):,} lines: {best:.3f} s CPU; reading + writing them: {control:.3f} s")
    print(f"ratio {best / control:.2f} (target <= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=None, help="default 10,000; 20,000 with --end-to-end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--broken-steps", type=float, default=0.06, help="share of steps broken on purpose")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best counts")
    parser.add_argument("--end-to-end", action="store_true", help="gen validate as a process, and its start-up")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose planforge to time (A/B runs)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core (children inherit it)
    tools = load_tools(TOOLS_PATH)
    rng = random.Random(args.seed)
    count = args.plans or (20_000 if args.end_to_end else 10_000)
    plans = [make_plan(tools, rng, args.broken_steps) for _ in range(count)]
    if args.end_to_end:
        end_to_end(plans, args.repeat)
    else:
        throughput(plans, tools, args.repeat)


if __name__ == "__main__":
    main()
