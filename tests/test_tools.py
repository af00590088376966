import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from planforge.tools import ToolSpecError, _plainly_valid, load_tools, tool_from_dict, tools_from_json


def test_openai_and_bare_dialects_normalize_to_the_same_spec():
    bare = {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}
    wrapped = {"type": "function", "function": bare}
    assert tool_from_dict(bare) == tool_from_dict(wrapped)
    spec = tool_from_dict(bare)
    assert spec.parameters["additionalProperties"] is False  # closed unless the schema allows more
    assert spec.to_openai() == {"type": "function", "function": {**bare, "parameters": spec.parameters}}


def test_bfcl_types_translate_recursively(bfcl_tools):
    plot = bfcl_tools["plot_points"].parameters
    Draft202012Validator.check_schema(plot)
    assert plot["type"] == "object"
    assert plot["properties"]["points"]["items"] == {"type": "array", "items": {"type": "number"}}
    assert plot["properties"]["style"]["type"] == "object"
    assert plot["properties"]["style"]["properties"]["size"] == {"type": "number"}
    assert plot["properties"]["label"] == {"description": "Anything printable."}  # any: no constraint


def test_bfcl_optional_flag_and_default(bfcl_tools):
    triangle = bfcl_tools["calculate_triangle_area"]
    assert triangle.required == {"base", "height"}
    assert triangle.parameters["properties"]["unit"]["default"] == "units"
    assert triangle.param_names == ("base", "height", "unit")


def test_bfcl_enum_on_array_moves_to_items(bfcl_tools):
    rooms = bfcl_tools["hotel_booking.book"].parameters["properties"]["room_types"]
    assert "enum" not in rooms
    assert rooms["items"] == {"type": "string", "enum": ["single", "double", "suite"]}


def test_dotted_names_and_returns():
    tools = tools_from_json(
        {
            "tools": [
                {
                    "name": "math_toolkit.sum",
                    "parameters": {"type": "dict", "properties": {}},
                    "returns": {"type": "float"},
                }
            ]
        }
    )
    assert list(tools) == ["math_toolkit.sum"]
    assert tools["math_toolkit.sum"].returns == {"type": "number"}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"description": "no name"}, "no name"),
        ({"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "HashMap"}}}}, "unknown type"),
        ({"name": "f", "parameters": {"type": "string"}}, "must be an object"),
        ({"name": "f", "parameters": {"type": "dict", "properties": {}, "required": ["y"]}}, "'y'"),
    ],
)
def test_bad_definitions_name_the_function_and_field(raw, words):
    with pytest.raises(ToolSpecError, match=words):
        tool_from_dict(raw)


def test_duplicate_function_names_are_refused():
    with pytest.raises(ToolSpecError, match="twice"):
        tools_from_json([{"name": "f"}, {"name": "f"}])


def test_load_tools_errors_name_the_file(tmp_path):
    bad = tmp_path / "tools.json"
    bad.write_text("{not json")
    with pytest.raises(ToolSpecError, match="tools.json: not valid JSON"):
        load_tools(bad)
    with pytest.raises(ToolSpecError, match="no such file"):
        load_tools(tmp_path / "missing.json")


def test_mac_assistant_tools_are_sixteen_typed_functions(mac_tools):
    assert len(mac_tools) == 16
    for spec in mac_tools.specs:
        Draft202012Validator.check_schema(spec.parameters)
        assert spec.returns == {"type": "string"}
    json.dumps(mac_tools.to_openai())


# -- every bad definition is a ToolSpecError naming the function and the field ------------------------


def _function(parameters, **extra):
    return {"name": "send_sms", "parameters": parameters, **extra}


