"""Metrics on hand-made cases: plan scoring, split summaries, retrieval figures, input checks."""

from __future__ import annotations

import json

import datasets
import pytest

from planforge.dataset.disk import load_dataset_of_kind
from planforge.dataset.features import PLAN_FEATURES, PLANS
from planforge.dataset.rows import row_instructions, row_plan, row_prompt
from planforge.errors import ConfigError, DatasetError, InputError
from planforge.llms.local import ModelSource, drop_gguf_quantizer, resolve_source
from planforge.llms.output import clean_output
from planforge.plan import parse_plan
from planforge.prompting import prompt_messages, with_function_list
from planforge.trainers.evaluate import read_predictions, score_plan, summarize
from planforge.trainers.prompts import PLAN_COLUMNS_SFT
from planforge.trainers.toolrag import calibrate_threshold, prompt_token_savings, retrieval_metrics

from .conftest import make_examples

REFERENCE_TEXT = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)
# The same DAG numbered differently, with other argument values: isomorphic.
ISOMORPHIC = (
    '1. get_email_address("Sidney")\n'
    '2. get_zoom_meeting_link("Sync", "2026-11-23 10:00:00", 30, ["$1"])\n'
    '3. create_calendar_event("Sync", "2026-11-23 10:00:00", "2026-11-23 10:30:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)
# The same functions, but the calendar event does not use the zoom link: not isomorphic.
REWIRED = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "", ["$1"], "", None)\n'
    "4. join()"
)


@pytest.fixture()
def reference(mac_tools):
    return parse_plan(REFERENCE_TEXT, param_order=mac_tools.param_order).bind(mac_tools.param_order)


def test_isomorphic_pair_succeeds(mac_tools, reference):
    score = score_plan(ISOMORPHIC, reference, mac_tools)
    assert score.success and score.valid and score.strict_success
    assert (score.tools_true_positive, score.tools_predicted, score.tools_expected) == (3, 3, 3)


def test_non_isomorphic_pair_fails_but_is_valid(mac_tools, reference):
    score = score_plan(REWIRED, reference, mac_tools)
    assert not score.success and score.valid
    assert score.tools_true_positive == 3  # the right functions, wired wrongly


def test_syntax_error_counts_as_invalid_with_code_syntax(mac_tools, reference):
    score = score_plan("1. get_email_address(Sid\n2. join()", reference, mac_tools)
    assert not score.parsed and not score.valid and not score.success
    assert score.error_codes == ("syntax",)
    assert (score.tools_true_positive, score.tools_expected) == (0, 3)


def test_validator_codes_and_join_requirement(mac_tools, reference):
    text = '1. get_email_address("Sid")\n2. send_telegram("$1")'
    score = score_plan(text, reference, mac_tools)
    assert set(score.error_codes) == {"unknown_function", "join"}
    assert "join" not in score_plan(text, reference, mac_tools, require_join=False).error_codes
    # a function the model was not shown is unknown, even when the recipe has it
    shown = mac_tools.subset(["get_email_address", "get_zoom_meeting_link"])
    assert "unknown_function" in score_plan(ISOMORPHIC, reference, shown).error_codes


def test_join_is_required_of_llmcompiler_text_only(mac_tools, reference):
    """A JSON or tool-call plan has no join() by nature: the dataset's own `plan` column scores as valid."""
    import json

    from planforge.plan import to_calls

    as_json = json.dumps([c for c in to_calls(reference) if c["name"] != "join"])
    score = score_plan(as_json, reference, mac_tools, require_join=True)
    assert score.valid and score.strict_success and "join" not in score.error_codes
    without_join = REFERENCE_TEXT.rsplit("\n", 1)[0]
    assert "join" in score_plan(without_join, reference, mac_tools, require_join=True).error_codes


def test_summary_rates_on_a_known_mix(mac_tools, reference):
    scores = [
        score_plan(ISOMORPHIC, reference, mac_tools),  # success, valid
        score_plan(REWIRED, reference, mac_tools),  # valid, no success
        score_plan("nonsense", reference, mac_tools),  # syntax
        score_plan('1. get_email_address("Sid")\n2. join()', reference, mac_tools),  # valid, recall 1/3
    ]
    summary = summarize(scores)
    assert summary["examples"] == 4
    assert summary["success_rate"] == 0.25
    assert summary["validity_rate"] == 0.75
    assert summary["parse_rate"] == 0.75
    assert summary["tool_recall"] == pytest.approx((3 + 3 + 0 + 1) / 12)
    assert summary["tool_precision"] == pytest.approx(7 / 7)
    assert summary["errors_by_code"] == {"syntax": 1}


