"""Arbitrary text and JSON through the parser and every check: typed errors only, never an exception."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planforge.validators import PlanError, validate

pytestmark = pytest.mark.slow

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
plan_like_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda n, name, args: f"{n}. {name}({args})",
            st.integers(-1, 7),
            st.sampled_from(["get_email_address", "send_sms", "join", "x.y", "create_calendar_event"]),
            st.text(alphabet="$1234{}[]()\"', =.-NoneTrue", max_size=30),
        ),
        st.sampled_from(["Thought: hmm", "<END_OF_PLAN>", "", "1. join()"]),
    ),
    max_size=8,
).map("\n".join)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | plan_like_text)
def test_arbitrary_text(mac_tools, text):
    for require_join in (False, True):
        errors = validate(text, mac_tools, require_join=require_join)
        assert all(isinstance(e, PlanError) for e in errors)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json(mac_tools, data):
    assert all(isinstance(e, PlanError) for e in validate(data, mac_tools))
    assert all(isinstance(e, PlanError) for e in validate(json.dumps(data, allow_nan=True), mac_tools))


@settings(max_examples=300)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(["send_sms", "get_phone_number", "join", "nope"]),
                "arguments": json_values | st.text(max_size=30),
            }
        ),
        max_size=5,
    )
)
def test_arbitrary_calls(mac_tools, calls):
    assert all(isinstance(e, PlanError) for e in validate(calls, mac_tools))


def test_pathological_inputs_end_quickly(mac_tools):
    for text in (
        "1. f(" + "[" * 100_000 + ")",
        "1. f(" + "(" * 3000 + ")" * 3000 + ")",
        "x" * 70_000,
        "1. send_sms(" + "1" * 50_000 + ")",
    ):
        errors = validate(text, mac_tools)
        assert errors and errors[0].code.value == "syntax"