def _nest(depth: int, schema: dict) -> dict:
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            _function({"type": "object", "properties": {"recipients": {"type": "string", "pattern": "("}}}),
            "function 'send_sms': parameters.properties.recipients.pattern: '(' is not a valid regular expression",
        ),
        (_function({"type": "object", "required": 5}), "parameters.required: 5 is not of type 'array'"),
        (_function({"type": "object", "required": [["a"]]}), "parameters.required[0]: ['a'] is not of type 'string'"),
        (_function({"type": "object", "properties": [1]}), "parameters.properties: [1] is not of type 'object'"),
        (_function({"type": "object", "required": ["a"]}), "parameters: required parameter 'a' is not among"),
        (_function({"properties": {"a": {"enum": 5}}}), "parameters.properties.a.enum: 5 is not of type 'array'"),
        (_function({"properties": {"a": {"minimum": "x"}}}), "parameters.properties.a.minimum: 'x' is not of type"),
        (_function({"properties": {"a": {"multipleOf": 0}}}), "parameters.properties.a.multipleOf: 0 is less than"),
        (_function({"properties": {"a": {"multipleOf": float("nan")}}}), "multipleOf: non-finite numbers"),
        (_function({"properties": {"a": {"maximum": 10**400}}}), "maximum: integers beyond"),
        (_function({"properties": {"a": {"type": []}}}), "parameters.properties.a: type must name at least one type"),
        (_function({"properties": {"a": {"$ref": "#/nope"}}}), "a.$ref: '#/nope' points at no schema"),
        (_function({"properties": {"a": {"$ref": "#/properties"}}}), "'#/properties' points at no schema"),
        (_function({"properties": {"a": {"$ref": "http://example.com/s"}}}), "points at no schema"),
        (_function({"type": "object", "$ref": "#"}), "parameters: $ref loops back to itself"),
        (
            _function({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}}),
            "$ref loops back to itself without reaching into the value",
        ),
        (_function({"definitions": {"x": {"type": 5}}}), "parameters.definitions.x: type must be a string"),
        (_function({"definitions": {"x": {"minimum": "x"}}}), "parameters.definitions.x.minimum: 'x' is not of type"),
        (_function({"properties": {"a": {"$id": "a"}}}), "a.$id: $id is not supported"),
        (_function({"properties": {"a": {"pattern": "(" * 2000 + ")" * 2000}}}), "nests too deeply to compile"),
        (_function(_nest(40, {"type": "string"})), "nested deeper than 64 levels"),
        (_function({"properties": {"a": {"default": {1, 2}}}}), "properties.a.default: set values are not allowed"),
        (_function({"properties": {"a": {"type": "array", "items": "x", "enum": [1]}}}), "items: 'x' is not of type"),
        (_function({"type": "object"}, returns={"type": "string", "pattern": "["}), "returns.pattern: '['"),
        ({"name": "\ud800", "parameters": {"properties": {"a": {"type": 5}}}}, "function '\\ud800': parameters"),
    ],
)
def test_bad_definitions_are_refused_when_they_load(raw, message):
    with pytest.raises(ToolSpecError) as caught:
        tools_from_json([raw])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_checks_that_cannot_end_are_refused_and_recursive_schemas_load():
    tree = {
        "$defs": {
            "node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}
        },
        "properties": {"root": {"$ref": "#/$defs/node"}},
    }
    tools = tools_from_json([{"name": "f", "parameters": tree}])
    assert tools["f"].parameters["properties"]["root"] == {"$ref": "#/$defs/node"}
    chain = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(60)}
    chain["d60"] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/d0"}}
    with pytest.raises(ToolSpecError, match="would take .* nested steps"):
        tools_from_json([{"name": "f", "parameters": {"$defs": chain, "properties": {"a": {"$ref": "#/$defs/d0"}}}}])


def test_boolean_schemas_and_array_enums_with_boolean_items_normalize():
    spec = tool_from_dict(
        {
            "name": "f",
            "parameters": {
                "type": "dict",
                "properties": {"any": True, "none": False, "tags": {"type": "array", "enum": ["a"], "items": True}},
            },
        }
    )
    properties = spec.parameters["properties"]
    assert properties["any"] == {} and properties["none"] == {"not": {}}
    assert properties["tags"] == {"type": "array", "items": {"enum": ["a"]}}


def test_schema_dialect_is_normalized_away():
    spec = tool_from_dict({"name": "f", "parameters": {"$schema": "http://json-schema.org/draft-07/schema#"}})
    assert "$schema" not in spec.parameters


def test_load_tools_reports_files_that_are_too_deep_or_unreadable(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ToolSpecError, match="deep.json: not valid JSON \\(nested too deeply\\)"):
        load_tools(deep)
    with pytest.raises(ToolSpecError, match="cannot read"):
        load_tools(tmp_path)


# -- the pure-Python metaschema shortcut never accepts what the metaschema refuses ---------------------

plain_types = st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object", "str", 5])
names = st.sampled_from(["a", "b", "c"])
odd_values = st.one_of(st.none(), st.integers(-2, 2), st.text(max_size=3), st.lists(st.integers(0, 2), max_size=2))
plain_schemas = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": plain_types | st.lists(plain_types, max_size=3),
            "enum": st.lists(odd_values, max_size=3) | odd_values,
            "description": st.text(max_size=5) | odd_values,
            "title": st.text(max_size=5),
            "default": odd_values,
            "required": st.lists(names | st.integers(0, 1), max_size=3) | odd_values,
            "minimum": st.integers(0, 3),
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": plain_types,
            "properties": st.dictionaries(names, inner | st.booleans() | odd_values, max_size=3) | odd_values,
            "items": inner | st.booleans() | odd_values,
            "additionalProperties": inner | st.booleans() | odd_values,
        },
    ),
    max_leaves=8,
)


