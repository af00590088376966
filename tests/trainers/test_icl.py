"""Retrieved in-context examples: the nearest training examples (packaged MiniLM), never the example itself nor
one of the evaluation split, only plans over the functions shown; rendered by the one prompt renderer, so SFT,
evaluation, DPO and GRPO show the same demonstrations."""

from __future__ import annotations

import re

import datasets
import pytest

from planforge.llms.retrieval import DemonstrationIndex, SentenceEncoder, Solved
from planforge.llms.views import PromptSettings, PromptViews, Request, demonstration_index
from planforge.prompting import DEMONSTRATIONS_HEADER, Demonstration, prompt_messages, with_demonstrations
from planforge.trainers.cli import eval_app, train_app

from .conftest import make_examples, read_json
from .test_commands import invoke, ok, one_line_error

pytestmark = pytest.mark.torch


def solved(example) -> Solved:
    row = example.to_row()
    return Solved(row["id"], row["query"], row["plan_text"], row["meta"]["now"], frozenset(row["target_tools"]))


def test_demonstrations_render_in_the_system_turn_before_the_functions(mac_tools):
    from planforge.prompting import with_function_list

    demos = [Demonstration("Text Sid hi", '1. get_phone_number("Sid")\n2. send_sms(["$1"], "hi")\n3. join()', "N")]
    messages = with_demonstrations(prompt_messages("Text Ava hi", now="2026-11-21 09:00:00"), demos)
    system = messages[0]["content"]
    assert system.endswith(
        f"{DEMONSTRATIONS_HEADER}\n\nRequest (at N): Text Sid hi\nPlan:\n"
        '1. get_phone_number("Sid")\n2. send_sms(["$1"], "hi")\n3. join()'
    )
    assert "The current date and time is 2026-11-21 09:00:00." in system and messages[1]["content"] == "Text Ava hi"
    listed = with_function_list(messages, mac_tools.subset(["send_sms"]))[0]["content"]
    assert listed.index(DEMONSTRATIONS_HEADER) < listed.index("Functions:")
    assert with_demonstrations(messages[1:], []) == messages[1:]  # no examples: unchanged
    assert with_demonstrations(messages[1:], demos)[0]["role"] == "system"


def test_nearest_examples_only_over_the_functions_shown_never_the_example_itself(minilm_dir):
    examples = make_examples(16, seed=3)
    index = DemonstrationIndex([solved(e) for e in examples], SentenceEncoder(minilm_dir), cache=False)
    texting = next(e for e in examples if e.query.startswith("Text "))
    everything = [name for e in examples for name in e.target_tools]
    [picked] = index.select([texting.query], [everything], 3, [texting.example_id])
    assert len(picked) == 3 and texting.query not in [d.query for d in picked]
    # the nearest request is another "Text X that I am running late"
    assert picked[0].query.startswith("Text ") and picked[0].plan.endswith("join()")
    assert picked[0].now == texting.now
    only_sms = ["get_phone_number", "send_sms"]
    [restricted] = index.select([texting.query], [only_sms], 5, [texting.example_id])
    allowed = {"get_phone_number", "send_sms"}
    for demo in restricted:
        assert set(re.findall(r"\d+\. (\w+)\(", demo.plan)) - {"join"} <= allowed
    assert index.select([texting.query], [everything], 0) == [[]]


def test_views_show_demonstrations_from_the_train_split_only(plans_dir):
    ds = datasets.load_from_disk(str(plans_dir))
    views = PromptViews.load(PromptSettings(icl_examples=2, icl_data=str(plans_dir)))
    train_ids = set(ds["train"]["id"])
    train_queries = set(ds["train"]["query"])
    assert {e.id for e in views.index.examples} == train_ids
    from planforge.dataset.rows import ToolCache
    from planforge.trainers.prompts import plan_requests

    for split in ("train", "test"):
        rows = ds[split].to_list()
        prompts, info = views.prompts(plan_requests(rows, ToolCache()), add_needed=False)
        assert info["icl_examples"] == 2 and info["icl_mean_shown"] > 0
        for row, prompt in zip(rows, prompts, strict=True):
            system = prompt.messages[0]["content"]
            shown = re.findall(r"^Request \(at [^)]*\): (.*)$", system, re.M)
            assert row["query"] not in shown and set(shown) <= train_queries
            assert prompt.tools == ToolCache().get(row["tools"])


