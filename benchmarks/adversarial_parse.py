"""Parsing time of adversarial LLMCompiler lines, before and after the linear tokenizer, in one run.

"Before" runs the patterns the parser used until the tokenizer was made linear (kept here as the control):
a step-line pattern ending ``\\((.*)\\)\\s*(<END_OF_PLAN>)?\\s*\\Z`` and string tokens that, left
unterminated, are rescanned from every later quote. "After" is :func:`planforge.plan.parse_text` itself,
every check of a line included. CPU time, one line at a time.

    python benchmarks/adversarial_parse.py [--sizes 4096,16384,61440] [--before-up-to 61440]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planforge.plan import PlanSyntaxError, parse_text  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4096,16384,61440", help="line lengths in characters")
    parser.add_argument("--before-up-to", type=int, default=61440, help="skip the old patterns on longer lines")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'line':32s} {'size':>7s} {'before':>10s} {'after':>10s}")
    for name, make in LINES.items():
        for size in sizes:
            line = make(size)
            before = f"{cpu_seconds(old_patterns, line):.3f} s" if size <= args.before_up_to else "skipped"
            after = f"{cpu_seconds(current_parser, line):.4f} s"
            print(f"{name:32s} {size // 1024:>5d} K {before:>10s} {after:>10s}", flush=True)


if __name__ == "__main__":
    main()
