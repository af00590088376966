"""Rows in, prompts out: what the trainers and the evaluator show a planner model, and the columns they need.

Prompts are rendered by :mod:`planforge.prompting` only (through :func:`planforge.dataset.rows.row_prompt`), so
training and evaluation see the same text. With a ToolRAG classifier the system prompt lists its selection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planforge.tools import ToolSet

#: columns each command needs, by dataset kind
PLAN_COLUMNS_SFT = ("query", "tools", "plan_text", "meta")
PLAN_COLUMNS_EVAL = ("id", "query", "tools", "plan", "meta")
PLAN_COLUMNS_TOOLRAG = ("query", "tools", "target_tools")
PAIR_COLUMNS = ("prompt", "chosen", "rejected")


def toolrag_shown(
    classifier: Any, queries: Sequence[str], needed: Sequence[Sequence[str]], *, add_needed: bool = True
) -> tuple[list[ToolSet], dict[str, Any]]:
    """The functions a ToolRAG classifier lists for each request, in its order. ``add_needed`` (training): also
    list the functions the target plan calls that the classifier missed, so the target stays writable."""
    selections = classifier.select(list(queries))
    missed = 0
    shown = []
    for names, wanted in zip(selections, needed, strict=True):
        lost = [t for t in wanted if t not in names]
        missed += bool(lost)
        if add_needed and lost:
            names.extend(t for t in lost if t in classifier.tools)
        chosen = set(names)
        shown.append(classifier.tools.subset([n for n in classifier.tools if n in chosen]))
    info = {
        "toolrag_rows_with_missed_targets": missed,
        "toolrag_mean_shown": sum(len(s) for s in shown) / max(len(shown), 1),
    }
    return shown, info


def plan_completion(plan_text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": plan_text}]
