"""Rows in, prompts out: the requests of a dataset's rows and the columns each command needs.

What a planner is shown for a request (the functions, ToolRAG's selection, the demonstrations) is decided by
:mod:`planforge.llms.views` and rendered by :mod:`planforge.prompting` only, so training and evaluation see the
same text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planforge.dataset.rows import ToolCache, row_prompt
from planforge.llms.views import PromptSettings, PromptViews, Request

#: columns each command needs, by dataset kind
PLAN_COLUMNS_SFT = ("query", "tools", "plan_text", "meta")
PLAN_COLUMNS_EVAL = ("id", "query", "tools", "plan", "meta")
PLAN_COLUMNS_TOOLRAG = ("query", "tools", "target_tools")
PAIR_COLUMNS = ("prompt", "chosen", "rejected")


def plan_completion(plan_text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": plan_text}]


def plan_requests(rows: list[Mapping[str, Any]], cache: ToolCache) -> list[Request]:
    """A plans dataset's rows as requests: their id, query, system + user turns, offered and needed functions."""
    return [
        Request(row.get("id"), row["query"], row_prompt(row), cache.get(row["tools"]), row.get("target_tools") or ())
        for row in rows
    ]


def resolve_views(cfg: Any, *, run: str | None = None, data: str | None = None, use_run: bool = True) -> PromptViews:
    """The prompts of a command: its ``toolrag``/``icl_examples``/``icl_data``, else what the ``run`` (an adapter)
    was trained with, demonstrations from ``data`` by default. The resolved settings are written back to ``cfg``,
    so the run records the prompts it used."""
    settings = PromptSettings.resolve(cfg.toolrag, cfg.icl_examples, cfg.icl_data, run=run, data=data, use_run=use_run)
    cfg.toolrag, cfg.icl_examples, cfg.icl_data = settings.toolrag, settings.icl_examples, settings.icl_data
    return PromptViews.load(settings)
