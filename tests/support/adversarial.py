"""Inputs built to make the parser and validators slow; the tests check their verdicts, the benchmark times them.

Timing lives in ``benchmarks/adversarial_parse.py`` (CPU time against the size, ratios within one run); a
test asserting seconds fails on a loaded machine for reasons that are not planforge's.
"""

from __future__ import annotations

from collections.abc import Callable

# Plan text a quadratic pattern rescans: each maps a size in characters to one line (or plan) of about that size.
ADVERSARIAL_LINES: dict[str, Callable[[int], str]] = {
    "escaped quotes in an open string": lambda n: '1. open_note("' + '\\"' * (n // 2) + ")",
    "same, with a bare reference": lambda n: '1. open_note($1, "' + '\\"' * (n // 2) + ")",
    "spaces after the call": lambda n: "1. f()" + " " * n + "x",
    "quote and letter": lambda n: "1. f(" + '"x' * (n // 2) + ")",
    "bare dollars": lambda n: "1. f(" + " $" * (n // 2) + ")",
}

# Calls of the mac_assistant tools aimed at the argument screen: array items, spaces, quotes, optional tails.
ADVERSARIAL_CALLS: dict[str, Callable[[int], str]] = {
    "array of strings, unclosed": lambda n: "1. send_sms([" + '"a", ' * (n // 5) + '"b"',
    "array of strings, wrong end": lambda n: "1. send_sms([" + '"a", ' * (n // 5) + '1], "hi")',
    "spaces between arguments": lambda n: '1. get_email_address("Sid"' + " " * n + ', "x")',
    "open string": lambda n: '1. get_email_address("' + "a" * n + ")",
    "optional tail": lambda n: '1. create_calendar_event("a", "b", "c", "d", [], "e", ' + " " * n + "None, 1)",
    "many steps": lambda n: "\n".join(f'{i}. get_email_address("$1")' for i in range(1, n // 30)),
}

SIZES = (16 * 1024, 60 * 1024)  # characters; the quadratic patterns took 1.6 s and 21.7 s on these


def forward_reference_chain(steps: int = 3000) -> str:
    """Every step waits for the next and the last for the first: one cycle through every step."""
    lines = [f'{i}. f("${i + 1}")' for i in range(1, steps)]
    return "\n".join([*lines, f'{steps}. f("$1")'])


def unsortable_unique_tags(count: int = 20_000) -> list[dict]:
    """Distinct objects for a ``uniqueItems`` array: jsonschema's own check compares every pair."""
    return [{"i": i} for i in range(count)]


def long_wrong_points(count: int = 30_000) -> list[list[dict]]:
    """One array of ``count`` wrong items for BFCL's ``plot_points``: every item is a type error."""
    return [[{}] * count]
