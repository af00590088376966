"""The Berkeley Function Calling Leaderboard's file format: a question file (one item a line: ``id``,
``question`` as chat turns, ``function`` as BFCL function docs) and a ``possible_answer`` file (``id``,
``ground_truth``: per expected call ``{name: {parameter: [allowed values]}}``, ``""`` among them meaning the
parameter may be left out).

Writing, the plan's calls are the ground truth, each given argument its one allowed value and each parameter left
out ``[""]`` (with the default first where the function has one); the id names the BFCL category the item's shape
matches (``simple``, ``multiple``, ``parallel``, ``parallel_multiple``). BFCL has no dataflow between calls: a
``$K`` argument stays the string ``"$K"``. Reading, a call takes the first allowed value of each parameter,
``""`` meaning it is omitted (:func:`gold_calls`, shared with ``gen eval bfcl``'s gold answers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planforge.dataset.rows import row_now
from planforge.errors import RecordFormatError
from planforge.interchange.calls import (
    AnsweredWithoutCalls,
    Imported,
    bare_functions,
    read_tools,
    record_id,
    require_text,
    row_calls,
)
from planforge.prompting import NOW_SENTENCE, now_in

NAME = "bfcl"
ANSWERS_FOLDER = "possible_answer"
NESTED_TYPES = ("array", "tuple")  # BFCL types whose items are typed too
OMIT = object()  # a gold argument left out

_BFCL_TYPES = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean", "null": "any"}


# --------------------------------------------------------------------------------------------------
# writing


def bfcl_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema in BFCL's spelling (``float`` for number, ``dict`` for object, ``any`` without a type)."""
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        out["type"] = "array"
        if isinstance(schema.get("items"), Mapping) and schema["items"]:
            out["items"] = bfcl_schema(schema["items"])
    elif kind == "object":
        out["type"] = "dict"
        if isinstance(schema.get("properties"), Mapping):
            out["properties"] = {k: bfcl_schema(v) for k, v in schema["properties"].items()}
            if schema.get("required"):
                out["required"] = list(schema["required"])
    else:
        out["type"] = _BFCL_TYPES.get(kind, "any")
    for key in ("description", "enum", "default"):
        if key in schema:
            out[key] = schema[key]
    return out


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def bfcl_function(function: Mapping[str, Any]) -> dict[str, Any]:
    """A function as a BFCL doc. BFCL has no ``null``: a parameter that may be null is optional instead, and a
    ``None`` argument is written as leaving it out."""
    schema = function.get("parameters") or {"type": "object"}
    parameters = bfcl_schema(schema)
    parameters.setdefault("properties", {})
    nullable = {name for name, prop in (schema.get("properties") or {}).items() if _nullable(prop)}
    parameters["required"] = [name for name in parameters.get("required", []) if name not in nullable]
    return {"name": function["name"], "description": function.get("description", ""), "parameters": parameters}


def category(n_calls: int, n_functions: int, n_distinct: int) -> str:
    """The BFCL category of an item's shape."""
    if n_calls == 1:
        return "simple" if n_functions == 1 else "multiple"
    return "parallel" if n_distinct == 1 else "parallel_multiple"


def item_id(row: Mapping[str, Any], index: int) -> str:
    tools, calls = row_calls(row)
    return f"{category(len(calls), len(tools), len({c['name'] for c in calls}))}_{index}"