def test_argument_success_needs_the_key_arguments_of_the_recipe(mac_tools, reference):
    from planforge.trainers.evaluate import row_key_arguments

    keys = row_key_arguments({"meta": {"recipe": "mac_assistant"}})
    # isomorphic, but Sidney on the 23rd for 30 minutes: TinyAgent's success, not an argument success
    score = score_plan(ISOMORPHIC, reference, mac_tools, key_arguments=keys)
    assert score.success and score.strict_success and not score.argument_success
    assert "get_email_address.name (step 1)" in score.argument_mismatches
    same = score_plan(REFERENCE_TEXT.replace('"Apple sync"', '"apple sync"'), reference, mac_tools, key_arguments=keys)
    assert same.argument_success and same.argument_share == 1.0
    retitled = REFERENCE_TEXT.replace('"Apple sync"', '"Sync"')
    assert not score_plan(retitled, reference, mac_tools, key_arguments=keys).argument_success
    ignoring = row_key_arguments({"meta": {"recipe": "mac_assistant"}}, free_text="ignore")
    assert score_plan(retitled, reference, mac_tools, key_arguments=ignoring).argument_success
    # a recipe that declares nothing: every argument is key, the title too
    declared_nothing = row_key_arguments({"meta": {"recipe": "someone_elses"}}, free_text="ignore")
    assert not score_plan(retitled, reference, mac_tools, key_arguments=declared_nothing).argument_success


def test_relevance_no_call_when_none_is_needed_a_plan_when_one_is(mac_tools, reference):
    no_call = parse_plan("")
    right = score_plan("1. join()", no_call, mac_tools)  # the empty plan is the answer: valid, a success
    assert right.valid and right.success and right.argument_success and right.relevant
    assert right.error_codes == ()
    wrong = score_plan('1. create_note("x", "y", "")\n2. join()', no_call, mac_tools)
    assert not wrong.success and not wrong.relevant and not wrong.valid  # a call where none serves
    assert wrong.error_codes == ("unexpected_call",)
    marked = score_plan("1. join()", reference, mac_tools, no_call=True)  # meta.no_call, whatever the plan says
    assert marked.success and marked.relevant
    missed = score_plan("1. join()", reference, mac_tools)  # a plan was needed
    assert not missed.relevant and not missed.valid and missed.error_codes == ("empty_plan",)
    unreadable = score_plan("1. create_note(", no_call, mac_tools)  # an attempt at a call
    assert not unreadable.relevant
    summary = summarize([right, wrong, marked, missed, score_plan(REFERENCE_TEXT, reference, mac_tools)])
    assert summary["relevance_accuracy"] == 3 / 5
    assert (summary["no_call_examples"], summary["no_call_accuracy"]) == (3, 2 / 3)
    assert summary["success_rate"] == 3 / 5 and summary["argument_success_rate"] == 3 / 5
    assert summarize([score_plan(REFERENCE_TEXT, reference, mac_tools)])["no_call_accuracy"] is None


def test_clean_output_stops_at_join():
    raw = '1. create_note("a", "b", "")\n2. join()\n3. create_note("x", "y", "")\nmore text'
    assert clean_output(raw) == '1. create_note("a", "b", "")\n2. join()'
    assert clean_output("1. f()\n2. join()<END_OF_PLAN>\nxx").endswith("join()<END_OF_PLAN>")
    assert clean_output("1. f()\n2. join()\n<END_OF_PLAN>\nxx").endswith("join()\n<END_OF_PLAN>")
    assert clean_output("  no plan here ") == "no plan here"


def test_retrieval_metrics_known_recall():
    selected = [["a", "b"], ["a"], ["c", "d", "e"]]
    targets = [["a"], ["a", "b"], ["c"]]
    m = retrieval_metrics(selected, targets)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["precision"] == pytest.approx(3 / 6)
    assert m["mean_selected"] == pytest.approx(2.0)
    assert m["all_needed_selected_rate"] == pytest.approx(2 / 3)


def test_the_threshold_is_the_largest_that_reaches_the_target():
    proba = [{"a": 0.9, "b": 0.3, "c": 0.05}, {"a": 0.6, "b": 0.12, "c": 0.01}]
    targets = [["a", "b"], ["a", "b"]]

    def select(threshold):
        return [[name for name, p in row.items() if p >= threshold] for row in proba]

    found = calibrate_threshold(select, targets, 1.0)
    assert found == {"threshold": 0.1, "all_needed_selected_rate": 1.0, "mean_selected": 2.0, "reached": True}
    assert calibrate_threshold(select, targets, 0.5)["threshold"] == 0.3  # one of the two is enough
    unreachable = calibrate_threshold(select, [["a", "b", "c", "d"]] * 2, 0.99)
    assert not unreachable["reached"] and unreachable["threshold"] == 0.5  # none is better: the largest


def test_prompt_token_savings_counts_the_system_prompt(mac_tools):
    def words(text: str) -> int:
        return len(text.split())

    selected = [["send_sms", "get_phone_number"], ["create_note"]]
    saved = prompt_token_savings(words, mac_tools, selected)

    def system_prompt(tools):
        return with_function_list(prompt_messages(""), tools)[0]["content"]

    full = words(system_prompt(mac_tools))
    small = [
        words(system_prompt(mac_tools.subset(["get_phone_number", "send_sms"]))),
        words(system_prompt(mac_tools.subset(["create_note"]))),
    ]
    assert saved["prompt_tokens_all_functions"] == full
    assert saved["prompt_tokens_selected"] == pytest.approx(sum(small) / 2)
    assert 0 < saved["prompt_tokens_saved_fraction"] < 1