@pytest.mark.slow
@settings(max_examples=1500)
@given(plain_schemas)
def test_plain_schema_shortcut_agrees_with_the_metaschema(schema):
    metaschema_ok = not list(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    if _plainly_valid(schema):
        assert metaschema_ok, schema
    elif metaschema_ok and "minimum" not in json.dumps(schema):
        assert not _uses_only_plain_keywords(schema), schema  # the shortcut covers every valid plain schema


def _uses_only_plain_keywords(schema) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    allowed = {"type", "properties", "required", "additionalProperties", "items", "enum", "description", "title"}
    if not set(schema) <= allowed | {"default"}:
        return False
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if any(k not in ("string", "integer", "number", "boolean", "null", "array", "object") for k in kinds):
        return False
    children = list(schema.get("properties", {}).values()) if isinstance(schema.get("properties"), dict) else []
    children += [schema[k] for k in ("items", "additionalProperties") if k in schema]
    return all(_uses_only_plain_keywords(c) for c in children)


def test_bundled_tools_take_the_shortcut(mac_tools, bfcl_tools):
    for spec in [*mac_tools.specs, *bfcl_tools.specs]:
        assert _plainly_valid(spec.parameters), spec.name
XLAM = {
    "name": "live_giveaways_by_type",
    "description": "Retrieve live giveaways from the GamerPower API based on the specified type.",
    "parameters": {
        "type": {"description": "The type of giveaways to retrieve.", "type": "str", "default": "game"},
        "platforms": {"description": "Platforms.", "type": "List[str]"},
        "limit": {"description": "How many.", "type": "int, optional"},
        "score": {"description": "Minimum score.", "type": "Optional[float]"},
        "filters": {"description": "Extra filters.", "type": "Dict[str, Union[str, int]]"},
        "mode": {"description": "Mode.", "type": "Literal['a', 'b']"},
    },
}


def test_xlam_dialect_reads_python_typing_names():
    spec = tool_from_dict(XLAM)
    props = spec.parameters["properties"]
    assert props["type"] == {"type": "string", "description": "The type of giveaways to retrieve.", "default": "game"}
    assert props["platforms"]["type"] == "array" and props["platforms"]["items"] == {"type": "string"}
    assert props["limit"]["type"] == "integer" and props["score"]["type"] == "number"
    assert props["filters"] == {
        "type": "object",
        "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "description": "Extra filters.",
    }
    assert props["mode"]["enum"] == ["a", "b"]
    # a default, ", optional" or Optional[...] makes a parameter optional
    assert spec.parameters["required"] == ["platforms", "filters", "mode"]
    assert spec.param_names[0] == "type"  # a parameter may be called "type"
    Draft202012Validator.check_schema(spec.parameters)


@pytest.mark.parametrize(
    ("type_name", "words"),
    [("Banana", "unknown type 'Banana'"), ("List[str", "unbalanced brackets"), ("List]str[", "unbalanced"),
     ("x" * 600, "characters long"), ("Optional[str, int]", "Optional takes one type")],
)
def test_xlam_dialect_errors_name_the_parameter(type_name, words):
    raw = {"name": "f", "parameters": {"p": {"type": type_name}}}
    with pytest.raises(ToolSpecError) as caught:
        tool_from_dict(raw)
    assert "function 'f': parameters.p" in str(caught.value) and words in str(caught.value)


def test_gen_validate_reads_xlam_tools(gen, tmp_path):
    tools = tmp_path / "xlam.json"
    tools.write_text(json.dumps([XLAM]))
    plans = tmp_path / "plans.jsonl"
    good = '1. live_giveaways_by_type("game", ["pc"], 3, 4.5, {"region": "eu"}, "a")\n2. join()'
    bad = '1. live_giveaways_by_type("game", "pc", 3, 4.5, {}, "a")\n2. join()'
    plans.write_text(json.dumps({"id": "good", "plan": good}) + "\n" + json.dumps({"id": "bad", "plan": bad}) + "\n")
    result = gen("validate", plans, "--tools", tools)
    verdicts = {v["id"]: v for v in map(json.loads, result.stdout.splitlines())}
    assert verdicts["good"]["valid"] and not verdicts["bad"]["valid"]
    assert verdicts["bad"]["errors"][0]["code"] == "type_mismatch"