def export_row(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The question line."""
    tools, _ = row_calls(row)
    messages = [{"role": "user", "content": row["query"]}]
    now = row_now(row)
    if now:
        messages.insert(0, {"role": "system", "content": f"{NOW_SENTENCE}{now}."})
    return {
        "id": item_id(row, index),
        "question": [messages],
        "function": [bfcl_function(f) for f in bare_functions(tools)],
    }


def export_answer(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The possible_answer line."""
    tools, calls = row_calls(row)
    truth = []
    for call in calls:
        spec = tools[call["name"]]
        props = spec.parameters.get("properties", {})
        required = set(spec.parameters.get("required", ()))
        allowed: dict[str, list[Any]] = {}
        for name in spec.param_names:
            if call["arguments"].get(name) is not None:
                allowed[name] = [call["arguments"][name]]
            elif call["arguments"].get(name, "") is None or name not in required:
                default = props[name].get("default", OMIT)
                allowed[name] = [""] if default is OMIT else [default, ""]
        truth.append({call["name"]: allowed})
    return {"id": item_id(row, index), "ground_truth": truth}


# --------------------------------------------------------------------------------------------------
# reading


def request_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The request as one user turn: the last user message, after earlier turns (a system prompt, previous
    turns) written as ``role: content`` lines under "Conversation so far:" when there are any."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    if last is None:
        return ""
    request = messages[last].get("content") or ""
    if last == 0:
        return request
    lines = ["Conversation so far:"]
    lines += [f"{m.get('role', 'user')}: {m.get('content') or ''}" for m in messages[:last]]
    return "\n".join([*lines, "", f"Request: {request}"])


def find_function(functions: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    return next((f for f in functions if f.get("name") == name), None)


def gold_calls(functions: Sequence[Mapping[str, Any]], ground_truth: Sequence[Mapping[str, Any]]) -> list[dict]:
    """A passing answer: each ground-truth call with the first allowed value of each parameter, ``""`` meaning it
    is left out (a required one takes its first other value, or the empty string when ``""`` is all there is; one
    the doc lacks is left out where allowed); inside a dict parameter the same, key by key."""
    return [_gold_call(functions, name, answer) for entry in ground_truth for name, answer in entry.items()]


def _gold_call(functions: Sequence[Mapping[str, Any]], name: str, answer: Mapping[str, list[Any]]) -> dict:
    doc = find_function(functions, name) or {}
    params = doc.get("parameters", {})
    props, required = params.get("properties", {}), set(params.get("required", ()))
    arguments = {}
    for param, allowed in answer.items():
        if param not in props and "" in allowed:
            continue  # a parameter the doc lacks would be unexpected: leave it out where that is allowed
        value = first_allowed(allowed, param in required)
        if value is not OMIT:
            arguments[param] = _gold_value(value, props.get(param, {}))
    return {"name": name, "arguments": arguments}


def first_allowed(allowed: Sequence[Any], required: bool) -> Any:
    """The first allowed value, or :data:`OMIT` where that is "leave it out" (never for a required parameter)."""
    if allowed and allowed[0] != "":
        return allowed[0]
    if not required:
        return OMIT
    return next((value for value in allowed if value != ""), "")


def _gold_value(value: Any, schema: Mapping[str, Any]) -> Any:
    """A dict parameter's ground truth is itself ``{key: allowed values}``: pick from it key by key."""
    kind = schema.get("type")
    if kind == "dict" and type(value) is dict:
        return _gold_dict(value)
    items_kind = (schema.get("items") or {}).get("type") if isinstance(schema.get("items"), Mapping) else None
    if kind in NESTED_TYPES and items_kind == "dict" and type(value) is list:
        return [_gold_dict(v) if type(v) is dict else v for v in value]
    return value


def _gold_dict(answer: Mapping[str, list[Any]]) -> dict[str, Any]:
    out = {}
    for key, allowed in answer.items():
        value = first_allowed(allowed, False) if isinstance(allowed, list) else allowed
        if value is not OMIT:
            out[key] = value
    return out


def import_record(record: Any, index: int, answer: Mapping[str, Any] | None = None) -> Imported:
    """One question line and its possible_answer line."""
    if not isinstance(record, Mapping) or not isinstance(record.get("question"), list):
        raise RecordFormatError("bad_record", "no 'question' list")
    messages = [m for turn in record["question"] if isinstance(turn, list) for m in turn if isinstance(m, Mapping)]
    now = ""
    for message in list(messages):  # a system turn holding only "now" (as planforge writes it) is the example's now
        text = message.get("content")
        if message.get("role") == "system" and isinstance(text, str) and now_in(text) and "\n" not in text.strip():
            now = now_in(text) or ""
            messages.remove(message)
    query = require_text(request_text(messages), "user request")
    functions = record.get("function")
    if not isinstance(functions, list) or not functions:
        raise RecordFormatError("tools", "no 'function' list")
    truth = answer.get("ground_truth") if isinstance(answer, Mapping) else None
    if not isinstance(truth, list):
        raise RecordFormatError("no_calls", "no ground truth for this item (pass --answers)")
    if not all(isinstance(entry, Mapping) for entry in truth):
        raise RecordFormatError("calls", "ground_truth entries must be objects")
    tools = read_tools(functions, "function")
    if not truth:  # as BFCL's irrelevance items: the right answer is no call
        imported = Imported(query, tools, [], now, record_id(record, index))
        raise AnsweredWithoutCalls(imported, "the ground truth is no call")
    calls = gold_calls(functions, truth)
    return Imported(query, tools, calls, now, record_id(record, index))
