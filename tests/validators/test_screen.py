"""The screen (the fast yes/no pass) must never pass a plan the full checks refuse, and must pass the plain
valid plans it exists for."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planforge.plan import PlanSyntaxError, _parse_lines, format_value, parse_arguments, parse_text, plain_step_lines
from planforge.tools import tools_from_json
from planforge.validators import ErrorCode, validate
from planforge.validators.pipeline import check_plan
from planforge.validators.screen import screen_for
from tests.conftest import DATA
from tests.validators.test_checks import REF_TOOLS

pytestmark = pytest.mark.slow

BFCL = tools_from_json(json.loads((DATA / "bfcl_functions.json").read_text()))
MAC = tools_from_json(json.loads((DATA.parents[1] / "planforge/recipes/mac_assistant/tools.json").read_text()))
TOOL_SETS = {"mac": MAC, "bfcl": BFCL, "refs": REF_TOOLS}

odd_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 70) | st.sampled_from([0.5, 3.0, -1.5]) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "size"]), inner, max_size=2),
    max_leaves=5,
)


def _reference(draw, index: int, wrong: bool) -> str:
    k = draw(st.sampled_from([index - 1, index - 2, 1, 0, index, index + 1] if wrong else range(1, index)))
    return draw(st.sampled_from([f"${k}", f"${{{k}}}", f"see ${k}"]))


def _value(draw, schema: dict, index: int, wrong: bool, ref_odds: int = 6):
    if wrong and draw(st.integers(0, 5)) == 0:
        return draw(odd_values)
    if index > 1 and draw(st.integers(0, ref_odds)) == 0:
        return _reference(draw, index, wrong)
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "array":
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        return [_value(draw, items, index, wrong, ref_odds) for _ in range(draw(st.integers(0, 2)))]
    if kind == "object":
        return {name: _value(draw, sub, index, wrong, ref_odds) for name, sub in schema.get("properties", {}).items()}
    samples = {
        "string": st.sampled_from(["", "Sid", "2026-11-22 15:00:00", 'say "hi"', "a\\b", "None", "é"]),
        "integer": st.integers(-1, 90),
        "number": st.sampled_from([0, 2.5, 1e3, -7]),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return draw(samples.get(kind, odd_values))


@st.composite
def plan_texts(draw, tools, wrong: bool = True, ref_odds: int = 6):
    """LLMCompiler text over ``tools``: canonical when not ``wrong``, otherwise now and then broken in every
    way the checks know (a wrong type, a missing or extra argument, an unknown function, a bad reference,
    join() in the wrong place) and written in every way the parser reads (keywords, bare $K, Python quotes)."""
    names = list(tools)
    lines = []
    count = draw(st.integers(1 if not wrong else 0, 5))
    for index in range(1, count + 1):
        name = draw(st.sampled_from(names))
        if wrong and draw(st.integers(0, 12)) == 0:
            name = draw(st.sampled_from(["join", "not_offered"]))
        spec = tools.get(name)
        props = spec.parameters["properties"] if spec else {}
        params = list(spec.param_names) if spec else []
        values = [_value(draw, props[p], index, wrong, ref_odds) for p in params]
        if wrong:
            roll = draw(st.integers(0, 9))
            if roll == 0 and values:
                values.pop()
            elif roll == 1:
                values.append(draw(odd_values))
        optional = [spec is not None and p not in spec.required for p in params]
        while len(values) <= len(params) and values and values[-1] is None and optional[len(values) - 1]:
            values.pop()  # trailing optional arguments left out, as planners do
        style = draw(st.sampled_from(["positional", "positional", "keywords", "python"])) if wrong else "positional"
        if style == "keywords":
            parts = [f"{p}={format_value(v)}" for p, v in zip(params, values, strict=False)]
        elif style == "python":
            parts = [repr(v) for v in values]
        else:
            parts = [format_value(v) for v in values]
        if wrong and parts and draw(st.integers(0, 8)) == 0:
            parts[0] = f"${draw(st.integers(0, index + 1))}"  # a bare reference
        number = index if not wrong or draw(st.integers(0, 30)) else index + 1
        space = draw(st.sampled_from(["", " ", "\t"])) if wrong else ""
        lines.append(f"{space}{number}.{space or ' '}{name}({', '.join(parts)}){space}")
    if count and (not wrong or draw(st.booleans())):
        lines.append(f"{count + 1}. join()")
    if wrong and lines and draw(st.integers(0, 4)) == 0:
        lines.insert(draw(st.integers(0, len(lines) - 1)), "Thought: look it up")
    text = "\n".join(lines)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["<END_OF_PLAN>", "\n<END_OF_PLAN>", "\n", "\n\n"]))
    return text


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(sorted(TOOL_SETS)), st.data(), st.booleans())
def test_the_screen_never_passes_a_plan_the_full_checks_refuse(tool_set, data, require_join):
    tools = TOOL_SETS[tool_set]
    text = data.draw(plan_texts(tools))
    if screen_for(tools)(text, require_join):
        assert check_plan(text, tools, require_join=require_join) == [], text
    assert validate(text, tools, require_join=require_join) == check_plan(text, tools, require_join=require_join)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_screen_checks_what_references_produce(data):
    text = data.draw(plan_texts(REF_TOOLS, wrong=data.draw(st.booleans()), ref_odds=1))
    if screen_for(REF_TOOLS)(text, False):
        assert check_plan(text, REF_TOOLS) == [], text


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TOOL_SETS)), st.data())
def test_the_screen_passes_canonical_valid_plans(tool_set, data):
    tools = TOOL_SETS[tool_set]
    text = data.draw(plan_texts(tools, wrong=False))
    if check_plan(text, tools, require_join=True) == []:
        assert screen_for(tools)(text, True), text


def _read(reader, *args):
    try:
        plan = reader(*args)
    except PlanSyntaxError as exc:
        return str(exc), exc.step
    return plan, [s.references for s in plan.steps]


plan_like = st.text(alphabet="1. f()\n\t\r<END_OF_PLAN>$\"',x", max_size=40)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_parse_text_reads_as_the_line_by_line_reader(data, bound):
    """The one-pass split is only a shortcut: same steps, references and errors as reading line by line."""
    text = data.draw(plan_texts(MAC) | plan_like)
    order = MAC.param_order if bound else None
    assert _read(parse_text, text, order) == _read(_parse_lines, text, order)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_plain_step_lines_split_as_the_parser_reads(data):
    text = data.draw(plan_texts(MAC) | plan_like)
    lines = plain_step_lines(text)
    if lines is None or [int(number) for number, *_ in lines] != list(range(1, len(lines) + 1)):
        return  # the screen judges numbering itself
    try:
        plan = _parse_lines(text, None)
    except PlanSyntaxError as exc:  # then the arguments of that step cannot be read either
        with pytest.raises(PlanSyntaxError):
            parse_arguments(lines[exc.step - 1][2], exc.step)
        return
    assert [s.name for s in plan.steps] == [name for _, name, _, _ in lines]
    assert plan.end_of_plan == any(marker for *_, marker in lines)
    for step, (_, _, src, _) in zip(plan.steps, lines, strict=True):
        assert parse_arguments(src, step.index) == (step.args, dict(step.kwargs))


scalar_kinds = st.sampled_from(["string", "integer", "number", "boolean", "null"])
simple_schemas = st.one_of(
    st.builds(lambda k: {"type": k}, scalar_kinds | st.lists(scalar_kinds, min_size=1, max_size=3, unique=True)),
    st.builds(
        lambda e: {"type": "string", "enum": e},
        st.lists(st.sampled_from(["a", "b c", "$1", "é"]), min_size=1, unique=True),
    ),
    st.builds(lambda k: {"type": "array", "items": {"type": k}}, scalar_kinds),
    st.just({"type": "array", "items": {"enum": ["x", "y"]}}),
    st.just({"type": "array"}),  # not simple: no pattern
)
literals = st.sampled_from(
    ['"a"', '"b c"', '"x"', '"$1"', '"${1}"', "$1", "$2", '"see $1"', '"$9"', "1", "-0", "01", "2.5", "1e3", "1e999",
     "True", "None", "null", '"é"', '"a\\\\nb"', '"\\u00249"', '"a\\/b"', "'a'", '["x", "$1"]', '["a", 1]', "[]",
     "[$1]", '["x",]', '"\t"', "1.0", "9" * 20, "-1", '"y"']
)  # fmt: skip


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(simple_schemas, min_size=1, max_size=3),
    st.integers(0, 3),
    st.sampled_from([None, {"type": "string"}, {"type": "integer"}, {"type": "array", "items": {"type": "string"}}]),
    st.data(),
)
def test_a_matching_argument_pattern_is_a_valid_call(schemas, required, returns, data):
    names = [f"p{i}" for i in range(len(schemas))]
    producer = {"name": "make", "parameters": {"properties": {}}}
    if returns is not None:
        producer["returns"] = returns
    tools = tools_from_json(
        [
            producer,
            {
                "name": "f",
                "parameters": {"properties": dict(zip(names, schemas, strict=True)), "required": names[:required]},
            },
        ]
    )
    call = screen_for(tools).calls["f"]
    written = [data.draw(literals) for _ in names[: data.draw(st.integers(0, len(names)))]]
    src = ", ".join(written + data.draw(st.lists(literals, max_size=1)))
    text = f"1. make()\n2. f({src})"
    if call.pattern is not None and call.pattern.fullmatch(src):  # reference ranges are the screen's to check
        assert [e for e in check_plan(text, tools) if e.code is not ErrorCode.BAD_REFERENCE] == [], text
    if screen_for(tools)(text, False):
        assert check_plan(text, tools) == [], text
