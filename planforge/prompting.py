"""The one prompt renderer: system prompt with the offered functions, the user turn, the assistant plan.

The dataset writer, the trainers and the evaluator all call these functions, so a model is evaluated on
exactly the format it was trained on. The assistant turn carries the plan twice: as LLMCompiler text in
``content`` (what a small model learns to write) and as OpenAI ``tool_calls`` (arguments JSON-encoded,
as the OpenAI wire format has them, which also keeps the Arrow schema of a dataset stable)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from planforge.plan import JOIN, Plan, Step, positional, to_text
from planforge.tools import ToolSet, ToolSpec

PLANNER_INSTRUCTIONS = """\
You are a planner. Given a user request, write a plan of function calls that fulfils it.
- Write one call per line: `N. function_name(arg1, arg2, ...)`, numbered from 1, with every argument \
filled, positionally, as Python literals.
- Use only the functions listed below.
- To use the output of an earlier step K in an argument, write "$K" (inside a string or list if needed).
- End the plan with a final `N. join()` line."""


def describe_type(schema: dict[str, Any]) -> str:
    """A short, Python-flavoured rendering of a JSON Schema type (``list[str]``, ``str | None``)."""
    kind = schema.get("type")
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if isinstance(kind, list):
        return " | ".join(describe_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        items = schema.get("items")
        return f"list[{describe_type(items)}]" if isinstance(items, dict) and items else "list"
    return {
        "string": "str",
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "object": "dict",
        "null": "None",
    }.get(kind, "any")


def render_function(spec: ToolSpec) -> str:
    """``name(arg: type, ...) -> type: description``, then one indented line per described argument."""
    props = spec.parameters.get("properties", {})
    args = ", ".join(f"{name}: {describe_type(props[name])}" for name in spec.param_names)
    returns = f" -> {describe_type(spec.returns)}" if spec.returns else ""
    lines = [f"{spec.name}({args}){returns}: {spec.description}".rstrip(": ")]
    for name in spec.param_names:
        doc = props[name].get("description")
        if doc:
            lines.append(f"    {name}: {doc}")
    return "\n".join(lines)


def system_prompt(tools: ToolSet, *, now: str | None = None, instructions: str = PLANNER_INSTRUCTIONS) -> str:
    parts = [instructions, "", "Functions:"]
    parts += [render_function(spec) for spec in tools.specs]
    if now:
        parts += ["", f"The current date and time is {now}."]
    return "\n".join(parts)


def plan_text(plan: Plan, tools: ToolSet) -> str:
    """Canonical LLMCompiler text of a plan: positional arguments, no thoughts, ending in ``join()``."""
    plan = positional(plan, tools.param_order)
    if not plan.has_join:
        plan = Plan((*plan.steps, Step(len(plan.steps) + 1, JOIN)), plan.end_of_plan)
    return to_text(plan, thoughts=False)


def tool_calls(plan: Plan, tools: ToolSet) -> list[dict[str, Any]]:
    """OpenAI ``tool_calls`` of the function-calling steps, arguments named and JSON-encoded."""
    bound = plan.bind(tools.param_order)
    return [
        {
            "id": f"call_{step.index}",
            "type": "function",
            "function": {"name": step.name, "arguments": json.dumps(dict(step.kwargs), ensure_ascii=False)},
        }
        for step in bound.calls
    ]


def assistant_message(plan: Plan, tools: ToolSet) -> dict[str, Any]:
    return {"role": "assistant", "content": plan_text(plan, tools), "tool_calls": tool_calls(plan, tools)}


def prompt_messages(
    query: str, tools: ToolSet, *, now: str | None = None, instructions: str = PLANNER_INSTRUCTIONS
) -> list[dict[str, Any]]:
    """System + user turns: what a planner model sees."""
    return [
        {"role": "system", "content": system_prompt(tools, now=now, instructions=instructions), "tool_calls": None},
        {"role": "user", "content": query, "tool_calls": None},
    ]


def chat_messages(
    query: str,
    tools: ToolSet,
    plan: Plan,
    *,
    now: str | None = None,
    instructions: str = PLANNER_INSTRUCTIONS,
) -> list[dict[str, Any]]:
    """The full conversation of one example (TRL conversational format)."""
    return [*prompt_messages(query, tools, now=now, instructions=instructions), assistant_message(plan, tools)]


def strip_tool_calls(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with only role and content, for chat templates that do not know ``tool_calls``."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]
