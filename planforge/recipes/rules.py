"""Recipe rules: planner conventions a schema cannot express, run as ``rule`` validators.

A recipe lists its rules as ``package.module:function`` (the bundled mac_assistant's live in
:mod:`planforge.recipes.mac_assistant.rules`) or as ``rules.py:function`` for a ``rules.py`` file in the
recipe's own folder. Each rule is ``(plan, tools, context) -> list[PlanError]``; ``context`` holds the
request text (``query``) and the example's fixed ``now``. A rule's docstring is what the teacher prompt
says about it, so a rule and its explanation cannot drift apart.

The helpers below are the plumbing rules share."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.plan import Plan, Step, whole_reference
from planforge.validators import ErrorCode, PlanError, Rule


@dataclass(frozen=True)
class RuleSpec:
    reference: str  # as the recipe wrote it: ``package.module:function`` or ``rules.py:function``
    function: Rule

    @property
    def name(self) -> str:
        """The function's name: how cards, reports and ``gen recipes show`` call the rule."""
        return self.reference.rpartition(":")[2]

    @property
    def description(self) -> str:
        """The first paragraph of the rule's docstring, on one line (what a teacher is told)."""
        doc = (getattr(self.function, "__doc__", None) or "").strip()
        return " ".join(doc.split("\n\n")[0].split()) or self.name


def rule_error(step: Step, message: str) -> PlanError:
    """A ``rule`` error at ``step``, worded ``step K: name() message``."""
    return PlanError(ErrorCode.RULE, step.index, f"step {step.index}: {step.name}() {message}")


def as_items(value: Any) -> list[Any]:
    """A list argument as it is, any other value as a one-item list."""
    return value if isinstance(value, list) else [value]


def producer(plan: Plan, value: Any) -> str | None:
    """The function whose output ``value`` is, when ``value`` is exactly ``"$K"`` of an existing step."""
    k = whole_reference(value)
    if k is None or not 1 <= k <= len(plan.steps):
        return None
    return plan.steps[k - 1].name


def resolve_rules(names: Sequence[str], folder: Path | None = None) -> list[RuleSpec]:
    """Rule references -> callables. Raises KeyError naming the reference that cannot be resolved."""
    return [RuleSpec(name, _resolve(name, folder)) for name in names]


def _resolve(name: str, folder: Path | None) -> Rule:
    target, _, attribute = name.partition(":")
    if not attribute or not target:
        raise KeyError(f"unknown rule {name!r} (expected 'package.module:function' or 'rules.py:function')")
    try:
        if target.endswith(".py"):
            module = _load_file(Path(target) if folder is None else folder / target)
        else:
            module = importlib.import_module(target)
        function = getattr(module, attribute)
    except (ImportError, AttributeError, OSError, SyntaxError) as exc:
        raise KeyError(f"rule {name!r} cannot be imported ({exc})") from None
    if not callable(function):
        raise KeyError(f"rule {name!r} is not a function")
    return function


def _load_file(path: Path) -> Any:
    """Import a recipe's own ``rules.py`` under a name derived from its path (so two recipes never clash)."""
    path = path.resolve()
    if not path.is_file():
        raise ImportError(f"no such file {path}")
    module_name = "planforge_recipe_rules_" + str(abs(hash(str(path))))
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
