"""The package's layering, checked on the source: who may import whom.

The pure core (tools, plans, validators, the error tree) imports nothing above it; the shared layers (the row
contract, the LLM layer, recipes, console) import no stage; the stages do not reach into each other
(curation_ui, trainers and publishing never import the generator; curation_ui and trainers never import each
other). Function-level imports count as much as top-level ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[1] / "planforge"

CORE = {"errors", "tools", "plan", "validators", "structures"}
STAGES = {"generator", "pairs", "curation_ui", "trainers", "publishing"}
SHARED = {"dataset", "llms", "recipes", "console", "commands", "prompting", "secrets", "plan_files", "interchange"}

#: unit -> units it must never import
FORBIDDEN = {
    **{core: (SHARED | STAGES | {"cli"}) - {"errors"} for core in CORE},
    **{shared: STAGES | {"cli"} for shared in SHARED - {"commands"}},
    "curation_ui": {"generator", "trainers"},
    "trainers": {"generator", "curation_ui"},
    "publishing": {"generator"},
    "pairs": {"generator", "curation_ui", "trainers"},
}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "planforge" or len(parts) < 2:
        return None
    return parts[1]


def imports_by_unit() -> dict[str, dict[str, set[str]]]:
    """unit -> {imported unit -> files that import it}."""
    found: dict[str, dict[str, set[str]]] = {}
    for file in PACKAGE.rglob("*.py"):
        relative = file.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        module = ".".join(parts)
        unit = unit_of(module)
        if unit is None:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            for target in targets:
                other = unit_of(target)
                if other is not None and other != unit:
                    found.setdefault(unit, {}).setdefault(other, set()).add(str(relative))
    return found


def test_no_unit_imports_what_it_must_not():
    graph = imports_by_unit()
    problems = [
        f"{unit} imports {other} (in {', '.join(sorted(files))})"
        for unit, forbidden in FORBIDDEN.items()
        for other, files in graph.get(unit, {}).items()
        if other in forbidden
    ]
    assert problems == []


@pytest.mark.slow
def test_the_checker_sees_real_imports():
    """The stages do import the shared layers: an empty graph would pass the test above for nothing."""
    graph = imports_by_unit()
    assert "dataset" in graph["generator"] and "llms" in graph["generator"]
    assert "validators" in graph["pairs"] and "dataset" in graph["publishing"]


def test_every_unit_is_classified():
    units = {unit_of("planforge." + p.relative_to(PACKAGE).with_suffix("").parts[0]) for p in PACKAGE.rglob("*.py")}
    units.discard("__init__")
    units.discard("__main__")
    assert units <= CORE | STAGES | SHARED | {"cli"}, units - (CORE | STAGES | SHARED | {"cli"})
