"""``gen recipes init``: a working recipe folder for anyone's functions.

What it writes: ``tools.json`` (the functions normalized to JSON Schema, whatever dialect they came in),
``recipe.yaml`` (sampling defaults sized to the number of functions, the teacher prompt to edit, few-shot
examples from a dataset or a placeholder to fill, no rules) and a short ``README.md``. The folder runs with
``gen run recipe ./NAME --teacher openai``; the offline template teacher needs a grammar only the bundled
mac_assistant recipe has."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planforge.errors import RecipeError
from planforge.recipes.prompts import DEFAULT_SYSTEM_PROMPT
from planforge.tools import ToolSet

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
FEW_SHOT_FROM_DATASET = 3


@dataclass(frozen=True)
class Shot:
    query: str
    plan: str
    now: str = ""


def sampling_defaults(n_functions: int) -> dict[str, Any]:
    """Targets 1..min(4, n); distractors up to min(6, n - targets) so every request can be filled."""
    max_targets = max(1, min(4, n_functions))
    spare = max(0, n_functions - max_targets)
    today = dt.date.today()
    return {
        "min_targets": 1,
        "max_targets": max_targets,
        "min_distractors": min(2, spare),
        "max_distractors": min(6, spare),
        "examples_per_request": 5,
        "now": {"start": today.isoformat(), "end": (today + dt.timedelta(days=365)).isoformat()},
    }


def recipe_files(name: str, tools: ToolSet, shots: Sequence[Shot] = (), source: str = "") -> dict[str, str]:
    """The files of a new recipe folder, as text (pure)."""
    if not NAME.match(name):
        raise RecipeError(f"recipe name {name!r}: use letters, digits, '_', '.' or '-'")
    functions = [{"type": "function", "function": entry["function"]} for entry in tools.to_openai()]
    header = {
        "name": name,
        "version": "0.1.0",
        "description": f"Requests and plans over the {len(tools)} functions in tools.json"
        + (f" (from {source})" if source else "")
        + ". Say here who makes the requests and what the assistant does: the dataset card starts with it.",
        "license": "apache-2.0",
        "language": "en",
        "tools": "tools.json",
    }
    parts = [
        "# A planforge recipe (written by `gen recipes init`). Fields: planforge/recipes/recipe.schema.json;",
        "# a complete example: the bundled mac_assistant recipe (`gen recipes show mac_assistant`).",
        _dump(header),
        "# How requests are drawn: how many functions each must need (targets), how many others are offered",
        "# beside them (distractors), and the range of the example's current date.",
        _dump({"sampling": sampling_defaults(len(tools))}),
        "# The teacher LLM's instructions. {planner_instructions}, {functions}, {rules} and {few_shot} are filled in",
        "# for every request. Describe your users and their requests in the first paragraph.",
        _dump({"teacher": {"temperature": 0.9, "max_tokens": 4096, "system_prompt": DEFAULT_SYSTEM_PROMPT}}),
        "# Recipe rules: module:function references, each a check of (plan, tools, context) -> problems",
        "# (see planforge/recipes/mac_assistant/rules.py). None yet.",
        _dump({"rules": [], "require_join": True, "splits": {"validation": 0.05, "test": 0.05}}),
    ]
    if shots:
        parts += [
            "# Few-shot examples shown to the teacher (checked against tools.json when the recipe loads).",
            _dump({"few_shot": [_shot(s) for s in shots]}),
        ]
    else:
        parts += [_placeholder(tools), "few_shot: []\n"]
    readme = (
        f"# {name}\n\nA planforge recipe over {len(tools)} functions"
        + (f", from {source}" if source else "")
        + ".\n\n```bash\ngen recipes show ./"
        + name
        + "\ngen run recipe ./"
        + name
        + " --teacher openai --model gpt-4o-mini --out runs/"
        + name
        + " -n 1000\n```\n\nEdit `recipe.yaml`: the description, the teacher prompt, a few hand-checked "
        "few-shot examples, and rules for what a plan must get right in this domain.\n"
    )
    return {
        "tools.json": json.dumps(functions, indent=2, ensure_ascii=False) + "\n",
        "recipe.yaml": "\n".join(parts),
        "README.md": readme,
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the prompt, plans) as ``|-`` blocks, so they read and edit as written."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def _shot(shot: Shot) -> dict[str, str]:
    out = {"query": shot.query}
    if shot.now:
        out["now"] = shot.now
    out["plan"] = shot.plan
    return out


def _placeholder(tools: ToolSet) -> str:
    first = tools.specs[0]
    args = ", ".join("..." for _ in first.param_names)
    return (
        "# Few-shot examples shown to the teacher: two or three hand-checked ones improve its plans a lot.\n"
        "# Fill in and uncomment (plans are checked against tools.json when the recipe loads):\n"
        "# few_shot:\n"
        "#   - query: a request one of your users would write\n"
        '#     now: "2026-03-09 10:00:00"\n'
        "#     plan: |-\n"
        f"#       1. {first.name}({args})\n"
        "#       2. join()\n"
    )


def shots_from_rows(rows: Sequence[Mapping[str, Any]], tools: ToolSet, k: int = FEW_SHOT_FROM_DATASET) -> list[Shot]:
    """Up to ``k`` examples whose functions are all in ``tools``, of as many different plan structures as there
    are (the first of each structure, then the rest in order)."""
    usable = [r for r in rows if set(r.get("target_tools") or ()) <= set(tools)]
    first_of: dict[str, Mapping[str, Any]] = {}
    for row in usable:
        first_of.setdefault(str((row.get("meta") or {}).get("structure") or row["id"]), row)
    picked = list(first_of.values())[:k]
    picked += [r for r in usable if r not in picked][: k - len(picked)]
    return [Shot(r["query"], r["plan_text"], (r.get("meta") or {}).get("now") or "") for r in picked]


def tools_of_rows(rows: Sequence[Mapping[str, Any]]) -> ToolSet:
    """Every function offered anywhere in ``rows`` (first definition of each name)."""
    from planforge.dataset.rows import ToolCache

    cache = ToolCache()
    seen: dict[str, Any] = {}
    for row in rows:
        for spec in cache.get(row["tools"]).specs:
            seen.setdefault(spec.name, spec)
    return ToolSet(tuple(seen.values()))


def write_recipe(folder: Path, files: Mapping[str, str], overwrite: bool = False) -> Path:
    """Write the files into ``folder`` (refused when it exists with content, unless ``overwrite``)."""
    from planforge.dataset.disk import atomic_dir

    with atomic_dir(folder, overwrite) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
    return folder
