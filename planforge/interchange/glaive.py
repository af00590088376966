"""Glaive function calling (``glaiveai/glaive-function-calling-v2``), read only: ``system`` lists the functions
as JSON objects after "Use them if required -", and ``chat`` is one string of ``USER:`` / ``ASSISTANT:`` /
``FUNCTION RESPONSE:`` turns where a call is ``<functioncall> {"name": ..., "arguments": '{...}'}`` (the
arguments a JSON string in single quotes). The request is the first user turn; the calls are those the
assistant makes before the next user turn. A conversation without a call (the assistant declines or just
answers) has no plan to learn and is counted as ``no_calls``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from planforge.errors import RecordFormatError
from planforge.interchange.calls import AnsweredWithoutCalls, Imported, loads, read_tools, record_id, require_text

NAME = "glaive"
_TURN = re.compile(r"(?:^|\n)\s*(USER|ASSISTANT|FUNCTION RESPONSE):", re.S)
_CALL = re.compile(r"<functioncall>\s*(.*?)\s*(?:<\|endoftext\|>|$)", re.S)
_QUOTED_ARGUMENTS = re.compile(r"""("arguments"\s*:\s*)'(.*)'(\s*\}\s*)$""", re.S)


def turns(chat: str) -> list[tuple[str, str]]:
    """``[(speaker, text), ...]`` of a chat string."""
    marks = list(_TURN.finditer(chat))
    return [
        (m.group(1), chat[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(chat)].strip())
        for i, m in enumerate(marks)
    ]


def functions(system: str) -> list[Any]:
    """The JSON objects of the system string, in order."""
    decoder, found, at = json.JSONDecoder(), [], system.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(system, at)
        except ValueError:
            raise RecordFormatError("tools", "a function in the system prompt is not valid JSON") from None
        found.append(value)
        at = system.find("{", end)
    return found


def read_functioncall(text: str) -> dict[str, Any]:
    """``{"name": "x", "arguments": '{"a": 1}'}`` -> ``{"name": "x", "arguments": {"a": 1}}``."""
    quoted = _QUOTED_ARGUMENTS.search(text)
    if quoted:
        arguments = loads(quoted.group(2), "functioncall arguments")
        text = text[: quoted.start()] + quoted.group(1) + json.dumps(arguments) + quoted.group(3)
    call = loads(text, "functioncall")
    if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
        raise RecordFormatError("calls", "a functioncall has no name")
    arguments = loads(call.get("arguments") or {}, "functioncall arguments")
    if not isinstance(arguments, Mapping):
        raise RecordFormatError("calls", "functioncall arguments are not an object")
    return {"name": call["name"], "arguments": dict(arguments)}


def import_record(record: Any, index: int) -> Imported:
    if not isinstance(record, Mapping) or not isinstance(record.get("chat"), str):
        raise RecordFormatError("bad_record", "no 'chat' string")
    spoken = turns(record["chat"])
    start = next((i for i, (who, _) in enumerate(spoken) if who == "USER"), None)
    if start is None:
        raise RecordFormatError("no_query", "no USER turn")
    query = require_text(spoken[start][1], "user request")
    calls, answered = [], False
    for who, text in spoken[start + 1 :]:
        if who == "USER":
            break
        if who == "ASSISTANT":
            answered = True
            calls += [read_functioncall(m) for m in _CALL.findall(text)]
    if not calls and not answered:
        raise RecordFormatError("no_calls", "no ASSISTANT turn after the request")
    system = record.get("system") if isinstance(record.get("system"), str) else ""
    imported = Imported(query, read_tools(functions(system)), calls, "", record_id(record, index))
    if not calls:
        raise AnsweredWithoutCalls(imported, "the assistant calls no function")
    return imported
