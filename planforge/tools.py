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
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import ToolSpecError
from planforge.plan import MAX_NESTING, json_value_problem

#: JSON levels in one function definition (``parameters.properties.x.items`` is 4 below the definition).
MAX_DEFINITION_DEPTH = 64
#: Nested steps (one per subschema applied, ``$ref`` followed, or level of the value entered) that checking
#: the deepest value a plan may hold can take; jsonschema recurses about twice per step.
MAX_CHECK_DEPTH = 200

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
    #: what the validators compile for this function alone (its argument checker, ...), filled on first use
    #: and shared by every tool set offering it; never pickled
    compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return ToolSpec, (self.name, self.description, self.parameters, self.returns)

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
    #: what :mod:`planforge.validators` compiles for this set of functions as a whole, filled on first use
    compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:  # the specs, not what was compiled for them
        return ToolSet, (self.specs,)

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

    Recurses into every subschema position whose value has the right shape, and copies anything else as
    written for :func:`check_schema` to judge. ``where`` is used in error messages.
    """
    if schema is True or schema is None:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, Mapping):
        raise ToolSpecError(f"{where}: a schema must be an object, got {type(schema).__name__}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            out.update(_normalize_type(value, where))
        elif key in ("optional", "$schema"):
            continue  # optional: the parent's ``required`` list; $schema: this copy is 2020-12 whatever it said
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
    items = out.get("items", True)
    if out.get("type") == "array" and "enum" in out and isinstance(items, (Mapping, bool)):
        # BFCL puts the allowed values of an array's items on the array itself.
        items = {} if items is True else {"not": {}} if items is False else dict(items)
        items["enum"] = out.pop("enum")
        out["items"] = items
    if isinstance(out.get("properties"), Mapping):
        _apply_optional_flags(schema, out, where)
    return out


def _normalize_type(value: Any, where: str) -> dict[str, Any]:
    names = value if isinstance(value, list) else [value]
    if not names:
        raise ToolSpecError(f"{where}: type must name at least one type")
    mapped: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ToolSpecError(f"{where}: type must be a string, got {_show(name)}")
        key = name.strip().lower()
        if key not in _TYPE_ALIASES:
            raise ToolSpecError(f"{where}: unknown type {_show(name)}")
        target = _TYPE_ALIASES[key]
        if target is None:  # 'any' absorbs every other type
            return {}
        if target not in mapped:
            mapped.append(target)
    return {"type": mapped[0] if len(mapped) == 1 else mapped}


def _apply_optional_flags(raw: Mapping[str, Any], out: dict[str, Any], where: str) -> None:
    """BFCL marks parameters ``optional: true``; JSON Schema lists the required ones instead."""
    required = out.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        return  # not a list of names: check_schema says so
    for name in required:
        if name not in out["properties"]:
            raise ToolSpecError(f"{where}: required parameter {_show(name)} is not among the properties")
    required = list(required)
    for name, prop in raw.get("properties", {}).items():
        if isinstance(prop, Mapping) and prop.get("optional") is True and name in required:
            required.remove(name)
    if required or "required" in out:
        out["required"] = required


def tool_from_dict(raw: Any) -> ToolSpec:
    """One function definition in any supported dialect -> :class:`ToolSpec`.

    Everything later checks rely on is checked here, so a definition that loads can be used: its values
    are JSON (no NaN, no integer beyond float range) nested at most :data:`MAX_DEFINITION_DEPTH` levels, its
    schemas are valid JSON Schema 2020-12 with compilable patterns, and planforge's own rules hold (see
    :func:`check_schema`). Raises :class:`ToolSpecError` naming the function and the field."""
    if not isinstance(raw, Mapping):
        raise ToolSpecError(f"a function definition must be an object, got {type(raw).__name__}")
    if raw.get("type") == "function" and isinstance(raw.get("function"), Mapping):
        raw = raw["function"]
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolSpecError(f"a function definition has no name: {_show(dict(raw), 120)}")
    where = f"function {_show(name)}"
    found = json_value_problem(dict(raw), max_depth=MAX_DEFINITION_DEPTH)
    if found is not None:
        path, problem = found
        raise ToolSpecError(f"{where}: {field_path(path) or 'definition'}: {problem}")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise ToolSpecError(f"{where}: description must be a string")
    params_raw = raw.get("parameters", {"type": "object", "properties": {}})
    if is_xlam_parameters(params_raw):
        params_raw = xlam_parameters(params_raw, f"{where}: parameters")
    parameters = normalize_schema(params_raw, f"{where}: parameters")
    if parameters.get("type", "object") != "object":
        raise ToolSpecError(f"{where}: parameters must be an object schema")
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    # Parameters are closed unless the schema explicitly allows more.
    parameters.setdefault("additionalProperties", False)
    check_schema(parameters, f"{where}: parameters")
    for required in parameters.get("required", ()):
        if required not in parameters["properties"]:
            raise ToolSpecError(
                f"{where}: parameters: required parameter {_show(required)} is not among the properties"
            )
    returns_raw = raw.get("returns", raw.get("response"))
    returns = None
    if returns_raw is not None:
        returns = normalize_schema(returns_raw, f"{where}: returns")
        check_schema(returns, f"{where}: returns")
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
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, or an integer of 5,000 digits
        raise ToolSpecError(f"{path}: not valid JSON ({_one_line(str(exc))})") from exc
    except RecursionError as exc:
        raise ToolSpecError(f"{path}: not valid JSON (nested too deeply)") from exc
    except OSError as exc:
        raise ToolSpecError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        return tools_from_json(data)
    except ToolSpecError as exc:
        raise ToolSpecError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------------------------------
# What a loaded schema must be


def check_schema(schema: dict[str, Any], where: str) -> None:
    """Raise :class:`ToolSpecError` unless ``schema`` is one that every later check can run.

    That is: valid JSON Schema 2020-12 by its metaschema, patterns included (they must compile), and
    planforge's own rules: a ``$ref`` is a local pointer (``#`` or ``#/...``) to a subschema of the same
    document; no ``$ref`` loop comes back to where it started without reaching into the value; no ``$id``
    or ``$dynamicRef`` (one document, read one way); and checking the deepest value a plan may hold
    (:data:`~planforge.plan.MAX_NESTING`) takes at most :data:`MAX_CHECK_DEPTH` nested steps. Schemas of
    the common keywords only are recognized as valid without importing jsonschema."""
    if _plainly_valid(schema):
        return
    found = _metaschema_problem(schema) or _reference_problem(schema)
    if found is not None:
        path, problem = found
        raise ToolSpecError(f"{where}{field_path(path, leading_dot=True)}: {problem}")


_PLAIN_TYPES = frozenset({"string", "integer", "number", "boolean", "null", "array", "object"})
_PLAIN_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "description", "title", "default"}
)


def _plainly_valid(schema: Any) -> bool:
    """True when ``schema`` uses only common keywords, each well formed, so it is valid without asking
    jsonschema. False means "ask jsonschema", not "invalid". A property test holds it to the metaschema."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if type(node) is bool:
            continue
        if type(node) is not dict or not node.keys() <= _PLAIN_KEYWORDS:
            return False
        kind = node.get("type")
        if kind is not None and not (
            kind in _PLAIN_TYPES
            if type(kind) is str
            else type(kind) is list and kind and _unique_strings(kind) and _PLAIN_TYPES.issuperset(kind)
        ):
            return False
        properties = node.get("properties", {})
        if type(properties) is not dict:
            return False
        stack.extend(properties.values())
        if not _unique_strings(node.get("required", [])) or type(node.get("enum", [])) is not list:
            return False
        for key in ("description", "title"):
            if type(node.get(key, "")) is not str:
                return False
        stack.extend(node[key] for key in ("additionalProperties", "items") if key in node)
    return True


