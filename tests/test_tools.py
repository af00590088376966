import json

import pytest
from jsonschema import Draft202012Validator

from planforge.tools import ToolSpecError, load_tools, tool_from_dict, tools_from_json


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
