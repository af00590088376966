"""Hand-written evaluation sets as JSONL, read into the plans row contract, so every command that reads a plans
dataset (``gen eval plans``, ``gen eval toolrag``, ``gen stats``) reads them too.

One object per line: ``{"id", "query", "now", "plan"}`` (the plan as LLMCompiler text or JSON calls) and
optionally ``"recipe"`` (default: the one given; its functions are the offered ones unless the line has
``"tools"``), ``"target_tools"``, ``"difficulty"`` (kept as an extra column, so metrics can be broken down by it)
and ``"tags"``. Every plan is validated with the recipe's rules: an invalid gold plan is an error naming the line,
because an evaluation set is only as good as its answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.dataset.features import PLAN_FEATURES
from planforge.dataset.rows import Example
from planforge.errors import DatasetError, PlanSyntaxError, RecipeError, ToolSpecError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

SPLIT = "test"


def is_jsonl(path: str | Path) -> bool:
    return Path(path).suffix in (".jsonl", ".ndjson") and Path(path).is_file()


def read_jsonl_rows(path: str | Path, *, recipe: str = "mac_assistant") -> list[dict[str, Any]]:
    """The lines of ``path`` as plans rows (plus ``difficulty``). Raises a one-line DatasetError naming the line."""
    from planforge.recipes.loader import load_recipe
    from planforge.tools import tools_from_json
    from planforge.validators import judge

    path = Path(path)
    recipes: dict[str, Any] = {}
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{where}: not a JSON object ({exc})") from None
        missing = [k for k in ("query", "plan") if not isinstance(item, dict) or k not in item]
        if missing:
            raise DatasetError(f"{where}: no {' or '.join(repr(k) for k in missing)}")
        name = item.get("recipe") or recipe
        if name not in recipes:
            try:
                recipes[name] = load_recipe(name)
            except RecipeError as exc:
                raise DatasetError(f"{where}: {exc}") from None
        loaded = recipes[name]
        try:
            tools = tools_from_json(item["tools"]) if item.get("tools") else loaded.tools
        except ToolSpecError as exc:
            raise DatasetError(f"{where}: unreadable tools ({exc})") from None
        now = str(item.get("now") or "")
        context = {"query": item["query"], "now": now}
        verdict = judge(item["plan"], tools, rules=loaded.rule_functions(), context=context)
        if verdict.plan is None or verdict.errors:
            first = verdict.errors[0].message if verdict.errors else "unreadable"
            raise DatasetError(f"{where}: the gold plan is not valid: {first}")
        example = Example(item["query"], verdict.plan, tools, now, teacher="hand-written", recipe=loaded.name)
        row = example.to_row()
        row["id"] = str(item.get("id") or row["id"])
        row["difficulty"] = str(item.get("difficulty") or "")
        rows.append(row)
    if not rows:
        raise DatasetError(f"{path}: no examples")
    return rows


def load_jsonl_dataset(path: str | Path, *, recipe: str = "mac_assistant") -> datasets.DatasetDict:
    """A JSONL evaluation set as a DatasetDict with one split, ``test``."""
    import datasets

    from planforge.dataset.disk import make_dataset

    features = datasets.Features({**PLAN_FEATURES, "difficulty": datasets.Value("string")})
    try:
        return datasets.DatasetDict({SPLIT: make_dataset(read_jsonl_rows(path, recipe=recipe), features)})
    except PlanSyntaxError as exc:  # pragma: no cover - judge() turns syntax into a verdict
        raise DatasetError(f"{path}: {exc}") from None
