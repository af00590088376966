"""Rows as TRL feeds them to a tool-aware chat template (Qwen2.5's shape): each function described once, the plan
once, arguments as JSON objects; and TRL's own SFT and DPO steps read the saved datasets as they are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch

datasets = pytest.importorskip("datasets")
pytest.importorskip("trl")


@pytest.fixture(scope="module")
def tool_model(tmp_path_factory, plans_dir) -> Path:
    """A tiny Llama whose tokenizer carries Qwen2.5's tool-aware template."""
    from tests.support.tiny_models import QWEN_TOOLS, build_tiny_model

    rows = datasets.load_from_disk(str(plans_dir))["train"]
    corpus = [m["content"] for row in rows for m in row["prompt"] + row["completion"]]
    corpus += [json.dumps(entry) for row in rows for entry in row["tools"]]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen-shape", corpus, chat_template=QWEN_TOOLS)


def rendered_as_trl_does(tokenizer, row: dict, turns: list[str]) -> str:
    messages = [m for column in turns for m in row[column]]
    return tokenizer.apply_chat_template(messages, tools=row["tools"], tokenize=False)


def test_a_plans_row_renders_each_function_and_each_call_once(tool_model, plans_dir):
    from transformers import AutoTokenizer

    from planforge.prompting import render, template_supports_tools
    from planforge.tools import tools_from_json

    tokenizer = AutoTokenizer.from_pretrained(tool_model)
    assert template_supports_tools(tokenizer)
    row = datasets.load_from_disk(str(plans_dir))["train"][0]
    text = rendered_as_trl_does(tokenizer, row, ["prompt", "completion"])
    for entry in row["tools"]:
        name = entry["function"]["name"]
        assert len(re.findall(rf'"name": "{name}"', text)) == 1, name  # once, in the <tools> block
        assert f"{name}(" not in text.split("<tools>")[0]  # not listed again in the system turn
    assert text.count(row["plan_text"]) == 1 and "<tool_call>\n{" not in text.split("# Tools")[1].split("</tools>")[1]
    block = text.split("<tools>\n", 1)[1].split("\n</tools>", 1)[0]
    entries = [json.loads(line) for line in block.splitlines()]
    assert entries == row["tools"]  # each entry an object (arguments and schemas are not JSON encoded twice)
    # planforge's own renderer gives exactly the prompt TRL trains on
    tools = tools_from_json(row["tools"])
    assert text.startswith(render(tokenizer, row["prompt"], tools, add_generation_prompt=True))


def test_a_pairs_row_renders_each_function_once(tool_model, gen, plans_dir, tmp_path):
    from transformers import AutoTokenizer

    out = tmp_path / "pairs"
    assert gen("pairs", plans_dir, "--out", out, "--rejected", "corruptions").exit_code == 0
    pair = datasets.load_from_disk(str(out))["train"][0]
    tokenizer = AutoTokenizer.from_pretrained(tool_model)
    for side in ("chosen", "rejected"):
        text = rendered_as_trl_does(tokenizer, pair, ["prompt", side])
        for entry in pair["tools"]:
            assert text.count(f'"name": "{entry["function"]["name"]}"') == 1
        assert text.count(pair[side][0]["content"]) == 1


def test_trl_sft_step_on_the_saved_dataset_trains_on_the_plan_only(tool_model, plans_dir, tmp_path):
    """The documented setting for TRL users: nothing to set; prompt/completion rows train on the completion."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tool_model)
    train = datasets.load_from_disk(str(plans_dir))["train"].select(range(4))
    args = SFTConfig(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        max_length=4096,
    )
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tool_model),
        args=args,
        train_dataset=train,
        processing_class=tokenizer,
    )
    example = trainer.train_dataset[0]
    trained = [t for t, label in zip(example["input_ids"], example["labels"], strict=True) if label != -100]
    assert tokenizer.decode(trained).startswith(train[0]["plan_text"])
    assert trainer.train().training_loss > 0


def test_trl_dpo_step_on_the_saved_pairs(tool_model, gen, plans_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    out = tmp_path / "pairs"
    assert gen("pairs", plans_dir, "--out", out, "--rejected", "corruptions").exit_code == 0
    train = datasets.load_from_disk(str(out))["train"].select(range(4))
    tokenizer = AutoTokenizer.from_pretrained(tool_model)
    args = DPOConfig(
        output_dir=str(tmp_path / "dpo"), max_steps=1, per_device_train_batch_size=2, report_to=[], use_cpu=True
    )
    model = AutoModelForCausalLM.from_pretrained(tool_model)
    trainer = DPOTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    assert trainer.train().training_loss > 0
