"""The one prompt renderer: what a planner model is shown and what it answers, for every writer and reader.

A row holds the conversation as TRL reads it: ``prompt`` (a system turn with the planner instructions and the
example's "now", then the user's request), ``completion`` (the assistant's plan as LLMCompiler text: the one copy
of the plan) and ``tools`` (the offered functions, OpenAI ``{"type": "function", "function": {...}}`` entries). A
tool-aware chat template (Qwen2.5's shape) describes the functions once from ``tools``; a template without tool
support gets them listed in the system turn instead (:func:`for_template`), as an OpenAI-compatible endpoint
asked for plain text does (:func:`with_function_list`). Retrieved in-context examples (TinyAgent's) join the
system turn as demonstrations (:func:`with_demonstrations`). The dataset writer, the trainers, the evaluator and
``gen pairs``' student all come through here, so a model is trained and evaluated on exactly the same text."""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planforge.plan import JOIN, Plan, Step, positional, to_text
from planforge.tools import ToolSet, ToolSpec

PLANNER_INSTRUCTIONS = """\
You are a planner. Given a user request, write a plan of function calls that fulfils it.
- Write one call per line: `N. function_name(arg1, arg2, ...)`, numbered from 1, with every argument \
filled, positionally, as Python literals.
- Use only the functions you are given.
- To use the output of an earlier step K in an argument, write "$K" (inside a string or list if needed).
- End the plan with a final `N. join()` line.
- If none of the functions can do what is asked (a question, small talk, a task no function does), write \
only `1. join()`."""

FUNCTIONS_HEADER = "Functions:"
DEMONSTRATIONS_HEADER = "Examples of requests and their plans:"

Messages = list[dict[str, Any]]


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


def function_list(tools: ToolSet) -> str:
    """The functions as text, for a system turn: what a template without tool support cannot render itself."""
    return "\n".join([FUNCTIONS_HEADER, *(render_function(spec) for spec in tools.specs)])


def system_prompt(*, now: str | None = None, instructions: str = PLANNER_INSTRUCTIONS) -> str:
    """The system turn of every row: the instructions and the example's "now" (the functions come as ``tools``)."""
    return f"{instructions}\n\n{NOW_SENTENCE}{now}." if now else instructions


NOW_SENTENCE = "The current date and time is "


def now_in(system_text: str) -> str | None:
    """The example's "now" from a system turn :func:`system_prompt` wrote (``None`` in anyone else's)."""
    for line in reversed(system_text.splitlines()):
        if line.startswith(NOW_SENTENCE) and line.endswith("."):
            return line[len(NOW_SENTENCE) : -1].strip() or None
    return None


def prompt_messages(
    query: str, *, now: str | None = None, instructions: str = PLANNER_INSTRUCTIONS
) -> list[dict[str, str]]:
    """System + user turns: what a planner model is asked."""
    return [
        {"role": "system", "content": system_prompt(now=now, instructions=instructions)},
        {"role": "user", "content": query},
    ]


def plan_text(plan: Plan, tools: ToolSet) -> str:
    """Canonical LLMCompiler text of a plan: positional arguments, no thoughts, ending in ``join()``."""
    plan = positional(plan, tools.param_order)
    if not plan.has_join:
        plan = Plan((*plan.steps, Step(len(plan.steps) + 1, JOIN)), plan.end_of_plan)
    return to_text(plan, thoughts=False)


def completion_messages(plan: Plan, tools: ToolSet) -> list[dict[str, str]]:
    """The assistant turn: the plan as LLMCompiler text, once (no ``tool_calls`` beside it)."""
    return [{"role": "assistant", "content": plan_text(plan, tools)}]


def tools_column(tools: ToolSet) -> list[dict[str, Any]]:
    """The ``tools`` column: OpenAI entries, the one shape every dataset kind stores."""
    return tools.to_openai()


