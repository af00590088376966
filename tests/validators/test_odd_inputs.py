"""Odd but loadable tool sets and odd values: verdicts, and the same answers as the references (times: benchmarks)."""

import itertools
import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema._utils import equal

from planforge.plan import BEYOND_ANY_STEP, MAX_STEP_DIGITS
from planforge.tools import tools_from_json
from planforge.validators import validate
from planforge.validators.references import find_cycle
from planforge.validators.schema_check import MAX_EXPLAINED_PER_ARGUMENT, MAX_EXPLAINED_PER_CALL, all_unique
from tests.support.adversarial import (
    ADVERSARIAL_CALLS,
    SIZES,
    forward_reference_chain,
    long_wrong_points,
    unsortable_unique_tags,
)

ODD = tools_from_json(
    [
        {
            "name": "f",
            "parameters": {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "uniqueItems": True},
                    "n": {"type": "number", "multipleOf": 0.5},
                    "shape": {"$ref": "#/$defs/shape"},
                },
                "patternProperties": {"^x-": {"type": "integer"}},
                "dependentRequired": {"n": ["tags"]},
                "$defs": {"shape": {"type": "object", "properties": {"sides": {"type": "integer"}}}},
            },
        }
    ]
)


def codes(errors):
    return [e.code.value for e in errors]


@pytest.mark.timeout(60)  # jsonschema's pairwise check took minutes; the time is benchmarks/adversarial_parse.py's
def test_unique_items_on_many_unsortable_items():
    errors = validate([{"name": "f", "arguments": {"tags": unsortable_unique_tags()}}], ODD)
    assert errors == []
    duplicated = [{"name": "f", "arguments": {"tags": [{"a": [1]}, {"a": [1.0]}]}}]
    assert codes(validate(duplicated, ODD)) == ["type_mismatch"]
    assert "has non-unique elements" in validate(duplicated, ODD)[0].message


json_values = st.recursive(
    st.none() | st.booleans() | st.sampled_from([0, 1, 1.0, 2, -0.0, 0.5]) | st.sampled_from(["", "a", "1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2),
    max_leaves=6,
)


@pytest.mark.slow
@settings(max_examples=1000)
@given(st.lists(json_values, max_size=5))
def test_all_unique_equals_pairwise_json_equality(items):
    assert all_unique(items) == (not any(equal(a, b) for a, b in itertools.combinations(items, 2)))


@pytest.mark.slow
@settings(max_examples=500)
@given(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 7)), max_size=14))
def test_find_cycle_agrees_with_networkx(edges):
    edges = [(a, b) for a, b in edges if a != b]
    cycle = find_cycle(edges)
    assert (cycle is None) == nx.is_directed_acyclic_graph(nx.DiGraph(edges))
    if cycle is not None:
        loop = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
        assert all(edge in edges for edge in loop)


@pytest.mark.timeout(60)
def test_thousands_of_steps_in_one_cycle_are_one_cycle_verdict(mac_tools):
    errors = validate(forward_reference_chain(3000), mac_tools)
    assert codes(errors).count("cycle") == 1


def test_pattern_properties_and_rules_on_the_arguments_together():
    assert validate([{"name": "f", "arguments": {"x-count": 3, "tags": []}}], ODD) == []
    errors = validate([{"name": "f", "arguments": {"x-count": "3", "y": 1}}], ODD)
    assert sorted(codes(errors)) == ["type_mismatch", "unexpected_argument"]
    assert "got unexpected argument 'y'" in " ".join(e.message for e in errors)
    errors = validate([{"name": "f", "arguments": {"n": 1.5}}], ODD)
    assert [e.message for e in errors] == ["step 1: f() arguments: 'tags' is a dependency of 'n'"]


def test_huge_numbers_and_references_are_verdicts(mac_tools):
    errors = validate([{"name": "f", "arguments": {"n": 1e308, "tags": []}}], ODD)
    assert codes(errors) == []  # 1e308 / 0.5 overflows to inf inside jsonschema, which it handles
    text = '1. get_email_address("$' + "9" * 5000 + '")'
    errors = validate(text, mac_tools)
    assert codes(errors) == ["bad_reference"]
    assert f"over {MAX_STEP_DIGITS} digits" in errors[0].message and len(errors[0].message) < 200
    assert BEYOND_ANY_STEP > 10 ** (MAX_STEP_DIGITS - 1)


def test_importing_the_validators_loads_neither_jsonschema_nor_networkx():
    code = (
        "import sys, planforge.validators, planforge.plan_files; "
        "print(sorted(m for m in ('jsonschema', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.timeout(60)
def test_a_long_wrong_array_is_explained_briefly(bfcl_tools):
    errors = validate([{"name": "plot_points", "arguments": {"points": long_wrong_points()}}], bfcl_tools)
    assert codes(errors) == ["type_mismatch"] * MAX_EXPLAINED_PER_ARGUMENT
    many = [{"name": "f", "arguments": {"n": "x", "tags": [], "shape": {"sides": "y"}}}]
    assert 0 < len(validate(many, ODD)) <= MAX_EXPLAINED_PER_CALL


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL_CALLS))
def test_adversarial_calls_are_verdicts(mac_tools, name):
    for size in SIZES:
        errors = validate(ADVERSARIAL_CALLS[name](size), mac_tools)
        assert all(e.code.value in {"syntax", "unexpected_argument", "bad_reference", "type_mismatch"} for e in errors)
