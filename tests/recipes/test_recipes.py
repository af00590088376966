import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planforge.errors import RecipeError
from planforge.recipes.loader import bundled_recipe_names, load_recipe

MAC = Path(__file__).resolve().parents[2] / "planforge" / "recipes" / "mac_assistant"


def test_bundled_recipe_loads_with_rules_and_few_shots():
    recipe = load_recipe("mac_assistant")
    assert "mac_assistant" in bundled_recipe_names()
    assert len(recipe.tools) == 16 and recipe.require_join
    assert [r.name for r in recipe.rules] == [
        "lookup_before_contact",
        "pdf_path_from_open",
        "zoom_link_delivered",
        "iso_dates",
        "no_empty_entries",
        "lookups_used",
    ]
    assert len(recipe.few_shot) == 3 and len(recipe.content_hash) == 64
    assert set(recipe.key_arguments) == set(recipe.tools)  # every function says which of its arguments are key
    assert recipe.key_arguments["send_sms"] == ("recipients",)  # the message is free text


def test_a_recipe_without_key_arguments_compares_every_argument(tmp_path):
    assert load_recipe(copy_recipe(tmp_path, key_arguments=None)).key_arguments is None


def copy_recipe(tmp_path: Path, **changes) -> Path:
    folder = tmp_path / "my_recipe"
    shutil.copytree(MAC, folder)
    raw = yaml.safe_load((folder / "recipe.yaml").read_text())
    for dotted, value in changes.items():
        target = raw
        *parents, leaf = dotted.split("__")
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(leaf)
        else:
            target[leaf] = value
    (folder / "recipe.yaml").write_text(yaml.safe_dump(raw))
    return folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sampling__max_targets": "four"}, "field 'sampling.max_targets': expected integer, got \"four\""),
        ({"sampling__max_targets": 0}, "field 'sampling.max_targets': expected a number >= 1"),
        ({"colour": "blue"}, "top level: unknown field 'colour'"),
        ({"description": None}, "missing field 'description'"),
        ({"sampling__min_targets": 5}, "field 'sampling.min_targets': expected at most max_targets"),
        ({"sampling__co_use": {"send_sms": {"send_fax": 0.5}}}, "field 'sampling.co_use.send_sms': unknown function"),
        ({"rules": ["no_such_rule"]}, "field 'rules': unknown rule 'no_such_rule'"),
        ({"tools": "missing.json"}, "field 'tools': "),
        ({"templates": "nope.yaml"}, "field 'templates': no such file"),
        ({"key_arguments": {"send_fax": ["number"]}}, "field 'key_arguments.send_fax': unknown function 'send_fax'"),
        ({"key_arguments": {"send_sms": ["phone"]}}, "field 'key_arguments.send_sms': send_sms has no argument 'phone'"),
        ({"key_arguments": {"send_sms": "recipients"}}, "field 'key_arguments.send_sms': expected array"),
        (
            {"few_shot": [{"query": "text Sid hi", "plan": '1. send_sms(["Sid"], "hi")\n2. join()'}]},
            "field 'few_shot.0.plan': step 1: send_sms() recipients 'Sid' is not a phone number",
        ),
    ],
)
def test_bad_recipes_name_file_field_and_expectation(tmp_path, changes, message):
    folder = copy_recipe(tmp_path, **changes)
    with pytest.raises(RecipeError) as caught:
        load_recipe(folder)
    assert str(caught.value).startswith(str(folder / "recipe.yaml"))
    assert message in str(caught.value)


def test_unknown_recipe_name():
    with pytest.raises(RecipeError, match="no bundled recipe of that name"):
        load_recipe("pizza_ordering")


@pytest.mark.slow
def test_user_recipe_by_path_and_cli_listing(tmp_path):
    folder = copy_recipe(tmp_path, name="my_recipe")
    assert load_recipe(folder).name == "my_recipe"
    listing = subprocess.run([sys.executable, "-m", "planforge", "recipes", "list"], capture_output=True, text=True)
    assert listing.returncode == 0 and "mac_assistant" in listing.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "planforge", "recipes", "show", "mac_assistant"], capture_output=True, text=True
    )
    assert (
        shown.returncode == 0 and "get_zoom_meeting_link(" in shown.stdout and "lookup_before_contact" in shown.stdout
    )
    bad = subprocess.run(
        [sys.executable, "-m", "planforge", "recipes", "show", str(tmp_path / "none")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "no such recipe folder" in bad.stderr and "Traceback" not in bad.stderr
