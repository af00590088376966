"""What every format shares: a row's plan as flat calls, records read leniently, and what an imported record is.

Formats other projects publish have no ``$K`` dataflow of their own: a plan is written as its calls in order, and
an argument that uses the output of step K keeps planforge's spelling, the string ``"$K"`` (K counts the calls
from 1, the order they are listed in). Reading such a record back, ``"$K"`` strings are references again."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planforge.dataset.rows import row_plan, row_tools
from planforge.errors import RecordFormatError, ToolSpecError
from planforge.plan import to_calls
from planforge.prompting import describe_type
from planforge.tools import ToolSet, tools_from_json

#: The longest field read with Python-literal syntax (some formats write dicts with single quotes).
MAX_LITERAL_CHARS = 200_000


@dataclass(frozen=True)
class Imported:
    """One record of another format, read: the request, the offered functions and the calls in order."""

    query: str
    tools: ToolSet
    calls: list[dict[str, Any]]  # {"name", "arguments"}; "$K" strings refer to the K-th call
    now: str = ""
    source_id: str = ""


#: What an exported no-call example answers in formats whose answer is a message: none of the functions serves it.
NO_CALL_REPLY = "None of the functions I can use does that."


class AnsweredWithoutCalls(RecordFormatError):
    """The request was answered without a function call: not a plan, but a no-call example when the importer
    is asked for those (``gen import --no-call-rows``); ``imported`` holds it, calls empty."""

    def __init__(self, imported: Imported, message: str):
        super().__init__("no_calls", message)
        self.imported = imported


def row_calls(row: Mapping[str, Any]) -> tuple[ToolSet, list[dict[str, Any]]]:
    """A plans row's functions and its plan as ``{"name", "arguments"}`` calls (named arguments, no ``join()``)."""
    tools = row_tools(row)
    plan = row_plan(row).bind(tools.param_order)
    return tools, [{"name": c["name"], "arguments": c["arguments"]} for c in to_calls(plan) if c["name"] != "join"]


def bare_functions(tools: ToolSet) -> list[dict[str, Any]]:
    """``{"name", "description", "parameters"}`` per function: the shape most formats list. A ``returns`` schema,
    which these formats have no key for, becomes the end of the description."""
    out = []
    for spec in tools.specs:
        description = spec.description
        if spec.returns:
            description = f"{description.rstrip()} Returns: {describe_type(spec.returns)}.".lstrip()
        out.append({"name": spec.name, "description": description, "parameters": spec.parameters})
    return out


def openai_tools(tools: ToolSet) -> list[dict[str, Any]]:
    """OpenAI ``tools`` entries with only the keys OpenAI accepts."""
    return [{"type": "function", "function": function} for function in bare_functions(tools)]


def loads(text: Any, what: str) -> Any:
    """JSON, or a Python literal (``{'name': 'x'}``, as some datasets write calls); a one-line
    :class:`RecordFormatError` (code ``unreadable``) otherwise."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except _NotFinite:
        raise RecordFormatError("unreadable", f"{what} holds a number JSON cannot (NaN or infinity)") from None
    except (ValueError, RecursionError):
        pass
    if len(text) > MAX_LITERAL_CHARS:
        raise RecordFormatError("unreadable", f"{what} is not JSON")
    try:
        value = ast.literal_eval(text.strip())
        return json.loads(json.dumps(value), parse_constant=_refuse)  # tuples -> lists; sets, bytes, NaN refused
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, _NotFinite):
        raise RecordFormatError("unreadable", f"{what} is neither JSON nor a Python literal") from None


class _NotFinite(Exception):
    pass


def _refuse(name: str) -> Any:
    raise _NotFinite(name)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotFinite(text)
    return value


def read_tools(raw: Any, what: str = "tools") -> ToolSet:
    """Function definitions in any dialect planforge reads (a JSON string or decoded)."""
    try:
        return tools_from_json(loads(raw, what))
    except ToolSpecError as exc:
        raise RecordFormatError("tools", f"{what}: {exc}") from None


def read_call(entry: Any, what: str) -> dict[str, Any]:
    """``{"name", "arguments"}`` (``arguments`` an object, or a JSON string of one) or an OpenAI tool call."""
    entry = loads(entry, what)
    if isinstance(entry, Mapping) and isinstance(entry.get("function"), Mapping):
        entry = entry["function"]
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise RecordFormatError("calls", f"{what} is not a call with a name")
    arguments = loads(entry.get("arguments") or {}, f"{what}: arguments")
    if not isinstance(arguments, Mapping):
        raise RecordFormatError("calls", f"{what}: arguments are not an object")
    return {"name": entry["name"], "arguments": dict(arguments)}


def read_calls(entries: Any, what: str) -> list[dict[str, Any]]:
    """One call or a list of calls."""
    entries = loads(entries, what)
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise RecordFormatError("calls", f"{what} is not a list of calls")
    return [read_call(e, f"{what}[{i}]") for i, e in enumerate(entries)]


def require_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordFormatError("no_query", f"no {what}")
    return value.strip()


def record_id(record: Any, index: int) -> str:
    value = record.get("id") if isinstance(record, Mapping) else None
    return str(value) if value is not None else str(index)
