"""The compiled fast path must answer exactly as jsonschema does."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from planforge.plan import Step
from planforge.tools import tool_from_dict
from planforge.validators.arguments import _type_error
from planforge.validators.schema_check import FunctionChecker, Mismatch, compile_fast

leaf_types = st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"])
type_keyword = leaf_types | st.lists(leaf_types, min_size=1, max_size=3, unique=True)
schemas = st.recursive(
    st.fixed_dictionaries(
        {}, optional={"type": type_keyword, "enum": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, unique=True)}
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": type_keyword,
            "items": inner,
            "properties": st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, max_size=3),
            "required": st.lists(st.sampled_from(["p", "q", "r"]), unique=True, max_size=2),
            "additionalProperties": st.booleans() | inner,
        },
    ),
    max_leaves=6,
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5, -1.5])
    | st.sampled_from(["a", "b", "z", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.slow
@settings(max_examples=1000)
@given(schemas, values)
def test_fast_predicate_equals_jsonschema(schema, value):
    fast = compile_fast(schema)
    assert fast is not None
    assert fast(value) == Draft202012Validator(schema).is_valid(value), (schema, value)


@pytest.mark.slow
@settings(max_examples=1000)
@given(type_keyword, values)
def test_type_only_mismatches_are_worded_as_jsonschema_words_them(kind, value):
    schema = {"type": kind, "description": "annotations do not count"}
    reference = list(Draft202012Validator(schema).iter_errors(value))
    if not reference:
        return
    checker = FunctionChecker(tool_from_dict({"name": "f", "parameters": {"properties": {"x": schema}}}))
    step = Step(1, "f", (), {"x": value})
    shortcut = [_type_error(m, step, "f()").message for m in checker._explain("x", value)]
    assert shortcut == [_type_error(Mismatch.of(e, prefix=("x",)), step, "f()").message for e in reference]
