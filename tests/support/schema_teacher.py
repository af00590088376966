"""A stand-in teacher LLM for any recipe: reads the targets and "now" from planforge's teacher prompt and answers
with examples that call each target, every argument filled with a value of its schema's type. Its good answers are
known, so a run over real HTTP can be checked end to end for a recipe that has no template grammar."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from planforge.plan import parse_calls
from planforge.prompting import plan_text
from planforge.tools import ToolSet

_TARGETS = re.compile(r"need these functions: (.*?)\. The other")
_COUNT = re.compile(r"Write (\d+) new examples")
_NOW = re.compile(r"The current date and time is (\d{4}-\d{2}-\d{2})")


class SchemaTeacher:
    def __init__(self, tools: ToolSet):
        self.tools = tools
        self.counter = itertools.count()

    def value(self, name: str, schema: dict[str, Any], day: str) -> Any:
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "string":
            if "date" in name:
                return day
            if "currency" in name:
                return "USD"
            return f"{name} {next(self.counter)}"
        if kind == "integer":
            return 2
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return True
        if kind == "array":
            items = schema.get("items") or {}
            return [self.value(name, items, day)] if items else []
        if kind == "object":
            return {}
        return f"{name} {next(self.counter)}"

    def __call__(self, body: dict, n: int) -> str:
        user = body["messages"][1]["content"]
        targets = [t.strip() for t in _TARGETS.search(user).group(1).split(",")]
        count = int(_COUNT.search(user).group(1))
        day = _NOW.search(user).group(1)
        examples = []
        for _ in range(count):
            calls = []
            for target in targets:
                spec = self.tools[target]
                props = spec.parameters.get("properties", {})
                calls.append({"name": target, "arguments": {p: self.value(p, props[p], day) for p in spec.param_names}})
            plan = parse_calls(calls).bind(self.tools.param_order)
            query = f"Request {next(self.counter)}: please use {' and '.join(targets)}."
            examples.append({"query": query, "plan": plan_text(plan, self.tools)})
        return json.dumps({"examples": examples})