def test_demonstration_embeddings_are_cached(plans_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path))
    first = demonstration_index(str(plans_dir))
    assert len(list((tmp_path / "embeddings").glob("*.pt"))) == 1
    again = demonstration_index(str(plans_dir))
    assert (again.vectors == first.vectors).all()


def test_sft_with_icl_records_it_and_evaluation_reuses_it(plans_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "sft-icl"
    metrics = ok(
        train_app,
        ["sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", out, "--icl-examples", 2]
        + ["--max-steps", 1, "--batch-size", 4, "--max-examples", 4, "--max-eval-examples", 2],
    )
    assert metrics["icl_examples"] == 2 and metrics["icl_mean_shown"] == 2
    config = read_json(out / "run_config.json")["config"]
    assert config["icl_examples"] == 2 and config["icl_data"] == str(plans_dir)
    # the train split: its requests have neighbours over the same functions (never themselves)
    args = ["plans", "--adapter", out, "--data", plans_dir, "--split", "train", "--max-examples", 2]
    args += ["--max-new-tokens", 4]
    with_icl = ok(eval_app, args)
    assert with_icl["icl_examples"] == 2 and with_icl["icl_data"] == str(plans_dir) and with_icl["icl_mean_shown"] == 2
    without = ok(eval_app, [*args, "--icl-examples", 0])
    assert "icl_examples" not in without
    assert with_icl["prompt_tokens_mean"] > without["prompt_tokens_mean"] > 0


def test_sft_rows_with_toolrag_and_icl_use_only_the_selected_functions(plans_dir, tiny_model_dir, toolrag_dir):
    from planforge.llms.local import load_tokenizer
    from planforge.trainers.sft import build_sft_rows

    ds = datasets.load_from_disk(str(plans_dir))
    views = PromptViews.load(PromptSettings(toolrag=str(toolrag_dir), icl_examples=3, icl_data=str(plans_dir)))
    rows, info = build_sft_rows(ds["train"], where="test", tokenizer=load_tokenizer(str(tiny_model_dir)), views=views)
    assert info["toolrag_mean_shown"] >= 1 and info["icl_mean_shown"] > 0
    for row, source in zip(rows, ds["train"], strict=True):
        system = row["prompt"][0]["content"]
        examples, functions = system.split("Functions:\n", 1)
        listed = set(re.findall(r"^(\w+)\(", functions, re.M))
        called = set(re.findall(r"^\d+\. (\w+)\(", examples, re.M)) - {"join"}
        assert called <= listed  # demonstrations call only what the prompt lists
        assert listed >= set(source["target_tools"])  # training: the needed functions are listed


def test_icl_errors_are_one_line(plans_dir, tiny_model_dir, tmp_path):
    base = ["sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", tmp_path / "x"]
    assert "--icl-examples must be 0 or more" in one_line_error(invoke(train_app, [*base, "--icl-examples", -1]))
    missing = one_line_error(invoke(train_app, [*base, "--icl-examples", 2, "--icl-data", tmp_path / "none"]))
    assert "no such dataset directory" in missing
    assert not (tmp_path / "x").exists()


def test_a_request_without_an_id_still_never_sees_its_own_text(plans_dir):
    ds = datasets.load_from_disk(str(plans_dir))
    views = PromptViews.load(PromptSettings(icl_examples=1, icl_data=str(plans_dir)))
    row = ds["train"][0]
    from planforge.dataset.rows import row_tools

    request = Request(None, row["query"], row["prompt"], row_tools(row), ())
    [prompt], _ = views.prompts([request], add_needed=False)
    assert f": {row['query']}\nPlan:" not in prompt.messages[0]["content"]
