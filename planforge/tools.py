"""Function (tool) definitions: load the dialects users have and normalize them to JSON Schema 2020-12.

Four dialects are accepted, alone or mixed in one list:

* OpenAI ``tools`` entries: ``{"type": "function", "function": {name, description, parameters}}``
* bare functions: ``{name, description, parameters}``
* Berkeley Function Calling Leaderboard docs, whose schemas use ``dict``, ``float``, ``tuple``
  and ``any`` besides the JSON Schema types, ``optional``/``default`` keys, and an ``enum`` on an
  ``array`` parameter that constrains its items;
* xLAM / APIGen functions, whose ``parameters`` map each name straight to ``{"type", "description",
  "default"}`` with Python-typing names (``str``, ``List[str]``, ``Dict``, ``Optional[int]``, ``"str, optional"``):
  a parameter is optional when its type says so or it has a ``default`` (:func:`xlam_parameters`).

A function may carry a ``returns`` schema beside ``parameters``: it types what ``$K`` yields.
Parameter order is the order of ``properties``; it maps positional arguments to names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import ToolSpecError

# BFCL and Python spellings of types, mapped to JSON Schema. ``None`` means "no type constraint".
_TYPE_ALIASES: dict[str, str | None] = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "object": "object",
    "dict": "object",
    "null": "null",
    "none": "null",
    "any": None,
}

# Keys that hold one subschema / a mapping of subschemas / a list of subschemas.
_SUBSCHEMA_KEYS = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SUBSCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions")
_SUBSCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")


@dataclass(frozen=True)
class ToolSpec:
    """One function a plan may call: its name, description, parameter schema and optional return schema."""

    name: str
    description: str
    parameters: dict[str, Any]
    returns: dict[str, Any] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("properties", {}))

    @property
    def required(self) -> frozenset[str]:
        return frozenset(self.parameters.get("required", ()))

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry (what chat templates and TRL expect)."""
        function: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }
        if self.returns is not None:
            function["returns"] = self.returns
        return {"type": "function", "function": function}

    def to_dict(self) -> dict[str, Any]:
        """The bare dialect, stable key order: what datasets store."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }
        if self.returns is not None:
            out["returns"] = self.returns
        return out


@dataclass(frozen=True)
class ToolSet(Mapping[str, ToolSpec]):
    """An ordered, name-indexed collection of functions: the functions offered to a plan."""

    specs: tuple[ToolSpec, ...]
    _by_name: dict[str, ToolSpec] = field(init=False, repr=False, compare=False)
    #: function name -> parameter names in positional order
    param_order: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    #: per-function compiled argument checkers, filled on first use by :mod:`planforge.validators`
    compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, ToolSpec] = {}
        for spec in self.specs:
            if spec.name in by_name:
                raise ToolSpecError(f"function {spec.name!r} is defined twice")
            by_name[spec.name] = spec
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "param_order", {s.name: s.param_names for s in self.specs})

    def __getitem__(self, name: str) -> ToolSpec:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __contains__(self, name: object) -> bool:  # Mapping's default goes through __getitem__ and a try
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.specs)

    def __hash__(self) -> int:
        return hash(self.specs_json())

    def subset(self, names: Iterable[str]) -> ToolSet:
        return ToolSet(tuple(self._by_name[n] for n in names))

    def specs_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.specs], sort_keys=False, ensure_ascii=False)

    def to_openai(self) -> list[dict[str, Any]]:
        return [s.to_openai() for s in self.specs]


def normalize_schema(schema: Any, where: str) -> dict[str, Any]:
    """Return a JSON Schema 2020-12 copy of ``schema`` with BFCL/Python type names translated.

    Recurses into every subschema position. ``where`` is used in error messages.
    """
    if schema is True or schema is None:
        return {}
    if not isinstance(schema, Mapping):
        raise ToolSpecError(f"{where}: a schema must be an object, got {type(schema).__name__}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            out.update(_normalize_type(value, where))
        elif key == "optional":
            continue  # handled by the parent object's ``required`` list
        elif key in _SUBSCHEMA_KEYS and isinstance(value, (Mapping, bool)):
            out[key] = value if isinstance(value, bool) else normalize_schema(value, f"{where}.{key}")
        elif key in _SUBSCHEMA_MAP_KEYS and isinstance(value, Mapping):
            out[key] = {k: normalize_schema(v, f"{where}.{key}.{k}") for k, v in value.items()}
        elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [normalize_schema(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
        elif key == "items" and isinstance(value, list):
            # Old tuple form: ``items: [schema, ...]`` is ``prefixItems`` in 2020-12.
            out["prefixItems"] = [normalize_schema(v, f"{where}.items[{i}]") for i, v in enumerate(value)]
        else:
            out[key] = value
    if out.get("type") == "array" and "enum" in out:
        # BFCL puts the allowed values of an array's items on the array itself.
        enum = out.pop("enum")
        items = dict(out.get("items", {}))
        items["enum"] = enum
        out["items"] = items
    if "properties" in out:
        _apply_optional_flags(schema, out, where)
    return out


def _normalize_type(value: Any, where: str) -> dict[str, Any]:
    names = value if isinstance(value, list) else [value]
    mapped: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ToolSpecError(f"{where}: type must be a string, got {name!r}")
        key = name.strip().lower()
        if key not in _TYPE_ALIASES:
            raise ToolSpecError(f"{where}: unknown type {name!r}")
        target = _TYPE_ALIASES[key]
        if target is None:  # 'any' absorbs every other type
            return {}
        if target not in mapped:
            mapped.append(target)
    return {"type": mapped[0] if len(mapped) == 1 else mapped}


def _apply_optional_flags(raw: Mapping[str, Any], out: dict[str, Any], where: str) -> None:
    """BFCL marks parameters ``optional: true``; JSON Schema lists the required ones instead."""
    raw_props = raw.get("properties", {})
    required = list(out.get("required", []))
    for name in required:
        if name not in out["properties"]:
            raise ToolSpecError(f"{where}: required parameter {name!r} is not among the properties")
    for name, prop in raw_props.items():
        if isinstance(prop, Mapping) and prop.get("optional") is True and name in required:
            required.remove(name)
    if required or "required" in out:
        out["required"] = required


def tool_from_dict(raw: Any) -> ToolSpec:
    """One function definition in any supported dialect -> :class:`ToolSpec`."""
    if not isinstance(raw, Mapping):
        raise ToolSpecError(f"a function definition must be an object, got {type(raw).__name__}")
    if raw.get("type") == "function" and isinstance(raw.get("function"), Mapping):
        raw = raw["function"]
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolSpecError(f"a function definition has no name: {json.dumps(raw)[:120]}")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise ToolSpecError(f"function {name!r}: description must be a string")
    params_raw = raw.get("parameters", {"type": "object", "properties": {}})
    if is_xlam_parameters(params_raw):
        params_raw = xlam_parameters(params_raw, f"function {name!r}: parameters")
    parameters = normalize_schema(params_raw, f"function {name!r}: parameters")
    if parameters.get("type", "object") != "object":
        raise ToolSpecError(f"function {name!r}: parameters must be an object schema")
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    # Parameters are closed unless the schema explicitly allows more.
    parameters.setdefault("additionalProperties", False)
    returns_raw = raw.get("returns", raw.get("response"))
    returns = None
    if returns_raw is not None:
        returns = normalize_schema(returns_raw, f"function {name!r}: returns")
    return ToolSpec(name=name, description=description, parameters=parameters, returns=returns)


def tools_from_json(data: Any) -> ToolSet:
    """A decoded JSON document -> :class:`ToolSet`: a list of functions, ``{"tools": [...]}`` or one function."""
    if isinstance(data, Mapping) and isinstance(data.get("tools"), list):
        data = data["tools"]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ToolSpecError("tools must be a JSON list of function definitions")
    return ToolSet(tuple(tool_from_dict(item) for item in data))


def load_tools(path: str | Path) -> ToolSet:
    """Read a tools JSON file. Raises :class:`ToolSpecError` naming the file on any problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ToolSpecError(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ToolSpecError(f"{path}: not valid JSON ({exc})") from exc
    try:
        return tools_from_json(data)
    except ToolSpecError as exc:
        raise ToolSpecError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------------------------------
# The xLAM / APIGen dialect

_XLAM_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "none": {"type": "null"},
    "nonetype": {"type": "null"},
    "any": {},
    "object": {},
}
_XLAM_CONTAINERS = {
    "list": "array",
    "array": "array",
    "tuple": "array",
    "set": "array",
    "sequence": "array",
    "dict": "object",
    "mapping": "object",
}
_XLAM_MAX_TYPE_CHARS = 500


