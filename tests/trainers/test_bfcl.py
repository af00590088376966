"""BFCL scoring: the checker's rules on hand-made cases (BFCL's exact verdicts), the summary formula, and the gold
answers of the shipped data scoring 100% in every category (bfcl-eval's data; skipped when it is not installed)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from importlib import metadata

import pytest

from planforge.errors import DatasetError, InputError, PlanSyntaxError
from planforge.prompting import prompt_messages
from planforge.tools import tools_from_json
from planforge.trainers.bfcl import (
    BFCL_EVAL_VERSION,
    CATEGORIES,
    BFCLItem,
    Call,
    bfcl_data_dir,
    bfcl_prompt,
    bfcl_summary,
    check,
    gold_predictions,
    load_bfcl,
    parse_prediction,
    score_bfcl,
    standardize_string,
)

pytestmark = pytest.mark.unit

# --------------------------------------------------------------------------------------------------
# hand-made items

WEATHER = {
    "name": "weather.get",
    "description": "Current weather.",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string", "description": "City, State"},
            "days": {"type": "integer"},
            "scale": {"type": "float"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "detailed": {"type": "boolean"},
        },
        "required": ["city"],
    },
}
ROUTE = {
    "name": "route.plan",
    "description": "Plan a route.",
    "parameters": {
        "type": "dict",
        "properties": {
            "stops": {"type": "array", "items": {"type": "string"}},
            "weights": {"type": "array", "items": {"type": "float"}},
            "point": {"type": "tuple", "items": {"type": "integer"}},
            "options": {"type": "dict", "properties": {"mode": {"type": "string"}, "tolls": {"type": "boolean"}}},
            "legs": {"type": "array", "items": {"type": "dict"}},
            "extra": {"type": "any"},
        },
        "required": ["stops"],
    },
}
COUNT = {
    "name": "count",
    "description": "Count things.",
    "parameters": {
        "type": "dict",
        "properties": {"n": {"type": "integer"}, "step": {"type": "integer"}},
        "required": ["n"],
    },
}


def make_item(category, functions, ground_truth=None, messages=None):
    messages = messages or ({"role": "user", "content": "Do it."},)
    return BFCLItem("t_0", category, tuple(messages), tuple(functions), tools_from_json(functions), ground_truth)


def weather(category="simple_python", **answer):
    answer = answer or {"city": ["New York, NY"], "days": [3, ""], "unit": ["", "celsius"]}
    return make_item(category, [WEATHER], ({"weather.get": answer},))


def route(**answer):
    return make_item("simple_python", [ROUTE], ({"route.plan": answer},))


def verdict(item, name, **arguments):
    return check(item, [Call(name, arguments)])


# --------------------------------------------------------------------------------------------------
# one call


def test_function_name_must_match():
    item = weather()
    assert verdict(item, "weather.get", city="New York, NY") == (True, "")
    ok, reason = verdict(item, "weather_get", city="New York, NY")
    assert not ok and "expected 'weather.get'" in reason


def test_strings_compare_after_bfcl_normalization():
    item = weather()
    assert verdict(item, "weather.get", city="new york ny")[0]
    assert verdict(item, "weather.get", city="NEW-YORK/NY.")[0]
    assert not verdict(item, "weather.get", city="New York City, NY")[0]
    assert standardize_string("It's 5 p.m.") == 'it"s5pm'


def test_required_parameter_missing_fails():
    ok, reason = verdict(weather(), "weather.get", days=3)
    assert not ok and reason == "weather.get: missing required parameter 'city'"


def test_required_parameter_fails_even_where_ground_truth_allows_omission():
    item = weather(city=["Paris", ""])
    assert not verdict(item, "weather.get")[0]


def test_optional_parameter_may_be_left_out_only_where_empty_string_is_allowed():
    assert verdict(weather(), "weather.get", city="New York, NY")[0]  # days and unit allow ""
    item = weather(city=["Paris"], days=[3])
    ok, reason = verdict(item, "weather.get", city="Paris")
    assert not ok and "'days' left out" in reason


def test_unexpected_parameters_fail():
    item = weather()
    ok, reason = verdict(item, "weather.get", city="New York, NY", country="US")  # not in the doc
    assert not ok and "unexpected parameter 'country'" in reason
    ok, reason = verdict(item, "weather.get", city="New York, NY", detailed=True)  # in the doc, not in the answer
    assert not ok and "unexpected parameter 'detailed'" in reason


def test_wrong_value_fails_and_given_optional_is_checked():
    item = weather()
    assert verdict(item, "weather.get", city="New York, NY", days=3, unit="celsius")[0]
    assert not verdict(item, "weather.get", city="New York, NY", days=4)[0]
    assert not verdict(item, "weather.get", city="New York, NY", unit="fahrenheit")[0]


def test_int_is_accepted_as_float_but_not_float_as_int():
    item = weather(city=["Paris"], scale=[2.0], days=[3, ""])
    assert verdict(item, "weather.get", city="Paris", scale=2)[0]
    assert verdict(item, "weather.get", city="Paris", scale=2.0)[0]
    assert not verdict(item, "weather.get", city="Paris", scale=2.5)[0]
    ok, reason = verdict(item, "weather.get", city="Paris", scale=2.0, days=3.0)
    assert not ok and "is not of type integer" in reason


def test_types_compare_exactly():
    item = weather(city=["Paris"], days=[1, ""], detailed=[True, ""])
    assert not verdict(item, "weather.get", city="Paris", days=True)[0]  # a bool is no int
    assert not verdict(item, "weather.get", city="Paris", detailed=1)[0]  # nor an int a bool
    assert not verdict(item, "weather.get", city="Paris", days="1")[0]
    assert not verdict(item, "weather.get", city=["Paris"])[0]


def test_any_is_a_string_unless_the_answer_has_another_type():
    assert verdict(route(stops=[["a"]], extra=["Some Text"]), "route.plan", stops=["a"], extra="some text")[0]
    assert not verdict(route(stops=[["a"]], extra=["1"]), "route.plan", stops=["a"], extra=1)[0]
    assert verdict(route(stops=[["a"]], extra=[1]), "route.plan", stops=["a"], extra=1)[0]


def test_answer_of_another_type_than_the_doc_is_compared_as_is():
    # BFCL's "variable" answers: the ground truth's type wins and no normalization applies.
    item = weather(city=["Paris"], days=["three"])
    assert verdict(item, "weather.get", city="Paris", days="three")[0]
    assert not verdict(item, "weather.get", city="Paris", days="Three")[0]
    assert not verdict(item, "weather.get", city="Paris", days=3)[0]


def test_tuple_is_accepted_for_tuple_not_for_array():
    item = route(stops=[["a", "b"]], point=[[1, 2]])
    assert check(item, [Call("route.plan", {"stops": ["a", "b"], "point": (1, 2)})])[0]
    assert check(item, [Call("route.plan", {"stops": ["a", "b"], "point": [1, 2]})])[0]
    assert not check(item, [Call("route.plan", {"stops": ("a", "b")})])[0]


def test_lists_compare_in_order_with_their_strings_normalized():
    item = route(stops=[["San Francisco", "Los Angeles"]])
    assert verdict(item, "route.plan", stops=["san francisco", "LOS ANGELES"])[0]
    assert not verdict(item, "route.plan", stops=["Los Angeles", "San Francisco"])[0]
    assert not verdict(item, "route.plan", stops=["San Francisco"])[0]


def test_list_items_are_type_checked_one_level_down():
    item = route(stops=[["a"]], weights=[[1.0, 2.5]])
    assert verdict(item, "route.plan", stops=["a"], weights=[1.0, 2.5])[0]
    ok, reason = verdict(item, "route.plan", stops=["a"], weights=[1, 2.5])  # no int-for-float inside a list
    assert not ok and "is not of type array" in reason
    assert not verdict(item, "route.plan", stops=[1])[0]


def test_empty_list_passes_an_optional_list_as_in_bfcl():
    item = route(stops=[["a"]], weights=[[1.0], ""])
    assert verdict(item, "route.plan", stops=["a"], weights=[])[0]
    assert not verdict(route(stops=[["a"]], weights=[[1.0]]), "route.plan", stops=["a"], weights=[])[0]


def test_dicts_compare_key_by_key():
    item = route(stops=[["a"]], options=[{"mode": ["Fast Route"], "tolls": [False, ""]}])
    assert verdict(item, "route.plan", stops=["a"], options={"mode": "fast route", "tolls": False})[0]
    assert verdict(item, "route.plan", stops=["a"], options={"mode": "fast-route"})[0]  # tolls may be left out
    assert not verdict(item, "route.plan", stops=["a"], options={"tolls": False})[0]  # mode may not
    assert not verdict(item, "route.plan", stops=["a"], options={"mode": "fast route", "ferry": True})[0]
    assert not verdict(item, "route.plan", stops=["a"], options={"mode": "slow route"})[0]


def test_dict_passes_if_it_fits_any_allowed_dict():
    item = route(stops=[["a"]], options=[{"mode": ["fast"]}, {"mode": ["slow"], "tolls": [True]}])
    assert verdict(item, "route.plan", stops=["a"], options={"mode": "slow", "tolls": True})[0]
    assert not verdict(item, "route.plan", stops=["a"], options={"mode": "slow"})[0]


def test_lists_of_dicts_compare_dict_by_dict_in_order():
    legs = [{"to": ["Reno"], "km": [350]}, {"to": ["Elko"], "km": [460]}]
    item = route(stops=[["a"]], legs=[legs])
    assert verdict(item, "route.plan", stops=["a"], legs=[{"to": "reno", "km": 350}, {"to": "Elko", "km": 460}])[0]
    assert not verdict(item, "route.plan", stops=["a"], legs=[{"to": "Elko", "km": 460}, {"to": "Reno", "km": 350}])[0]
    assert not verdict(item, "route.plan", stops=["a"], legs=[{"to": "Reno", "km": 350}])[0]


def test_none_counts_as_omitted_where_omission_is_allowed():
    item = weather(city=["Paris"], days=[3, ""], unit=["celsius"], detailed=[None])
    assert verdict(item, "weather.get", city="Paris", days=None, unit="celsius", detailed=None)[0]
    assert not verdict(item, "weather.get", city="Paris", unit=None, detailed=None)[0]  # unit may not be omitted
    assert not verdict(item, "weather.get", city="Paris", unit="celsius")[0]  # detailed must be given, as None
    assert not verdict(item, "weather.get", city=None, unit="celsius", detailed=None)[0]


# --------------------------------------------------------------------------------------------------
# categories


def test_simple_needs_exactly_one_call():
    item = weather()
    call = Call("weather.get", {"city": "New York, NY"})
    assert check(item, [call]) == (True, "")
    assert check(item, []) == (False, "made 0 call(s), expected 1")
    assert check(item, [call, call]) == (False, "made 2 call(s), expected 1")


def test_multiple_chooses_the_right_function_among_several():
    item = make_item("multiple", [COUNT, WEATHER, ROUTE], ({"weather.get": {"city": ["Paris"]}},))
    assert verdict(item, "weather.get", city="Paris")[0]
    assert not verdict(item, "count", n=1)[0]
    assert not check(item, [Call("weather.get", {"city": "Paris"})] * 2)[0]


def parallel_item(category="parallel"):
    truth = (
        {"count": {"n": [1], "step": [""]}},
        {"count": {"n": [2], "step": [""]}},
        {"weather.get": {"city": ["Rome"]}},
    )
    return make_item(category, [COUNT, WEATHER], truth)


def test_parallel_calls_match_in_any_order():
    calls = [Call("weather.get", {"city": "rome"}), Call("count", {"n": 2}), Call("count", {"n": 1})]
    for category in ("parallel", "parallel_multiple", "live_parallel", "live_parallel_multiple"):
        assert check(parallel_item(category), calls) == (True, "")


def test_parallel_each_call_matches_a_distinct_expected_call():
    twice = [Call("count", {"n": 1}), Call("count", {"n": 1}), Call("weather.get", {"city": "Rome"})]
    ok, reason = check(parallel_item(), twice)
    assert not ok and reason.startswith("no call matches expected call 2 (count)")
    assert not check(parallel_item(), twice[:2])[0]


def test_parallel_matching_is_greedy_in_ground_truth_order_as_in_bfcl():
    # Expected call 1 takes the first call that fits it, even when only that call would fit expected call 2.
    item = make_item("parallel", [COUNT], ({"count": {"n": [1], "step": ["", 2]}}, {"count": {"n": [1], "step": [2]}}))
    full, bare = Call("count", {"n": 1, "step": 2}), Call("count", {"n": 1})
    assert not check(item, [full, bare])[0]
    assert check(item, [bare, full])[0]


def test_irrelevance_passes_when_no_call_is_made():
    for category in ("irrelevance", "live_irrelevance"):
        item = make_item(category, [WEATHER])
        assert check(item, []) == (True, "")
        assert not check(item, [Call("weather.get", {"city": "Paris"})])[0]
        scores = score_bfcl([item], {"t_0": "1. join()"})
        assert scores["categories"][category] == {"accuracy": 1.0, "correct": 1, "n": 1}
        assert score_bfcl([item], {"t_0": "Sorry, none of these functions helps."})["items"][0]["ok"]
        assert not score_bfcl([item], {"t_0": '1. weather.get("Paris")\n2. join()'})["items"][0]["ok"]


def test_relevance_passes_when_a_call_is_made():
    item = make_item("live_relevance", [WEATHER])
    assert check(item, [Call("weather.get", {})]) == (True, "")
    assert check(item, []) == (False, "made no call where one was wanted")
    assert not score_bfcl([item], {"t_0": "I cannot help."})["items"][0]["ok"]


# --------------------------------------------------------------------------------------------------
# predictions


def test_parse_prediction_reads_llmcompiler_text_positionally_and_json():
    tools = tools_from_json([WEATHER])
    text = '1. weather.get("Paris", 3)\n2. join()'
    assert parse_prediction(text, tools) == [Call("weather.get", {"city": "Paris", "days": 3})]
    as_json = json.dumps([{"name": "weather.get", "arguments": {"city": "Paris", "days": 3}}])
    assert parse_prediction(as_json, tools) == parse_prediction(text, tools)
    assert parse_prediction("[]", tools) == []
    assert parse_prediction("1. join()", tools) == []
    with pytest.raises(PlanSyntaxError):
        parse_prediction("weather please", tools)


def test_positional_arguments_that_do_not_fit_fail_the_call():
    item = weather()
    calls = parse_prediction('1. weather.get("New York, NY", 3, 1.0, "celsius", True, "extra")', item.tools)
    assert calls[0].unbound
    ok, reason = check(item, calls)
    assert not ok and "positional argument(s) do not fit" in reason


def test_score_bfcl_reports_categories_items_and_failures():
    simple = weather()
    multiple = replace(make_item("multiple", [COUNT, WEATHER], ({"count": {"n": [5]}},)), id="t_1")
    predictions = {"t_0": '1. weather.get("new york, ny")\n2. join()', "t_1": "1. count(5.5)\n2. join()"}
    scores = score_bfcl([simple, multiple], predictions)
    assert scores["categories"] == {
        "simple_python": {"accuracy": 1.0, "correct": 1, "n": 1},
        "multiple": {"accuracy": 0.0, "correct": 0, "n": 1},
    }
    assert scores["overall"] == pytest.approx(0.5)
    assert [r["ok"] for r in scores["items"]] == [True, False]
    assert "is not of type integer" in scores["items"][1]["reason"]
    missing = score_bfcl([simple], {})["items"][0]
    assert missing == {"id": "t_0", "category": "simple_python", "ok": False, "reason": "no prediction", "calls": None}
    unreadable = score_bfcl([simple], {"t_0": "1) weather.get('x')"})["items"][0]
    assert not unreadable["ok"] and unreadable["reason"].startswith("unreadable plan")


def test_summary_follows_bfcl_weighting():
    counts = {
        "simple_python": (40, 40), "multiple": (10, 20), "parallel": (20, 20), "parallel_multiple": (0, 20),
        "live_simple": (90, 100), "live_multiple": (0, 300), "live_parallel": (10, 10), "live_parallel_multiple": (0, 10),
        "irrelevance": (30, 40), "live_irrelevance": (20, 80), "live_relevance": (1, 4),
    }  # fmt: skip
    summary = bfcl_summary(counts)
    assert summary["non_live_ast"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)  # unweighted
    assert summary["live_ast"] == pytest.approx(100 / 420)  # weighted by items
    assert summary["irrelevance"] == pytest.approx((0.75 + 0.25) / 2)
    assert summary["relevance"] == pytest.approx(0.25)
    assert summary["overall"] == pytest.approx((0.625 + 100 / 420 + 0.5) / 3)  # relevance is not in it
    partial = bfcl_summary({"live_simple": (1, 2)})
    assert partial == {"non_live_ast": None, "live_ast": 0.5, "irrelevance": None, "relevance": None, "overall": 0.5}


def test_prompt_is_planforges_own_and_earlier_turns_become_context():
    item = weather()
    assert bfcl_prompt(item) == prompt_messages("Do it.")
    turns = (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Weather in Paris?"},
    )
    talk = make_item("live_simple", [WEATHER], ({"weather.get": {"city": ["Paris"]}},), turns)
    assert talk.request == "Weather in Paris?"
    assert bfcl_prompt(talk)[1]["content"] == (
        "Conversation so far:\nsystem: Be brief.\nuser: Hi\nassistant: Hello!\n\nRequest: Weather in Paris?"
    )


# --------------------------------------------------------------------------------------------------
# the shipped data

# Items whose ground truth no call can pass, under BFCL's own checker too (benchmarks/bfcl_agreement.py): a required
# parameter missing from the ground truth, or a ground-truth parameter the function doc lacks.
UNPASSABLE = {
    "live_simple_106-63-0": "live_simple",
    "live_simple_112-68-0": "live_simple",
    "live_multiple_862-181-3": "live_multiple",
    "live_multiple_964-207-0": "live_multiple",
}
COUNTS = {
    "simple_python": 400, "multiple": 200, "parallel": 200, "parallel_multiple": 200, "irrelevance": 240,
    "live_simple": 258, "live_multiple": 1053, "live_parallel": 16, "live_parallel_multiple": 24,
    "live_irrelevance": 884, "live_relevance": 16,
}  # fmt: skip


@pytest.fixture(scope="module")
def bfcl_items():
    try:
        bfcl_data_dir()
    except DatasetError:
        pytest.skip(f'bfcl-eval\'s data is not installed: pip install --no-deps "bfcl-eval=={BFCL_EVAL_VERSION}"')
    return load_bfcl()


def test_every_category_loads_with_its_tools_and_ground_truth(bfcl_items):
    counts = {c: sum(1 for i in bfcl_items if i.category == c) for c in CATEGORIES}
    if metadata.version("bfcl-eval") == BFCL_EVAL_VERSION:
        assert counts == COUNTS
    assert all(n > 0 for n in counts.values())
    for item in bfcl_items:
        assert item.request and len(item.tools) == len(item.functions)
        assert (item.ground_truth is None) == (item.category in ("irrelevance", "live_irrelevance", "live_relevance"))


def test_gold_answers_score_100_percent_in_every_category(bfcl_items):
    scores = score_bfcl(bfcl_items, gold_predictions(bfcl_items))
    failed = {r["id"]: r["category"] for r in scores["items"] if not r["ok"]}
    if metadata.version("bfcl-eval") == BFCL_EVAL_VERSION:
        assert failed == UNPASSABLE
    for category, figures in scores["categories"].items():
        unpassable = sum(1 for c in failed.values() if c == category)
        assert figures["correct"] == figures["n"] - unpassable, category


def test_gold_answers_as_positional_text_score_the_same(bfcl_items):
    from planforge.plan import parse_plan
    from planforge.prompting import plan_text

    gold = gold_predictions(bfcl_items)
    as_text = {i.id: plan_text(parse_plan(gold[i.id]), i.tools) for i in bfcl_items}
    assert score_bfcl(bfcl_items, as_text)["items"] == score_bfcl(bfcl_items, gold)["items"]


def test_limit_categories_and_data_dir(bfcl_items, tmp_path):
    few = load_bfcl(["parallel", "live_relevance", "parallel"], limit=3)
    assert [i.category for i in few] == ["parallel"] * 3 + ["live_relevance"] * 3
    source = bfcl_data_dir()
    (tmp_path / "possible_answer").mkdir()
    shutil.copy(source / "BFCL_v4_multiple.json", tmp_path)
    shutil.copy(source / "possible_answer" / "BFCL_v4_multiple.json", tmp_path / "possible_answer")
    copied = load_bfcl(["multiple"], limit=5, data_dir=tmp_path)
    assert [i.id for i in copied] == [i.id for i in bfcl_items if i.category == "multiple"][:5]
    with pytest.raises(DatasetError, match="no such file"):
        load_bfcl(["parallel"], data_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no BFCL_v4"):
        load_bfcl(data_dir=tmp_path / "empty")
    with pytest.raises(InputError, match="unknown BFCL categories"):
        load_bfcl(["simple_java"])
