"""The hand-written mac_assistant development set (benchmarks/data/mac_dev.jsonl).

Every item must be a plan the recipe's conventions prescribe: valid against the tools and the recipe's rules
(with the item's own query and "now"), its target_tools and difficulty label matching its plan, every lookup
used, no empty-string contacts or attachments, no step repeated. The set as a whole must keep its size, its
balance between difficulties and its coverage of the 16 functions."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from planforge.plan import Plan, parse_plan
from planforge.recipes.loader import load_recipe
from planforge.validators import validate

pytestmark = pytest.mark.unit

DEV_SET = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "mac_dev.jsonl"
RECIPE = load_recipe("mac_assistant")
TOOLS = RECIPE.tools
LOOKUPS = frozenset({"get_email_address", "get_phone_number"})
DIFFICULTIES = ("single", "parallel", "multi")
REQUIRED_KEYS = {"id", "query", "now", "plan", "target_tools", "difficulty", "recipe"}
OPTIONAL_KEYS = {"tags"}
# Parameters holding addresses, numbers or attachment paths: a list, never with an empty string in it.
LIST_FIELDS = {
    "compose_new_email": ("recipients", "cc", "attachments"),
    "forward_email": ("recipients", "cc", "attachments"),
    "reply_to_email": ("cc", "attachments"),
    "send_sms": ("recipients",),
    "create_calendar_event": ("invitees",),
    "get_zoom_meeting_link": ("meeting_invitees",),
}
ID = re.compile(r"^dev-\d{3}$")
MIN_ITEMS = 150
MIN_PER_DIFFICULTY = 35


def _load() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


ITEMS = _load()


def _plan(item: dict) -> Plan:
    return parse_plan(item["plan"], "llmcompiler", TOOLS.param_order).bind(TOOLS.param_order)


def difficulty(plan: Plan) -> str:
    """single: exactly one call. parallel: at least two lookups with no $K input whose results feed one same
    later step. multi: everything else."""
    calls = plan.calls
    if len(calls) == 1:
        return "single"
    roots = {s.index for s in calls if s.name in LOOKUPS and not s.references}
    if any(len(roots.intersection(step.references)) >= 2 for step in calls):
        return "parallel"
    return "multi"


def first_use_order(plan: Plan) -> list[str]:
    return list(dict.fromkeys(plan.function_names()))


each_item = pytest.mark.parametrize("item", ITEMS, ids=[item["id"] for item in ITEMS])


@each_item
def test_item_fields(item):
    assert REQUIRED_KEYS <= item.keys() <= REQUIRED_KEYS | OPTIONAL_KEYS, sorted(item.keys())
    assert ID.match(item["id"])
    assert item["recipe"] == "mac_assistant"
    assert item["difficulty"] in DIFFICULTIES
    assert isinstance(item["query"], str) and item["query"].strip() == item["query"] != ""
    assert datetime.strptime(item["now"], "%Y-%m-%d %H:%M:%S").year == 2026
    tags = item.get("tags", [])
    assert isinstance(tags, list) and all(isinstance(t, str) and t for t in tags)


@each_item
def test_plan_is_valid(item):
    plan = parse_plan(item["plan"], "llmcompiler", TOOLS.param_order)
    errors = validate(
        plan,
        TOOLS,
        require_join=RECIPE.require_join,
        rules=RECIPE.rule_functions(),
        context={"query": item["query"], "now": item["now"]},
    )
    assert errors == [], [e.message for e in errors]
    assert plan.steps[-1].is_join


@each_item
def test_target_tools_are_the_plans_functions_in_first_use_order(item):
    assert item["target_tools"] == first_use_order(_plan(item))


@each_item
def test_difficulty_label_matches_the_plan(item):
    assert item["difficulty"] == difficulty(_plan(item))


@each_item
def test_every_lookup_is_used_by_a_later_step(item):
    plan = _plan(item)
    for step in plan.calls:
        if step.name in LOOKUPS:
            users = [s.index for s in plan.calls if s.index > step.index and step.index in s.references]
            assert users, f"step {step.index} {step.name}() is never used"


@each_item
def test_contacts_and_attachments_are_lists_without_empty_strings(item):
    for step in _plan(item).calls:
        for parameter in LIST_FIELDS.get(step.name, ()):
            value = step.kwargs[parameter]
            assert isinstance(value, list), f"step {step.index} {parameter} is not a list"
            assert "" not in value, f"step {step.index} {parameter} holds an empty string"


@each_item
def test_no_step_is_repeated(item):
    calls = [(s.name, json.dumps(dict(s.kwargs), sort_keys=True, ensure_ascii=False)) for s in _plan(item).calls]
    assert len(calls) == len(set(calls))


def test_set_size_and_balance():
    assert len(ITEMS) >= MIN_ITEMS
    counts = Counter(item["difficulty"] for item in ITEMS)
    for label in DIFFICULTIES:
        assert counts[label] >= MIN_PER_DIFFICULTY, counts


def test_ids_and_queries_are_unique():
    ids = Counter(item["id"] for item in ITEMS)
    assert [i for i, n in ids.items() if n > 1] == []
    queries = Counter(item["query"].casefold() for item in ITEMS)
    assert [q for q, n in queries.items() if n > 1] == []


def test_every_function_is_covered():
    used = {name for item in ITEMS for name in item["target_tools"]}
    assert set(TOOLS.param_order) - used == set()
    assert len(TOOLS.param_order) == 16
