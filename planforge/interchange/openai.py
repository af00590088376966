"""OpenAI's fine-tuning format: ``messages`` (system, user, then an assistant turn with ``tool_calls`` whose
``arguments`` are JSON strings, as OpenAI wants them) and ``tools`` (OpenAI entries).

The plan is one assistant turn holding every call in order (``parallel_tool_calls``); an argument that uses the
output of step K is the string ``"$K"``. Reading: the last user turn before the first assistant turn that calls
functions is the request, and the calls are those of the assistant turns up to the next user turn."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from planforge.dataset.rows import row_prompt
from planforge.errors import RecordFormatError
from planforge.interchange.calls import (
    NO_CALL_REPLY,
    AnsweredWithoutCalls,
    Imported,
    openai_tools,
    read_calls,
    read_tools,
    record_id,
    require_text,
    row_calls,
)
from planforge.prompting import now_in

NAME = "openai"


def export_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    tools, calls = row_calls(row)
    tool_calls = [
        {
            "id": f"call_{k}",
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)},
        }
        for k, c in enumerate(calls, start=1)
    ]
    answer: dict[str, Any] = {"role": "assistant", "tool_calls": tool_calls}
    if not calls:  # a no-call example: OpenAI wants an assistant turn to have content or calls
        answer = {"role": "assistant", "content": NO_CALL_REPLY}
    return {
        "messages": [*row_prompt(row), answer],
        "tools": openai_tools(tools),
        "parallel_tool_calls": True,
    }


def import_record(record: Any, index: int) -> Imported:
    if not isinstance(record, Mapping) or not isinstance(record.get("messages"), list):
        raise RecordFormatError("bad_record", "no 'messages' list")
    messages = [m for m in record["messages"] if isinstance(m, Mapping)]
    first_call = next((i for i, m in enumerate(messages) if m.get("role") == "assistant" and m.get("tool_calls")), None)
    if first_call is None:
        raise _answered_without_calls(record, messages, index)
    users = [i for i in range(first_call) if messages[i].get("role") == "user"]
    if not users:
        raise RecordFormatError("no_query", "no user turn before the function calls")
    query = require_text(messages[users[-1]].get("content"), "user request")
    calls = []
    for message in messages[first_call:]:
        if message.get("role") == "user":
            break
        if message.get("role") == "assistant" and message.get("tool_calls"):
            calls += read_calls(message["tool_calls"], "tool_calls")
    system = next((m.get("content") for m in messages if m.get("role") == "system"), None)
    tools = read_tools(record.get("tools") or record.get("functions") or [])
    now = now_in(system) if isinstance(system, str) else None
    return Imported(query, tools, calls, now or "", record_id(record, index))


def _answered_without_calls(record: Mapping[str, Any], messages: list, index: int) -> RecordFormatError:
    """A user turn answered by an assistant turn with text and no call: a no-call example (or just no calls)."""
    replies = (i for i, m in enumerate(messages) if i and m.get("role") == "assistant")
    answered = next((i for i in replies if messages[i - 1].get("role") == "user"), None)
    if answered is None:
        return RecordFormatError("no_calls", "no assistant turn calls a function")
    system = next((m.get("content") for m in messages if m.get("role") == "system"), None)
    query = require_text(messages[answered - 1].get("content"), "user request")
    tools = read_tools(record.get("tools") or record.get("functions") or [])
    now = (now_in(system) if isinstance(system, str) else None) or ""
    imported = Imported(query, tools, [], now, record_id(record, index))
    return AnsweredWithoutCalls(imported, "the assistant answers without calling a function")