def with_function_list(messages: Sequence[Mapping[str, Any]], tools: ToolSet) -> list[dict[str, str]]:
    """The messages with the functions listed at the end of the system turn (added when there is none): for
    templates without tool support and for endpoints asked for plain-text plans."""
    out = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
    listing = function_list(tools)
    if out and out[0]["role"] == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{listing}"
    else:
        out.insert(0, {"role": "system", "content": listing})
    return out


@dataclass(frozen=True)
class Demonstration:
    """A solved request shown as an example: the request, its plan (LLMCompiler text ending in ``join()``) and the
    "now" it was planned at (its dates are relative to it)."""

    query: str
    plan: str
    now: str | None = None


def demonstrations_text(demonstrations: Sequence[Demonstration]) -> str:
    """The examples as a block of the system turn: ``Request (at NOW): ...`` then ``Plan:`` and its lines."""
    blocks = [DEMONSTRATIONS_HEADER]
    for demo in demonstrations:
        when = f" (at {demo.now})" if demo.now else ""
        blocks.append(f"Request{when}: {demo.query}\nPlan:\n{demo.plan.strip()}")
    return "\n\n".join(blocks)


def with_demonstrations(
    messages: Sequence[Mapping[str, Any]], demonstrations: Sequence[Demonstration]
) -> list[dict[str, str]]:
    """The messages with the examples at the end of the system turn (added when there is none); unchanged without
    examples. Applied before :func:`for_template`, so a function listing follows them."""
    out = role_and_content(messages)
    if not demonstrations:
        return out
    block = demonstrations_text(demonstrations)
    if out and out[0]["role"] == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{block}"
    else:
        out.insert(0, {"role": "system", "content": block})
    return out


def role_and_content(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Messages with only role and content (what every chat template reads)."""
    return [{"role": m["role"], "content": m.get("content") or ""} for m in messages]


_TOOL_SUPPORT: weakref.WeakKeyDictionary[Any, dict[Any, bool]] = weakref.WeakKeyDictionary()


def template_supports_tools(tokenizer: Any) -> bool:
    """Does the tokenizer's chat template render ``tools``? (Rendered once with a probe function and without;
    the answer is kept with the tokenizer and recomputed when its template changes.)"""
    key = tokenizer
    if _TOOL_SUPPORT.get(key, {}).get(getattr(tokenizer, "chat_template", None)) is None:
        probe = [{"role": "user", "content": "x"}]
        tool = {"type": "function", "function": {"name": "planforge_probe_fn", "description": "", "parameters": {}}}
        try:
            plain = tokenizer.apply_chat_template(probe, tokenize=False)
            with_tool = tokenizer.apply_chat_template(probe, tools=[tool], tokenize=False)
            supported = plain != with_tool and "planforge_probe_fn" in with_tool
        except Exception:  # noqa: BLE001 - a template that fails on tools does not support them
            supported = False
        _TOOL_SUPPORT[key] = {getattr(tokenizer, "chat_template", None): supported}
    return _TOOL_SUPPORT[key][getattr(tokenizer, "chat_template", None)]


def for_template(
    messages: Sequence[Mapping[str, Any]], tools: ToolSet, tokenizer: Any
) -> tuple[list[dict[str, str]], list[dict[str, Any]] | None]:
    """``(messages, tools)`` as this tokenizer's template should get them: ``tools`` as entries when the template
    renders them (each function described once, by the template), else the functions listed in the system turn
    and no ``tools``."""
    if template_supports_tools(tokenizer):
        return role_and_content(messages), tools_column(tools)
    return with_function_list(messages, tools), None


def render(
    tokenizer: Any,
    messages: Sequence[Mapping[str, Any]],
    tools: ToolSet,
    *,
    add_generation_prompt: bool = True,
) -> str:
    """The text a local model is given (generation) or trained on: :func:`for_template` through its template."""
    shown, entries = for_template(messages, tools, tokenizer)
    kwargs: dict[str, Any] = {"tools": entries} if entries is not None else {}
    return tokenizer.apply_chat_template(shown, tokenize=False, add_generation_prompt=add_generation_prompt, **kwargs)