def test_dataset_checks_are_one_line_errors(tmp_path, pairs_dir):
    rows = [e.to_row() for e in make_examples(3)]
    broken = datasets.Dataset.from_list(rows, features=PLAN_FEATURES).remove_columns(["plan_text"])
    datasets.DatasetDict({"train": broken}).save_to_disk(str(tmp_path / "broken"))
    with pytest.raises(DatasetError, match=r"broken: not a planforge dataset: missing column\(s\) plan_text"):
        load_dataset_of_kind(tmp_path / "broken", kind=PLANS, columns=PLAN_COLUMNS_SFT)
    with pytest.raises(DatasetError, match="preference-pairs dataset"):
        load_dataset_of_kind(pairs_dir, kind=PLANS, columns=PLAN_COLUMNS_SFT)
    with pytest.raises(DatasetError, match="no such dataset directory"):
        load_dataset_of_kind(tmp_path / "nowhere", kind=PLANS, columns=PLAN_COLUMNS_SFT)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a dataset saved with save_to_disk"):
        load_dataset_of_kind(tmp_path / "empty", kind=PLANS, columns=PLAN_COLUMNS_SFT)


def test_prompts_are_the_datasets_own(mac_tools):
    from planforge.dataset.rows import Example

    examples = make_examples(2)
    row = examples[0].to_row()
    tools = examples[0].tools
    # the prompt is the stored system + user turn; the functions travel apart, as `tools`
    assert row_prompt(row) == row["prompt"] and "Functions:" not in row["prompt"][0]["content"]
    assert row["completion"] == [{"role": "assistant", "content": row["plan_text"]}]
    custom = Example(
        query="hi", plan=examples[0].plan, tools=tools, now="2026-01-01 00:00:00", instructions="Plan it."
    ).to_row()
    assert row_instructions(custom) == "Plan it."
    assert Example.from_row(custom).instructions == "Plan it."
    shown = mac_tools.subset(["create_note"])
    listed = with_function_list(row_prompt(custom), shown)[0]["content"]
    assert listed.startswith(
        "Plan it.\n\nThe current date and time is 2026-01-01 00:00:00.\n\nFunctions:\ncreate_note("
    )
    assert row_plan(row).function_names() == examples[0].plan.function_names()


def test_read_predictions(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "plan": "1. f()"}) + "\n" + json.dumps({"id": "b", "prediction": []}) + "\n")
    assert read_predictions(path) == {"a": "1. f()", "b": "[]"}
    path.write_text('{"plan": "x"}\n')
    with pytest.raises(InputError, match="'id'"):
        read_predictions(path)


def test_model_sources(tmp_path):
    with pytest.raises(ConfigError, match="no such model file or directory"):
        resolve_source(str(tmp_path / "missing-model"))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="must be a .gguf file"):
        resolve_source(str(tmp_path / "weights.bin"))
    with pytest.raises(ConfigError, match="not a model directory"):
        resolve_source(str(tmp_path))
    (tmp_path / "m.Q4_1.gguf").write_bytes(b"GGUF")
    assert resolve_source(str(tmp_path / "m.Q4_1.gguf")) == ModelSource(
        str(tmp_path / "m.Q4_1.gguf"), "gguf", str(tmp_path.resolve()), "m.Q4_1.gguf"
    )
    assert resolve_source(str(tmp_path)).kind == "gguf"  # a directory holding one .gguf file
    assert resolve_source("HuggingFaceTB/SmolLM2-135M-Instruct").kind == "hub"


def test_drop_gguf_quantizer():
    class Config:
        def __init__(self):
            self.quantization_config = {"quant_method": "gguf"}

    class Model:
        def __init__(self):
            self.hf_quantizer = object()
            self.config = Config()

    model = drop_gguf_quantizer(Model())
    assert model.hf_quantizer is None and not hasattr(model.config, "quantization_config")


def test_validity_counts_the_recipe_rules_of_the_row():
    from planforge.plan import parse_plan
    from planforge.recipes.loader import load_recipe
    from planforge.trainers.evaluate import _recipe_rules, score_plan

    recipe = load_recipe("mac_assistant")
    row = {"query": "text Sid hi", "meta": {"recipe": "mac_assistant", "now": "2026-03-09 10:00:00"}}
    rules = _recipe_rules(row)
    assert len(rules) == len(recipe.rules) and _recipe_rules({"meta": {"recipe": "someone_elses"}}) == ()
    reference = parse_plan(
        '1. get_phone_number("Sid")\n2. send_sms(["$1"], "hi")\n3. join()', param_order=recipe.tools.param_order
    )
    invented = '1. send_sms(["Sid"], "hi")\n2. join()'  # no lookup: breaks lookup_before_contact
    score = score_plan(invented, reference, recipe.tools, rules=rules, context=row)
    assert not score.valid and "rule" in score.error_codes
    assert score_plan(invented, reference, recipe.tools).valid
