"""ShareGPT with tools, as LLaMA-Factory reads it: ``conversations`` of ``{"from", "value"}`` turns where a
``function_call`` turn holds the calls as JSON (one call or a list), ``system`` and ``tools`` (a JSON string of
bare functions). LLaMA-Factory's ``dataset_info.json`` entry for such a file::

    {"file_name": "mac.jsonl", "formatting": "sharegpt",
     "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}

Reading: the first ``human`` turn is the request; the calls are the ``function_call`` turns after it, up to the
next ``human`` turn."""

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
    bare_functions,
    read_calls,
    read_tools,
    record_id,
    require_text,
    row_calls,
)
from planforge.prompting import now_in

NAME = "sharegpt"
HUMAN = ("human", "user")


def export_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    tools, calls = row_calls(row)
    system, user = row_prompt(row)
    return {
        "conversations": [
            {"from": "human", "value": user["content"]},
            {"from": "function_call", "value": json.dumps(calls, ensure_ascii=False)}
            if calls
            else {"from": "gpt", "value": NO_CALL_REPLY},
        ],
        "system": system["content"],
        "tools": json.dumps(bare_functions(tools), ensure_ascii=False),
    }


def import_record(record: Any, index: int) -> Imported:
    turns = record.get("conversations") if isinstance(record, Mapping) else None
    if not isinstance(turns, list):
        raise RecordFormatError("bad_record", "no 'conversations' list")
    turns = [t for t in turns if isinstance(t, Mapping)]
    start = next((i for i, t in enumerate(turns) if t.get("from") in HUMAN), None)
    if start is None:
        raise RecordFormatError("no_query", "no human turn")
    query = require_text(turns[start].get("value"), "user request")
    calls, answered = [], False
    for turn in turns[start + 1 :]:
        if turn.get("from") in HUMAN:
            break
        answered = answered or turn.get("from") in ("gpt", "assistant")
        if turn.get("from") == "function_call":
            calls += read_calls(turn.get("value"), "function_call")
    if not calls and not answered:
        raise RecordFormatError("no_calls", "no function_call turn after the request")
    system = record.get("system")
    now = now_in(system) if isinstance(system, str) else None
    imported = Imported(query, read_tools(record.get("tools") or []), calls, now or "", record_id(record, index))
    if not calls:
        raise AnsweredWithoutCalls(imported, "the assistant answers without a function_call turn")
    return imported
