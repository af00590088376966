"""Recipes: a folder with ``recipe.yaml`` and the function definitions it names.

A recipe is checked against ``recipe.schema.json`` when loaded; every problem is reported as
``FILE: field 'a.b': what was expected``. Bundled recipes live beside this module and are found by name;
anything else is a path to a user's recipe folder."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from planforge.errors import PlanSyntaxError, RecipeError, ToolSpecError
from planforge.plan import parse_plan
from planforge.recipes.rules import RuleSpec, resolve_rules
from planforge.tools import ToolSet, load_tools
from planforge.validators import Rule, validate

BUNDLED = Path(str(resources.files("planforge.recipes")))
_SCHEMA = json.loads((BUNDLED / "recipe.schema.json").read_text())
_VALIDATOR = Draft202012Validator(_SCHEMA)

DEFAULT_SAMPLING = {
    "min_targets": 1,
    "max_targets": 4,
    "min_distractors": 2,
    "max_distractors": 6,
    "examples_per_request": 5,
    "no_call_share": 0.0,  # requests no offered function serves (their plan: join() alone)
    "co_use": {},
    "now": {"start": "2026-01-05", "end": "2026-12-18"},
}
DEFAULT_SPLITS = {"validation": 0.05, "test": 0.05}
DEFAULT_TEACHER = {"temperature": 0.9, "max_tokens": 4096}


@dataclass(frozen=True)
class FewShot:
    query: str
    plan: str
    now: str | None = None


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    description: str
    path: Path
    tools: ToolSet
    sampling: dict[str, Any]
    teacher: dict[str, Any]
    few_shot: tuple[FewShot, ...]
    rules: tuple[RuleSpec, ...]
    require_join: bool
    splits: dict[str, float]
    pricing: dict[str, tuple[float, float]]
    templates_path: Path | None
    license: str = "apache-2.0"
    language: str = "en"
    key_arguments: dict[str, tuple[str, ...]] | None = None  # None: every argument is key
    seeds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # personas, scenarios (LLM teacher prompts)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def content_hash(self) -> str:
        """sha256 over every file of the recipe folder: what the dataset was made from."""
        digest = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(file.relative_to(self.path).as_posix().encode())
            digest.update(file.read_bytes())
        return digest.hexdigest()

    def rule_functions(self):
        return [r.function for r in self.rules]


def bundled_recipe_names() -> list[str]:
    return sorted(p.parent.name for p in BUNDLED.glob("*/recipe.yaml"))


def resolve_recipe_path(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    if candidate.name == "recipe.yaml" and candidate.is_file():
        return candidate.parent
    bundled = BUNDLED / str(name_or_path)
    if (bundled / "recipe.yaml").is_file():
        return bundled
    known = ", ".join(bundled_recipe_names()) or "none"
    raise RecipeError(f"{name_or_path}: no such recipe folder and no bundled recipe of that name (bundled: {known})")


def load_recipe(name_or_path: str | Path) -> Recipe:
    folder = resolve_recipe_path(name_or_path)
    file = folder / "recipe.yaml"
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"{folder}: no recipe.yaml") from None
    except yaml.YAMLError as exc:
        raise RecipeError(f"{file}: not valid YAML ({_one_line(exc)})") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{file}: expected a mapping of recipe fields")
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise RecipeError(f"{file}: {describe_schema_error(errors[0])}")

    tools_file = folder / raw["tools"]
    if tools_file.is_dir():
        raise RecipeError(f"{file}: field 'tools': {tools_file} is a folder, not a tools JSON file")
    try:
        tools = load_tools(tools_file)
    except (ToolSpecError, OSError) as exc:
        raise RecipeError(f"{file}: field 'tools': {exc}") from None
    sampling = {**DEFAULT_SAMPLING, **raw.get("sampling", {})}
    _check_sampling(sampling, tools, file)
    try:
        rules = resolve_rules(raw.get("rules", []), folder)
    except KeyError as exc:
        raise RecipeError(f"{file}: field 'rules': {exc.args[0]}") from None
    few_shot = tuple(FewShot(**item) for item in raw.get("few_shot", []))
    require_join = bool(raw.get("require_join", True))
    for i, shot in enumerate(few_shot):
        try:
            plan = parse_plan(shot.plan, "llmcompiler", tools.param_order)
        except PlanSyntaxError as exc:
            raise RecipeError(f"{file}: field 'few_shot.{i}.plan': {exc}") from None
        problems = validate(
            plan,
            tools,
            require_join=require_join,
            rules=[r.function for r in rules],
            context={"query": shot.query, "now": shot.now},
        )
        if problems:
            raise RecipeError(f"{file}: field 'few_shot.{i}.plan': {problems[0].message}")
    splits = {**DEFAULT_SPLITS, **raw.get("splits", {})}
    if sum(splits.values()) >= 1 and all(v < 1 for v in splits.values()):
        raise RecipeError(f"{file}: field 'splits': validation + test shares must leave room for train")
    key_arguments = _key_arguments(raw.get("key_arguments"), tools, file)
    templates_path = folder / raw["templates"] if "templates" in raw else None
    if templates_path is not None and not templates_path.is_file():
        raise RecipeError(f"{file}: field 'templates': no such file {templates_path.name}")
    return Recipe(
        name=raw["name"],
        version=str(raw["version"]),
        description=raw["description"],
        path=folder,
        tools=tools,
        sampling=sampling,
        teacher={**DEFAULT_TEACHER, **raw.get("teacher", {})},
        few_shot=few_shot,
        rules=tuple(rules),
        require_join=require_join,
        splits=splits,
        pricing={k: (float(v[0]), float(v[1])) for k, v in raw.get("pricing", {}).items()},
        templates_path=templates_path,
        license=raw.get("license", "apache-2.0"),
        language=raw.get("language", "en"),
        key_arguments=key_arguments,
        seeds={k: tuple(v) for k, v in (raw.get("seeds") or {}).items()},
        raw=raw,
    )


def _check_sampling(sampling: dict[str, Any], tools: ToolSet, file: Path) -> None:
    if sampling["min_targets"] > sampling["max_targets"]:
        raise RecipeError(f"{file}: field 'sampling.min_targets': expected at most max_targets")
    if sampling["min_distractors"] > sampling["max_distractors"]:
        raise RecipeError(f"{file}: field 'sampling.min_distractors': expected at most max_distractors")
    for name, partners in sampling["co_use"].items():
        for function in (name, *partners):
            if function not in tools:
                raise RecipeError(f"{file}: field 'sampling.co_use.{name}': unknown function {function!r}")
    for key in ("start", "end"):
        try:
            datetime.fromisoformat(sampling["now"][key])
        except ValueError:
            raise RecipeError(f"{file}: field 'sampling.now.{key}': expected an ISO date") from None


def _key_arguments(
    declared: dict[str, list[str]] | None, tools: ToolSet, file: Path
) -> dict[str, tuple[str, ...]] | None:
    """A recipe's ``key_arguments``, every function and argument checked against its tools."""
    if declared is None:
        return None
    for name, params in declared.items():
        if name not in tools:
            raise RecipeError(f"{file}: field 'key_arguments.{name}': unknown function {name!r}")
        unknown = [p for p in params if p not in tools[name].param_names]
        if unknown:
            raise RecipeError(f"{file}: field 'key_arguments.{name}': {name} has no argument {unknown[0]!r}")
    return {name: tuple(params) for name, params in declared.items()}


