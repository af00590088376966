"""The GRPO reward on hand-made completions: each part, the weighted sum, exact values."""

from __future__ import annotations

import pytest

from planforge.plan import parse_plan
from planforge.recipes.loader import recipe_key_arguments, recipe_rules
from planforge.trainers.rewards import PARTS, PlanRewards, RewardTarget, RewardWeights, plan_reward, reward_parts
from planforge.validators import KeyArguments

NOW = "2026-11-21 09:00:00"
QUERY = "Set up a zoom call about the Apple sync with Sid tomorrow at 3pm and put it in my calendar"
REFERENCE = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)


@pytest.fixture()
def target(mac_tools) -> RewardTarget:
    return RewardTarget(
        reference=parse_plan(REFERENCE, param_order=mac_tools.param_order).bind(mac_tools.param_order),
        tools=mac_tools,
        rules=recipe_rules("mac_assistant"),
        context={"query": QUERY, "now": NOW},
        key_arguments=KeyArguments.of(recipe_key_arguments("mac_assistant")),
    )


def test_the_reference_earns_every_part(target):
    assert reward_parts(REFERENCE, target) == dict.fromkeys(PARTS, 1.0)
    assert plan_reward(REFERENCE, target) == 2.75
    # what the model writes after its plan is cut, as at evaluation
    assert plan_reward(REFERENCE + '\n5. create_note("x", "y", "")\nand more', target) == 2.75


def test_wrong_person_on_the_wrong_day_loses_only_the_argument_share(target):
    wrong = REFERENCE.replace('"Sid"', '"Maya"').replace("2026-11-22", "2026-11-23")
    # 12 arguments compared (normalized free text), 4 wrong: the name, the zoom start, the event start and end
    assert reward_parts(wrong, target) == {"parses": 1.0, "valid": 1.0, "isomorphic": 1.0, "arguments": 8 / 12}
    assert plan_reward(wrong, target) == pytest.approx(0.25 + 0.5 + 1 + 8 / 12)


def test_wired_wrongly_earns_at_most_parse_and_validity(target):
    rewired = REFERENCE.replace('"$2", ["$1"], "", None', '"", ["$1"], "", None')
    assert reward_parts(rewired, target) == {"parses": 1.0, "valid": 0.0, "isomorphic": 0.0, "arguments": 0.0}
    # the zoom link reaches no event or email: the recipe's zoom_link_delivered rule fails it
    linked = '1. get_email_address("Sid")\n2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    linked += '3. compose_new_email(["$1"], [], "Apple sync", "$2", [])\n4. join()'
    assert reward_parts(linked, target) == {"parses": 1.0, "valid": 1.0, "isomorphic": 0.0, "arguments": 0.0}
    assert plan_reward(linked, target) == 0.75


def test_isomorphic_but_invalid_keeps_the_graph_and_most_arguments(target):
    spoken = REFERENCE.replace('"Apple sync", "2026-11-22 15:00:00", 60', '"Apple sync", "tomorrow at 3pm", 60')
    parts = reward_parts(spoken, target)  # not a YYYY-MM-DD HH:MM:SS date: the iso_dates rule
    assert parts == {"parses": 1.0, "valid": 0.0, "isomorphic": 1.0, "arguments": 11 / 12}
    assert plan_reward(spoken, target) == pytest.approx(0.25 + 1 + 11 / 12)


def test_unreadable_and_empty_completions_earn_nothing(target):
    for text in ("nonsense", "", "1. get_email_address(", "```\n```"):
        assert plan_reward(text, target) == 0.0, text


def test_weights_are_the_sum_they_say(target):
    wrong = REFERENCE.replace('"Sid"', '"Maya"')  # 11 of 12 arguments agree
    weights = RewardWeights(parses=0.0, valid=2.0, isomorphic=0.0, arguments=4.0)
    assert plan_reward(wrong, target, weights) == pytest.approx(2.0 + 4 * 11 / 12)
    assert weights.as_list() == [0.0, 2.0, 0.0, 4.0]
    assert RewardWeights().to_dict() == {"parses": 0.25, "valid": 0.5, "isomorphic": 1.0, "arguments": 1.0}


def test_a_no_call_example_rewards_the_empty_plan(mac_tools):
    no_call = RewardTarget(reference=parse_plan(""), tools=mac_tools, context={"query": "thanks!", "now": NOW})
    assert plan_reward("1. join()", no_call) == 2.75
    called = '1. create_note("thanks", "", "")\n2. join()'
    # a call where no function serves the request is an unexpected_call: it reads as a plan, and earns nothing else
    assert reward_parts(called, no_call) == {"parses": 1.0, "valid": 0.0, "isomorphic": 0.0, "arguments": 0.0}


def test_trl_reward_functions_name_the_parts_and_judge_each_completion_once(target, monkeypatch):
    import planforge.trainers.rewards as rewards

    rewarder = PlanRewards({"ex-1": target})
    functions = rewarder.functions()
    assert [f.__name__ for f in functions] == list(PARTS)
    calls = []
    real = rewards.reward_parts
    monkeypatch.setattr(rewards, "reward_parts", lambda c, t: calls.append(c) or real(c, t))
    wrong = REFERENCE.replace('"Sid"', '"Maya"')
    completions = [REFERENCE, [{"role": "assistant", "content": wrong}], "nonsense"]
    ids = ["ex-1"] * 3
    got = [f(prompts=["p"] * 3, completions=completions, id=ids, trainer_state=None) for f in functions]
    assert got == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [1.0, 11 / 12, 0.0]]
    assert len(calls) == 3