def _unique_strings(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value) and len(set(value)) == len(value)


_META_VALIDATOR: Any = None


def _metaschema_problem(schema: Any) -> tuple[list[Any], str] | None:
    global _META_VALIDATOR
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if _META_VALIDATOR is None:
        _META_VALIDATOR = Draft202012Validator(
            Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
    try:
        error = best_match(_META_VALIDATOR.iter_errors(schema))
    except RecursionError:  # ``re.compile`` of a pattern of a thousand nested groups
        return [], "a pattern nests too deeply to compile"
    if error is None:
        return None
    if error.validator == "format" and error.validator_value == "regex":
        message = f"{_show(error.instance)} is not a valid regular expression"
    else:
        message = error.message
    return list(error.absolute_path), _one_line(message)


# Where subschemas sit: applied to the same value, applied to a part of it, or only reachable by $ref.
_IN_PLACE = {"not": "one", "if": "one", "then": "one", "else": "one", "allOf": "list", "anyOf": "list",
             "oneOf": "list", "dependentSchemas": "map"}  # fmt: skip
_DESCENDING = {"items": "one", "additionalProperties": "one", "contains": "one", "propertyNames": "one",
               "unevaluatedItems": "one", "unevaluatedProperties": "one", "prefixItems": "list",
               "properties": "map", "patternProperties": "map"}  # fmt: skip
_UNAPPLIED = {"$defs": "map", "definitions": "map"}
_UNSUPPORTED = ("$id", "$dynamicRef")

Pointer = tuple[str, ...]


def _reference_problem(schema: dict[str, Any]) -> tuple[list[Any], str] | None:
    """Planforge's rules on ``$ref`` (see :func:`check_schema`); the metaschema has passed."""
    nodes: dict[Pointer, Any] = {}
    in_place: dict[Pointer, list[Pointer]] = {}
    descending: dict[Pointer, list[Pointer]] = {}
    refs: list[tuple[Pointer, str]] = []
    stack: list[tuple[Pointer, Any, bool]] = [((), schema, False)]
    while stack:
        path, node, is_definition = stack.pop()
        nodes[path] = node
        if is_definition:  # `definitions` is no 2020-12 keyword, so the metaschema did not look inside
            found = _metaschema_problem(node)
            if found is not None:
                return list(path) + found[0], found[1]
        in_place[path], descending[path] = [], []
        if type(node) is not dict:
            continue
        for key in _UNSUPPORTED:
            if key in node:
                return list(path) + [key], f"{key} is not supported in function definitions"
        if "$ref" in node:
            refs.append((path, node["$ref"]))
        for key, value in node.items():
            for table, edges in ((_IN_PLACE, in_place[path]), (_DESCENDING, descending[path]), (_UNAPPLIED, None)):
                shape = table.get(key)
                if shape is None:
                    continue
                for suffix, child in _children(shape, value):
                    child_path = (*path, key, *suffix)
                    if edges is not None:
                        edges.append(child_path)
                    stack.append((child_path, child, table is _UNAPPLIED and key == "definitions"))
    if not refs:
        return None  # without $ref every step goes one level deeper into the schema: depth bounds it
    for path, ref in refs:
        target = _pointer(ref)
        if target not in nodes:
            return list(path) + ["$ref"], f"{_show(ref)} points at no schema of this definition"
        in_place[path].append(target)
    return _check_depth_problem(in_place, descending)


def _children(shape: str, value: Any) -> list[tuple[Pointer, Any]]:
    """The subschemas under one keyword, by the shape it holds them in (any other shape holds none)."""
    if shape == "one":
        return [((), value)]
    if shape == "list" and type(value) is list:
        return [((str(i),), item) for i, item in enumerate(value)]
    if shape == "map" and type(value) is dict:
        return [((name,), item) for name, item in value.items()]
    return []


def _pointer(ref: str) -> Pointer | None:
    """``#`` or ``#/a/b~1c`` -> the path it names; None for anything else (other documents, anchors)."""
    if not ref.startswith("#"):
        return None
    from urllib.parse import unquote  # here: loading most definitions needs no URL parsing

    pointer = unquote(ref[1:])
    if not pointer:
        return ()
    if not pointer.startswith("/"):
        return None
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def _check_depth_problem(
    in_place: dict[Pointer, list[Pointer]], descending: dict[Pointer, list[Pointer]]
) -> tuple[list, str] | None:
    """A loop of in-place steps never ends; otherwise the longest chain of steps over a value nested as
    deep as a plan allows must stay within :data:`MAX_CHECK_DEPTH` (jsonschema recurses once per step)."""
    order: list[Pointer] = []  # in-place children before their parents
    state: dict[Pointer, int] = {}  # 1: on the current walk, 2: done
    for start in in_place:
        if start in state:
            continue
        walk = [(start, iter(in_place[start]))]
        state[start] = 1
        while walk:
            node, children = walk[-1]
            child = next(children, None)
            if child is None:
                walk.pop()
                state[node] = 2
                order.append(node)
            elif state.get(child) == 1:
                return list(node), "$ref loops back to itself without reaching into the value"
            elif child not in state:
                state[child] = 1
                walk.append((child, iter(in_place[child])))
    levels = MAX_NESTING + 1  # the arguments object, then the values inside it
    previous: dict[Pointer, int] = {}
    for level in range(levels + 1):
        steps: dict[Pointer, int] = {}
        for node in order:
            deepest = max((steps[c] for c in in_place[node]), default=0)
            if level:
                deepest = max(deepest, max((previous[c] for c in descending[node]), default=0))
            steps[node] = deepest + 1
        previous = steps
    if previous[()] > MAX_CHECK_DEPTH:
        return [], (
            f"checking a value nested {MAX_NESTING} levels deep would take {previous[()]} nested steps "
            f"(at most {MAX_CHECK_DEPTH}): shorten the $ref chains"
        )
    return None


# --------------------------------------------------------------------------------------------------
# messages


def field_path(path: Sequence[Any], *, leading_dot: bool = False) -> str:
    """``["properties", "to", "items", 0]`` -> ``properties.to.items[0]`` (odd names quoted; a long path
    keeps its ends)."""
    if len(path) > 12:
        return field_path(path[:4], leading_dot=leading_dot) + ".…" + field_path(path[-6:], leading_dot=True)
    out = ""
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_NAME.fullmatch(part):
            out += f".{part}"
        else:
            out += f"[{_show(part)}]"
    return out if leading_dot or not out.startswith(".") else out[1:]


_PLAIN_NAME = re.compile(r"[$A-Za-z_][\w\-]*")
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60


def _show(value: Any, limit: int = 60) -> str:
    """A short repr, safe for any value (nested a thousand deep, or an integer Python will not print)."""
    try:
        shown = _SHOW.repr(value)
    except (ValueError, RecursionError):
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _one_line(message: str, limit: int = 200) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


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
