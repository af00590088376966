"""xLAM / APIGen (``Salesforce/xlam-function-calling-60k``): ``query``, ``tools`` (a JSON string of functions
whose ``parameters`` map each name to ``{"type", "description", "default"}`` with Python-typing names) and
``answers`` (a JSON string of ``{"name", "arguments"}`` calls). planforge reads that tool dialect everywhere
(:func:`planforge.tools.xlam_parameters`); writing, JSON Schema types become its names (``str``, ``int``,
``float``, ``bool``, ``List[...]``, ``Dict``) and a parameter that is not required is marked ``", optional"``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from planforge.errors import RecordFormatError
from planforge.interchange.calls import (
    AnsweredWithoutCalls,
    Imported,
    read_calls,
    read_tools,
    record_id,
    require_text,
    row_calls,
)
from planforge.tools import ToolSpec

NAME = "xlam"
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def type_name(schema: Mapping[str, Any]) -> str:
    """A JSON Schema type in xLAM's Python-typing spelling (``Any`` where it has none)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        names = [type_name({**schema, "type": k}) for k in kind]
        return f"Union[{', '.join(names)}]" if len(names) > 1 else names[0]
    if "anyOf" in schema and isinstance(schema["anyOf"], list):
        return f"Union[{', '.join(type_name(s) for s in schema['anyOf'] if isinstance(s, Mapping))}]"
    if kind == "array":
        items = schema.get("items")
        return f"List[{type_name(items)}]" if isinstance(items, Mapping) and items else "List"
    if kind == "object":
        return "Dict"
    return _SCALARS.get(kind, "Any")


def xlam_function(spec: ToolSpec) -> dict[str, Any]:
    props = spec.parameters.get("properties", {})
    required = set(spec.parameters.get("required", ()))
    parameters = {}
    for name in spec.param_names:
        schema = props[name]
        entry: dict[str, Any] = {"type": type_name(schema) + ("" if name in required else ", optional")}
        entry["description"] = schema.get("description", "")
        if "default" in schema:
            entry["default"] = schema["default"]
        if "enum" in schema:
            entry["enum"] = schema["enum"]
        parameters[name] = entry
    return {"name": spec.name, "description": spec.description, "parameters": parameters}


def export_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    tools, calls = row_calls(row)
    return {
        "id": index,
        "query": row["query"],
        "tools": json.dumps([xlam_function(spec) for spec in tools.specs], ensure_ascii=False),
        "answers": json.dumps(calls, ensure_ascii=False),
    }


def import_record(record: Any, index: int) -> Imported:
    if not isinstance(record, Mapping):
        raise RecordFormatError("bad_record", "a record must be an object")
    query = require_text(record.get("query"), "query")
    answers = record.get("answers")
    calls = read_calls(answers or [], "answers")
    if not calls and answers is None:
        raise RecordFormatError("no_calls", "no answers")
    imported = Imported(query, read_tools(record.get("tools") or []), calls, "", record_id(record, index))
    if not calls:
        raise AnsweredWithoutCalls(imported, "the answers are an empty list")
    return imported