def describe_schema_error(error) -> str:
    """One jsonschema error as "field 'a.b': expected ..." (what a person fixing YAML needs)."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = f"field '{path}'" if path else "top level"
        return f"{where}: unknown field{'s' if len(extra) > 1 else ''} {', '.join(repr(e) for e in extra)}"
    if error.validator == "required":
        where = f" in '{path}'" if path else ""
        return f"missing field {error.message.split(' ', 1)[0]}{where}"
    expected = {
        "type": f"expected {error.validator_value}",
        "minimum": f"expected a number >= {error.validator_value}",
        "maximum": f"expected a number <= {error.validator_value}",
        "pattern": f"expected text matching {error.validator_value}",
        "minItems": f"expected at least {error.validator_value} items",
        "maxItems": f"expected at most {error.validator_value} items",
    }.get(error.validator, error.message)
    return f"field '{path}': {expected}, got {json.dumps(error.instance)[:60]}"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


@functools.lru_cache(maxsize=32)
def recipe_rules(name_or_path: str) -> tuple[Rule, ...]:
    """The rules of the recipe a row names (``meta.recipe``: a bundled name or a folder); none when it cannot be
    loaded, as for a dataset made elsewhere. The one place stages look a recipe's rules up."""
    if not name_or_path:
        return ()
    try:
        return tuple(load_recipe(name_or_path).rule_functions())
    except (RecipeError, OSError, ValueError):
        return ()


@functools.lru_cache(maxsize=32)
def recipe_key_arguments(name_or_path: str) -> dict[str, tuple[str, ...]] | None:
    """The key arguments of the recipe a row names (``meta.recipe``); ``None`` (every argument is key) when the
    recipe declares none or cannot be loaded. The one place scoring looks them up."""
    if not name_or_path:
        return None
    try:
        return load_recipe(name_or_path).key_arguments
    except (RecipeError, OSError, ValueError):
        return None
