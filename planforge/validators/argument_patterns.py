"""Regular expressions matching exactly the argument texts that simple parameter schemas accept.

A function whose parameters are all simple (strings, integers, numbers, booleans, string enums, arrays of
those, ``None`` for optional ones) gets one pattern for its positional arguments. A text it matches in
full is a valid call: the value of every literal it admits is the same read as JSON or as Python (strings
have no escapes, numbers no leading zeros), satisfies its schema, and a ``"$K"`` (or bare ``$K``) stands
only where every return type the tool set declares can fill it, so :mod:`~planforge.validators.screen`
passes such a step without decoding it. Anything the pattern does not match is not thereby invalid: it
is decoded and checked the long way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from planforge.validators.references import SensitiveParameter
from planforge.validators.schema_check import FunctionChecker, annotations_removed

_SPACE = r"[ \t]*"
# A JSON string without escapes or control characters: JSON and Python read it to the same value.
_STRING = r'"[^"\\\x00-\x1f]*"'
# ... that is not exactly "$K" (is_whole_reference's digits are \d, so these are too)
_NOT_A_REFERENCE = r'(?!"\$(?:\{\d+\}|\d+)")'
# "$K", or $K as planners write it bare (the parser quotes it)
_REFERENCE = r'"\$(?:\{\d+\}|\d+)"|\$(?:\{\d+\}|\d+)'
# Integers and numbers well inside float range, digits JSON and Python agree on.
_INTEGER = r"-?(?:0|[1-9][0-9]{0,17})"
_NUMBER = r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?(?:[eE][-+]?[0-9]{1,2})?"
_SCALARS = {"integer": _INTEGER, "number": _NUMBER, "boolean": "True|False", "null": "None"}


def arguments_pattern(checker: FunctionChecker, sensitive: Mapping[str, SensitiveParameter]) -> re.Pattern | None:
    """The pattern of every valid positional argument text of one function, or None when some parameter is
    not simple (its calls are then always decoded)."""
    names = checker.param_names
    values = []
    for name in names:
        parameter = sensitive.get(name)
        value = _value(
            checker.properties.get(name, {}),
            optional=name not in checker.required,
            reference_ok=parameter is None or parameter.whole is None,
            item_reference_ok=parameter is None or parameter.item is None,
        )
        if value is None:
            return None
        values.append(value)
    last_required = max((i for i, n in enumerate(names) if n in checker.required), default=-1)
    pattern = ""
    for i in reversed(range(len(names))):  # later arguments nest inside earlier ones; optional ones may stop
        pattern = (f"{_SPACE},{_SPACE}" if i else "") + f"(?:{values[i]})" + pattern
        if i > last_required:
            pattern = f"(?:{pattern})?"
    return re.compile(_SPACE + pattern + _SPACE)


def _value(schema: Any, *, optional: bool, reference_ok: bool, item_reference_ok: bool) -> str | None:
    """The pattern of one parameter's valid values, or None when its schema is not simple."""
    kinds = _kinds(schema)
    if kinds == ["array"] and isinstance(schema, Mapping) and set(annotations_removed(schema)) == {"type", "items"}:
        item = _scalar(schema["items"], reference_ok=item_reference_ok)
        if item is None:
            return None
        alternatives = [rf"\[{_SPACE}(?:(?:{item})(?:{_SPACE},{_SPACE}(?:{item}))*)?{_SPACE}\]"]
    else:
        scalar = _scalar(schema, reference_ok=reference_ok)
        if scalar is None:
            return None
        alternatives = [scalar]
    if reference_ok:
        alternatives.append(_REFERENCE)
    if optional:
        alternatives.append("None")  # None for an optional parameter means omitted
    return "|".join(alternatives)


def _scalar(schema: Any, *, reference_ok: bool) -> str | None:
    """The pattern of a string enum or of a type-only schema of scalar types; None for anything else."""
    if not isinstance(schema, Mapping):
        return None
    keywords = set(annotations_removed(schema))
    kinds = _kinds(schema)
    string = _STRING if reference_ok else _NOT_A_REFERENCE + _STRING
    if "enum" in keywords:
        if keywords - {"enum", "type"} or (kinds is not None and kinds != ["string"]):
            return None
        encoded = [json.dumps(v, ensure_ascii=False) for v in schema["enum"] if isinstance(v, str)]
        if len(encoded) != len(schema["enum"]) or not all(re.fullmatch(_STRING, e) for e in encoded):
            return None  # non-string values, or strings needing escapes
        choices = [re.escape(e) for e in encoded]
        if not reference_ok:  # an enum value that is itself "$K"
            choices = [c for c, e in zip(choices, encoded, strict=True) if re.fullmatch(_NOT_A_REFERENCE + _STRING, e)]
        return "|".join(choices) or "(?!)"
    if keywords != {"type"} or kinds is None:
        return None
    patterns = []
    for kind in kinds:
        if kind == "string":
            patterns.append(string)
        elif kind in _SCALARS:
            patterns.append(_SCALARS[kind])
        else:
            return None  # arrays and objects are not scalars
    return "|".join(patterns)


def _kinds(schema: Any) -> list[str] | None:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if kind is None:
        return None
    return [kind] if isinstance(kind, str) else list(kind)