def is_xlam_parameters(params: Any) -> bool:
    """``{"name": {"type": "str", ...}, ...}``: parameters without the JSON Schema object around them (a
    parameter may itself be called ``type``: then its value is an object, where a schema's is a string)."""
    if not isinstance(params, Mapping) or not params or "properties" in params:
        return False
    if "type" in params and not isinstance(params["type"], Mapping):
        return False
    return all(isinstance(v, Mapping) and isinstance(v.get("type"), str) for v in params.values())


def xlam_parameters(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    """xLAM parameters -> a JSON Schema object: types parsed from their Python-typing names, ``description`` and
    ``default`` kept, required unless the type says optional or a default is given."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        type_text = spec["type"].strip()
        optional = False
        if type_text.lower().endswith(", optional"):
            type_text, optional = type_text[: -len(", optional")].strip(), True
        schema, optional_type = _xlam_type(type_text, f"{where}.{name}")
        prop = dict(schema)
        for key in ("description", "default", "enum"):
            if key in spec:
                prop[key] = spec[key]
        properties[name] = prop
        if not (optional or optional_type or "default" in spec):
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _xlam_type(text: str, where: str) -> tuple[dict[str, Any], bool]:
    """One Python-typing name -> (JSON Schema, whether it is ``Optional``)."""
    if len(text) > _XLAM_MAX_TYPE_CHARS:
        raise ToolSpecError(f"{where}: type is {len(text)} characters long")
    head, args = _split_generic(text, where)
    key = head.lower()
    if key == "optional":
        if len(args) != 1:
            raise ToolSpecError(f"{where}: Optional takes one type, got {text!r}")
        return _xlam_type(args[0], where)[0], True
    if key == "union":
        options = [_xlam_type(a, where)[0] for a in args]
        nullable = {"type": "null"} in options
        options = [o for o in options if o != {"type": "null"}]
        if not options or {} in options:
            return {}, nullable
        return (options[0] if len(options) == 1 else {"anyOf": options}), nullable
    if key in ("literal",):
        return {"enum": [_literal_value(a) for a in args]}, False
    if key in _XLAM_CONTAINERS:
        kind = _XLAM_CONTAINERS[key]
        if kind == "array" and args and key != "tuple":
            return {"type": "array", "items": _xlam_type(args[0], where)[0]}, False
        if kind == "object" and len(args) == 2:
            values = _xlam_type(args[1], where)[0]
            return ({"type": "object", "additionalProperties": values} if values else {"type": "object"}), False
        return {"type": kind}, False
    if key in _XLAM_SCALARS and not args:
        return dict(_XLAM_SCALARS[key]), False
    raise ToolSpecError(f"{where}: unknown type {text!r}")


def _split_generic(text: str, where: str) -> tuple[str, list[str]]:
    """``"List[Dict[str, int]]"`` -> ``("List", ["Dict[str, int]"])``; a plain name has no arguments."""
    text = text.strip()
    if "[" not in text:
        if not text or not text.replace("_", "").isalnum():
            raise ToolSpecError(f"{where}: unknown type {text!r}")
        return text, []
    head, _, rest = text.partition("[")
    if not rest.endswith("]"):
        raise ToolSpecError(f"{where}: unbalanced brackets in type {text!r}")
    inner, args, depth, start = rest[:-1], [], 0, 0
    for i, char in enumerate(inner):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ToolSpecError(f"{where}: unbalanced brackets in type {text!r}")
        elif char == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    if depth:
        raise ToolSpecError(f"{where}: unbalanced brackets in type {text!r}")
    args.append(inner[start:].strip())
    return head.strip(), [a for a in args if a]


def _literal_value(text: str) -> Any:
    try:
        return json.loads(text.replace("'", '"'))
    except ValueError:
        return text
