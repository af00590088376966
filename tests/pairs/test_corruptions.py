"""Corruptions: every kind really produces a wrong plan (fails validation with the recipe's rules, or is not
equivalent to the original), over hundreds of generated examples and random seeds."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planforge.dataset.rows import row_plan, row_tools
from planforge.pairs.corruptions import (
    KINDS,
    STRUCTURAL,
    CorruptionError,
    adapt_arguments,
    corrupt,
    hallucinated_names,
    insert_step,
    remove_step,
    with_join,
)
from planforge.plan import parse_plan
from planforge.recipes.loader import load_recipe
from planforge.validators import judge, plans_equivalent, validate

RULES = tuple(load_recipe("mac_assistant").rule_functions())


def _case(row):
    tools = row_tools(row)
    plan = with_join(row_plan(row).bind(tools.param_order))
    return plan, tools, {"query": row["query"], "now": row["meta"]["now"]}


def _assert_really_wrong(found, plan, tools, context):
    errors = validate(found.plan, tools, require_join=True, rules=RULES, context=context)
    equivalent = plans_equivalent(found.plan, plan)
    assert errors or not equivalent, (found.kind, found.description)
    assert bool(errors) == (not found.valid)
    assert equivalent == found.equivalent


def test_every_kind_is_wrong_on_every_generated_example(many_plans):
    applied = Counter()
    for n, row in enumerate(many_plans):
        plan, tools, context = _case(row)
        assert not validate(plan, tools, require_join=True, rules=RULES, context=context)  # the chosen plan is valid
        calls = len(plan.calls)
        for kind in KINDS:
            found = corrupt(plan, tools, kind, random.Random(n), rules=RULES, context=context)
            if found is None:
                # Only these kinds may not apply, and only for these reasons.
                assert kind in ("missing_step", "missing_lookup", "swapped_arguments"), (kind, row["plan_text"])
                if kind == "missing_step":
                    assert calls < 2
                if kind == "missing_lookup":  # no step whose result is used has a literal key to use instead
                    used = {k for s in plan.steps for k in (s.references or ())}
                    assert not any(
                        isinstance(v, str) and v and "$" not in v
                        for s in plan.calls
                        if s.index in used
                        for v in s.kwargs.values()
                    )
                continue
            applied[kind] += 1
            assert found.kind == kind and found.description
            _assert_really_wrong(found, plan, tools, context)
            if kind in STRUCTURAL:
                assert not found.equivalent  # a different multiset of calls
            if kind == "hallucinated_function":
                assert {e.code.value for e in found.errors} >= {"unknown_function"}
    total = len(many_plans)
    for kind in ("wrong_function", "hallucinated_function", "extra_step", "broken_dependency", "type_error"):
        assert applied[kind] == total, kind
    assert applied["missing_step"] > total * 0.5
    assert applied["missing_lookup"] > total * 0.3
    assert applied["swapped_arguments"] > total * 0.7


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=10**6), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32))
def test_random_example_kind_and_seed_give_a_wrong_plan(many_plans, index, kind, seed):
    plan, tools, context = _case(many_plans[index % len(many_plans)])
    found = corrupt(plan, tools, kind, random.Random(seed), rules=RULES, context=context)
    if found is not None:
        _assert_really_wrong(found, plan, tools, context)


def test_corruption_is_deterministic_for_a_seed(many_plans):
    plan, tools, context = _case(many_plans[3])
    for kind in KINDS:
        a = corrupt(plan, tools, kind, random.Random(5), rules=RULES, context=context)
        b = corrupt(plan, tools, kind, random.Random(5), rules=RULES, context=context)
        assert (a is None and b is None) or (a.plan == b.plan and a.description == b.description)


def _plan(text, tools):
    return with_join(parse_plan(text, param_order=tools.param_order).bind(tools.param_order))


ZOOM = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)
CONTEXT = {"query": "Set up a zoom call about the Apple sync with Sid tomorrow at 3pm", "now": "2026-11-21 09:00:00"}


def test_missing_lookup_uses_the_key_and_renumbers(mac_tools):
    plan = _plan(ZOOM, mac_tools)
    found = corrupt(plan, mac_tools, "missing_lookup", random.Random(0), rules=RULES, context=CONTEXT)
    assert [s.name for s in found.plan.calls] == ["get_zoom_meeting_link", "create_calendar_event"]
    zoom, event = found.plan.calls
    assert zoom.kwargs["meeting_invitees"] == ["Sid"]
    assert event.kwargs["location"] == "$1" and event.kwargs["invitees"] == ["Sid"]  # $2 -> $1 after removal
    assert "look it up" in " ".join(e.message for e in found.errors)


def test_plan_surgery_renumbers_references(mac_tools):
    plan = _plan(ZOOM, mac_tools)
    removed = remove_step(plan, 1, "sid@example.com")
    assert removed.steps[0].kwargs["meeting_invitees"] == ["sid@example.com"]
    assert removed.steps[1].kwargs["location"] == "$1"
    inserted = insert_step(plan, 2, "get_phone_number", {"name": "Sid"})
    assert [s.name for s in inserted.steps][:3] == ["get_email_address", "get_phone_number", "get_zoom_meeting_link"]
    assert inserted.steps[3].kwargs["location"] == "$3" and inserted.steps[3].kwargs["invitees"] == ["$1"]
    assert inserted.steps[-1].name == "join" and inserted.steps[-1].index == 5


def test_swapped_arguments_skips_harmless_swaps(mac_tools):
    # The two lists of forward_email (recipients, cc) swapped would be valid and equivalent: never returned.
    plan = _plan('1. get_email_address("Ana")\n2. forward_email(["$1"], [], "fyi", [])', mac_tools)
    for seed in range(20):
        found = corrupt(
            plan,
            mac_tools,
            "swapped_arguments",
            random.Random(seed),
            rules=RULES,
            context={"query": "forward this to Ana", "now": "2026-01-01 00:00:00"},
        )
        assert found is not None and found.errors


def test_helpers(mac_tools):
    assert "fetch_email_address" in hallucinated_names("get_email_address", list(mac_tools))
    assert all(n not in mac_tools for n in hallucinated_names("get_email_address", list(mac_tools)))
    carried = adapt_arguments({"name": "Sid"}, mac_tools["get_phone_number"].parameters)
    assert carried == {"name": "Sid"}
    reminder = adapt_arguments({"x": "Sid"}, mac_tools["create_reminder"].parameters)
    assert reminder["name"] == "Sid" and reminder["priority"] == 0 and reminder["all_day"] is False
    with pytest.raises(ValueError, match="unknown corruption kind"):
        corrupt(_plan(ZOOM, mac_tools), mac_tools, "nonsense", random.Random(0))


def test_a_structural_kind_that_comes_out_equivalent_is_a_bug(mac_tools, monkeypatch):
    import planforge.pairs.corruptions as c

    plan = _plan(ZOOM, mac_tools)
    monkeypatch.setitem(c.GENERATORS, "extra_step", lambda p, t, r: iter([(p, "nothing changed")]))
    with pytest.raises(CorruptionError, match="valid and equivalent"):
        corrupt(plan, mac_tools, "extra_step", random.Random(0), rules=RULES, context=CONTEXT)
    assert judge(plan, mac_tools, reference=plan, rules=RULES, context=CONTEXT).wrong is False
