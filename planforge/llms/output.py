"""A model's answer -> the plan it wrote: the one cleaning every role applies (student, evaluated model)."""

from __future__ import annotations

import re

from planforge.plan import END_OF_PLAN

#: Where generation stops: the plan's ``N. join()`` line (and an optional ``<END_OF_PLAN>``).
STOP_STRINGS = ("join()", END_OF_PLAN)

_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.M)
_JOIN_LINE = re.compile(r"^\s*\d+\s*\.\s*join\s*\(\s*\)[^\n]*$", re.M)


def clean_output(text: str) -> str:
    """Code fences dropped, cut after the first ``N. join()`` line (keeping an ``<END_OF_PLAN>`` that follows
    it), surrounding whitespace stripped. Text without a join line is kept whole."""
    text = _FENCE.sub("", text)
    match = _JOIN_LINE.search(text)
    if match is not None:
        rest = text[match.end() :]
        text = text[: match.end()]
        if rest.lstrip().startswith(END_OF_PLAN):
            text += "\n" + END_OF_PLAN
    return text.strip()
