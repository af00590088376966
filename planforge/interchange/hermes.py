"""Hermes function calling (NousResearch's ``hermes-function-calling-v1`` shape): ShareGPT ``conversations``
whose system turn lists the functions inside ``<tools></tools>`` and whose ``gpt`` turn writes each call as
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, the format Hermes and Qwen chat templates render.

Reading accepts calls and tools written as JSON or as Python literals (the published dataset has both); the
request is the first ``human`` turn and the calls are those of the ``gpt`` turns after it, up to the next
``human`` turn."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from planforge.dataset.rows import row_now
from planforge.errors import RecordFormatError
from planforge.interchange.calls import (
    NO_CALL_REPLY,
    AnsweredWithoutCalls,
    Imported,
    openai_tools,
    read_call,
    read_tools,
    record_id,
    require_text,
    row_calls,
)
from planforge.prompting import NOW_SENTENCE, now_in

NAME = "hermes"
HUMAN = ("human", "user")
ASSISTANT = ("gpt", "assistant")

SYSTEM = (
    "You are a function calling AI model. You are provided with function signatures within <tools></tools> XML "
    "tags. You may call one or more functions to assist with the user query. Don't make assumptions about what "
    'values to plug into functions. To use the result of an earlier call K as an argument, write "$K" (calls '
    "are counted from 1 in the order you write them). Here are the available tools: <tools>\n{tools}\n</tools>\n"
    "For each function call return a json object with function name and arguments within <tool_call></tool_call> "
    'XML tags as follows:\n<tool_call>\n{{"name": <function-name>, "arguments": <args-dict>}}\n</tool_call>'
)
_TOOLS = re.compile(r"<tools>(.*?)</tools>", re.S)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)


def export_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    tools, calls = row_calls(row)
    listed = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in openai_tools(tools))
    system = SYSTEM.format(tools=listed)
    now = row_now(row)
    if now:
        system += f"\n{NOW_SENTENCE}{now}."
    blocks = [json.dumps({"name": c["name"], "arguments": c["arguments"]}, ensure_ascii=False) for c in calls]
    answer = "\n".join(f"<tool_call>\n{block}\n</tool_call>" for block in blocks) if calls else NO_CALL_REPLY
    return {
        "conversations": [
            {"from": "system", "value": system},
            {"from": "human", "value": row["query"]},
            {"from": "gpt", "value": answer},
        ]
    }


def import_record(record: Any, index: int) -> Imported:
    turns = record.get("conversations") if isinstance(record, Mapping) else None
    if not isinstance(turns, list):
        raise RecordFormatError("bad_record", "no 'conversations' list")
    turns = [t for t in turns if isinstance(t, Mapping) and isinstance(t.get("value"), str)]
    system = next((t["value"] for t in turns if t.get("from") == "system"), "")
    start = next((i for i, t in enumerate(turns) if t.get("from") in HUMAN), None)
    if start is None:
        raise RecordFormatError("no_query", "no human turn")
    query = require_text(turns[start]["value"], "user request")
    calls, answered = [], False
    for turn in turns[start + 1 :]:
        if turn.get("from") in HUMAN:
            break
        if turn.get("from") in ASSISTANT:
            answered = True
            calls += [read_call(m.strip(), "tool_call") for m in _TOOL_CALL.findall(turn["value"])]
    # The last non-empty block: the preamble itself names the tags ("within <tools></tools> XML tags").
    listed = [block for block in _TOOLS.findall(system) if block.strip()]
    raw_tools = _tool_entries(listed[-1]) if listed else record.get("tools")
    if not calls and not (answered and raw_tools):  # nothing to learn: no calls, and no answer to offered tools
        raise RecordFormatError("no_calls", "no <tool_call> after the request")
    if not raw_tools:
        raise RecordFormatError("tools", "no <tools> in the system turn and no 'tools' field")
    imported = Imported(query, read_tools(raw_tools), calls, now_in(system) or "", record_id(record, index))
    if not calls:
        raise AnsweredWithoutCalls(imported, "the assistant answers without a <tool_call>")
    return imported


def _tool_entries(text: str) -> Any:
    """The ``<tools>`` block: a JSON list, or one definition per line / back to back (both are published)."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder, entries, at = json.JSONDecoder(), [], 0
    while at < len(text):
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text):
            break
        try:
            entry, at = decoder.raw_decode(text, at)
        except ValueError:
            return text  # maybe Python literals: read_tools tries those
        entries.append(entry)
    return entries
