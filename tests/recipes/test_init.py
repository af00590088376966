"""``gen recipes init`` writes a recipe that loads and runs: for a BFCL-style tools file and from a dataset; and the
second bundled recipe, bfcl_everyday, runs with an LLM teacher over real HTTP (a stand-in model server)."""

from __future__ import annotations

import json

import datasets
import pytest
import yaml

from planforge.recipes.loader import load_recipe
from planforge.tools import load_tools
from tests.support.openai_server import OpenAIServer
from tests.support.schema_teacher import SchemaTeacher

DATA = "tests/data/bfcl_functions.json"


def test_init_from_a_tools_file_writes_a_recipe_that_loads(gen, tmp_path):
    result = gen("recipes", "init", "mathbot", "--tools", DATA, "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "5 functions, 0 few-shot examples" in " ".join(result.stdout.split())
    folder = tmp_path / "mathbot"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "recipe.yaml", "tools.json"]
    recipe = load_recipe(folder)
    assert recipe.name == "mathbot" and recipe.rules == () and recipe.few_shot == ()
    assert set(recipe.tools) == set(load_tools(DATA))
    # normalized: BFCL's "dict"/"float" spellings are JSON Schema in the written file
    written = json.loads((folder / "tools.json").read_text())
    assert all(entry["type"] == "function" for entry in written)
    assert "dict" not in json.dumps(written) and "float" not in json.dumps(
        [e["function"]["parameters"] for e in written]
    )
    raw = yaml.safe_load((folder / "recipe.yaml").read_text())
    assert "{functions}" in raw["teacher"]["system_prompt"] and raw["sampling"]["max_targets"] == 4
    assert "# few_shot:" in (folder / "recipe.yaml").read_text()  # the placeholder to fill
    again = gen("recipes", "init", "mathbot", "--tools", DATA, "--dir", tmp_path)
    assert again.exit_code == 2 and "is not empty (pass --overwrite" in again.stderr


def test_init_from_a_dataset_takes_its_functions_and_few_shot_examples(gen, plans_dir, tmp_path):
    result = gen("recipes", "init", "mine", "--from-dataset", plans_dir, "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    recipe = load_recipe(tmp_path / "mine")
    assert len(recipe.few_shot) == 3 and len({s.plan.count("\n") for s in recipe.few_shot}) >= 2
    loaded = datasets.load_from_disk(str(plans_dir))
    queries = {row["query"] for split in loaded.values() for row in split}
    assert all(shot.query in queries and shot.now for shot in recipe.few_shot)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("recipes", "init", "x"), "give --tools TOOLS.json"),
        (("recipes", "init", "bad name!", "--tools", DATA), "recipe name 'bad name!'"),
        (("recipes", "init", "x", "--tools", "nope.json"), "nope.json: no such file"),
    ],
)
def test_init_errors_are_one_line(gen, tmp_path, args, message):
    result = gen(*args, "--dir", tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert message in " ".join(result.stderr.split())


@pytest.mark.integration
def test_an_initialized_recipe_runs_with_the_openai_teacher(gen, tmp_path):
    assert gen("recipes", "init", "mathbot", "--tools", DATA, "--dir", tmp_path).exit_code == 0
    folder = tmp_path / "mathbot"
    offline = gen("run", "recipe", folder, "--out", tmp_path / "offline", "-n", "5")
    assert offline.exit_code == 2 and "has no templates for the offline teacher; use --teacher openai" in offline.stderr
    with OpenAIServer(SchemaTeacher(load_tools(folder / "tools.json"))) as server:
        result = gen(
            "run",
            "recipe",
            folder,
            "--out",
            tmp_path / "run",
            "-n",
            "20",
            "--teacher",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "stand-in",
            "--no-cache",
            env={"OPENAI_API_KEY": "sk-test-key"},
        )
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["accepted"] == 20 and run["recipe"]["name"] == "mathbot"


@pytest.mark.integration
def test_the_second_bundled_recipe_runs_with_its_rules(gen, tmp_path):
    recipe = load_recipe("bfcl_everyday")
    assert len(recipe.tools) == 15 and len(recipe.rules) == 3 and len(recipe.few_shot) == 3
    with OpenAIServer(SchemaTeacher(recipe.tools)) as server:
        result = gen(
            "run",
            "recipe",
            "bfcl_everyday",
            "--out",
            tmp_path / "run",
            "-n",
            "30",
            "--teacher",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "stand-in",
            "--no-cache",
            env={"OPENAI_API_KEY": "sk-test-key"},
        )
        prompt = server.requests[0]["messages"][0]["content"]
    assert result.exit_code == 0, result.output
    assert "ISO codes" in prompt and "weather, money, travel" in prompt  # its own prompt and rules
    rows = [row for split in datasets.load_from_disk(str(tmp_path / "run")).values() for row in split]
    assert len(rows) == 30 and all(row["meta"]["recipe"] == "bfcl_everyday" for row in rows)
    used = {name for row in rows for name in row["target_tools"]}
    assert len(used) >= 8  # the sampler spreads requests over the functions
