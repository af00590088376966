"""An accepted example and its dataset row: the column contract every later stage reads.

Columns: ``id``, ``query``, ``tools`` (offered function definitions, a JSON string), ``plan`` (JSON list of
calls with named arguments), ``plan_text`` (LLMCompiler text ending in ``join()``), ``messages`` (TRL
conversational format), ``target_tools`` (the functions the plan uses: the tool-retrieval labels) and
``meta`` (the example's fixed "now", teacher, model, recipe, distractors)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import datasets

from planforge.plan import Plan, parse_calls, parse_plan, to_calls
from planforge.prompting import PLANNER_INSTRUCTIONS, chat_messages, plan_text
from planforge.tools import ToolSet, tools_from_json

_TOOL_CALL = {
    "id": datasets.Value("string"),
    "type": datasets.Value("string"),
    "function": {"name": datasets.Value("string"), "arguments": datasets.Value("string")},
}

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "query": datasets.Value("string"),
        "tools": datasets.Value("string"),
        "plan": datasets.Value("string"),
        "plan_text": datasets.Value("string"),
        "messages": datasets.List(
            {
                "role": datasets.Value("string"),
                "content": datasets.Value("string"),
                "tool_calls": datasets.List(_TOOL_CALL),
            }
        ),
        "target_tools": datasets.List(datasets.Value("string")),
        "meta": {
            "now": datasets.Value("string"),
            "teacher": datasets.Value("string"),
            "model": datasets.Value("string"),
            "recipe": datasets.Value("string"),
            "request_id": datasets.Value("string"),
            "distractors": datasets.List(datasets.Value("string")),
        },
    }
)


@dataclass(frozen=True)
class Example:
    """A validated request/plan pair with the functions it was offered."""

    query: str
    plan: Plan  # bound: arguments by name
    tools: ToolSet  # offered: targets + distractors, in the order shown to the teacher
    now: str
    teacher: str = ""
    model: str = ""
    recipe: str = ""
    request_id: str = ""
    instructions: str = PLANNER_INSTRUCTIONS
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def target_tools(self) -> list[str]:
        return list(dict.fromkeys(self.plan.function_names()))

    @property
    def example_id(self) -> str:
        digest = hashlib.sha1(f"{self.recipe}\x00{self.query}\x00{plan_text(self.plan, self.tools)}".encode())
        return "ex-" + digest.hexdigest()[:16]

    def to_row(self) -> dict[str, Any]:
        targets = self.target_tools
        return {
            "id": self.example_id,
            "query": self.query,
            "tools": self.tools.specs_json(),
            "plan": json.dumps([c for c in to_calls(self.plan) if c["name"] != "join"], ensure_ascii=False),
            "plan_text": plan_text(self.plan, self.tools),
            "messages": chat_messages(self.query, self.tools, self.plan, now=self.now, instructions=self.instructions),
            "target_tools": targets,
            "meta": {
                "now": self.now,
                "teacher": self.teacher,
                "model": self.model,
                "recipe": self.recipe,
                "request_id": self.request_id,
                "distractors": [name for name in self.tools if name not in targets],
            },
        }


def row_tools(row: dict[str, Any]) -> ToolSet:
    """The offered functions of a dataset row."""
    return tools_from_json(json.loads(row["tools"]))


def row_plan(row: dict[str, Any]) -> Plan:
    """The reference plan of a dataset row (arguments by name)."""
    return parse_calls(json.loads(row["plan"]))


def parse_row_plan(text_or_json: str, tools: ToolSet) -> Plan:
    """A plan as a model wrote it, bound to the row's tools (raises PlanSyntaxError)."""
    return parse_plan(text_or_json, param_order=tools.param_order).bind(tools.param_order)
