"""CPU time of adversarial inputs: the parser before and after its linear tokenizer, and every case the tests use.

"Before" runs the patterns the parser used until the tokenizer was made linear (kept here as the control):
a step-line pattern ending ``\\((.*)\\)\\s*(<END_OF_PLAN>)?\\s*\\Z`` and string tokens that, left
unterminated, are rescanned from every later quote. "After" is :func:`planforge.plan.parse_text` itself,
every check of a line included. CPU time, one line at a time.

The second table times the inputs the tests build in ``tests/support/adversarial.py`` (the tests check
their verdicts only): each at two sizes, and the growth from the smaller to the 4x larger size, which is
about 4 when the work is linear and 16 when it is quadratic (mean CPU per call after a warm-up call).
``--check`` exits 1 when a growth passes ``--max-growth`` (8) or an input takes more than 1 s of CPU.

    python benchmarks/adversarial_parse.py [--sizes 4096,16384,61440] [--before-up-to 61440] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planforge.plan import PlanSyntaxError, parse_plan, parse_text  # noqa: E402
from planforge.tools import load_tools, tools_from_json  # noqa: E402
from planforge.validators import match_arguments, validate  # noqa: E402
from tests.support import adversarial  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

OLD_STEP_LINE = re.compile(
    r"(\d+)\s*\.\s*([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)\s*\((.*)\)\s*(<END_OF_PLAN>)?\s*\Z", re.S
)
OLD_JSONABLE_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\d[\w.+-]*|[A-Za-z_]\w*|\'')
OLD_MAYBE_BARE_REFERENCE = re.compile(r"(?:^|[\s,(\[{:=])\$")
OLD_STRING_OR_BARE_REFERENCE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|(\$\{?\d+\}?)')

LINES = {
    "open string of escaped quotes": lambda n: '1. open_note("' + '\\"' * (n // 2) + ")",
    "same, after a bare $1": lambda n: '1. open_note($1, "' + '\\"' * (n // 2) + ")",
    "spaces after the call": lambda n: "1. f()" + " " * n + "x",
}


def old_patterns(line: str) -> None:
    """The regex work the old parser did on one line (the rest of its work was linear)."""
    match = OLD_STEP_LINE.match(line)
    if match is None:
        return
    src = match.group(3)
    if "$" in src and OLD_MAYBE_BARE_REFERENCE.search(src):
        src = OLD_STRING_OR_BARE_REFERENCE.sub(lambda m: f'"{m.group(1)}"' if m.group(1) else m.group(0), src)
    OLD_JSONABLE_TOKEN.sub(lambda m: m.group(0), src)


def current_parser(line: str) -> None:
    with contextlib.suppress(PlanSyntaxError):  # every adversarial line is a syntax verdict
        parse_text(line)


def cpu_seconds(function, line: str) -> float:
    start = time.process_time()
    function(line)
    return time.process_time() - start


def scaled_cases():
    """(name, small, large): callables doing one case's work at a size and at 4x that size."""
    mac = load_tools(ROOT / "planforge" / "recipes" / "mac_assistant" / "tools.json")
    bfcl = load_tools(ROOT / "tests" / "data" / "bfcl_functions.json")
    tags = {"tags": {"type": "array", "uniqueItems": True}}
    unique = tools_from_json([{"name": "f", "parameters": {"type": "object", "properties": tags}}])

    def calls(name, arguments, tools):
        return partial(validate, [{"name": name, "arguments": arguments}], tools)

    for name, make in adversarial.ADVERSARIAL_LINES.items():
        yield f"parse: {name}", partial(current_parser, make(15 * 1024)), partial(current_parser, make(60 * 1024))
    for name, make in adversarial.ADVERSARIAL_CALLS.items():
        yield f"validate: {name}", partial(validate, make(15 * 1024), mac), partial(validate, make(60 * 1024), mac)
    chain = adversarial.forward_reference_chain
    yield "validate: cycle through every step", partial(validate, chain(750), mac), partial(validate, chain(3000), mac)
    many = adversarial.unsortable_unique_tags
    yield (
        "validate: unique unsortable items",
        calls("f", {"tags": many(5000)}, unique),
        calls("f", {"tags": many(20_000)}, unique),
    )
    points = adversarial.long_wrong_points
    yield (
        "validate: long wrong array",
        calls("plot_points", {"points": points(7500)}, bfcl),
        calls("plot_points", {"points": points(30_000)}, bfcl),
    )
    yield "match: alike calls", partial(alike_calls, mac, 5), partial(alike_calls, mac, 20)


def cpu_per_call(work, at_least: float = 0.2) -> float:
    """Mean CPU seconds of ``work()`` after one warm-up call, repeated for at least ``at_least`` seconds."""
    work()
    calls, start = 0, time.process_time()
    while (spent := time.process_time() - start) < at_least:
        work()
        calls += 1
    return spent / calls


def alike_calls(tools, people: int) -> None:
    """Pair a plan of ``people`` alike lookups against the same plan reversed (a pairing of every call)."""
    names = [f"Person{i}" for i in range(people)]
    refs = ", ".join(f'"${i}"' for i in range(1, people + 1))
    tail = f'{people + 1}. compose_new_email([{refs}], [], "hi", "", [])\n{people + 2}. join()'

    def plan(order):
        text = "\n".join(f'{i}. get_email_address("{n}")' for i, n in enumerate(order, 1)) + "\n" + tail
        return parse_plan(text, param_order=tools.param_order).bind(tools.param_order)

    match_arguments(plan(list(reversed(names))), plan(names))


def scaling_table(max_growth: float) -> bool:
    """Print each case's CPU time at both sizes and the growth; True when every case is within bounds."""
    within = True
    print(f"\n{'input':44s} {'small':>9s} {'4x larger':>10s} {'growth':>7s}")
    for name, small, large in scaled_cases():
        small_s, large_s = cpu_per_call(small), cpu_per_call(large)
        growth = large_s / small_s
        ok = growth <= max_growth and large_s <= 1.0
        within &= ok
        print(f"{name:44s} {small_s:>7.4f} s {large_s:>8.4f} s {growth:>6.1f}x{'' if ok else '  <- too slow'}")
    return within


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4096,16384,61440", help="line lengths in characters")
    parser.add_argument("--before-up-to", type=int, default=61440, help="skip the old patterns on longer lines")
    parser.add_argument("--max-growth", type=float, default=8.0, help="largest CPU growth for 4x the input")
    parser.add_argument("--check", action="store_true", help="exit 1 when an input grows faster or takes > 1 s")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'line':32s} {'size':>7s} {'before':>10s} {'after':>10s}")
    for name, make in LINES.items():
        for size in sizes:
            line = make(size)
            before = f"{cpu_seconds(old_patterns, line):.3f} s" if size <= args.before_up_to else "skipped"
            after = f"{cpu_seconds(current_parser, line):.4f} s"
            print(f"{name:32s} {size // 1024:>5d} K {before:>10s} {after:>10s}", flush=True)
    if not scaling_table(args.max_growth) and args.check:
        sys.exit(1)


if __name__ == "__main__":
    main()
