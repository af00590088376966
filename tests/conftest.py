"""Shared fixtures: the bundled mac_assistant tools, the BFCL-style sample, small plans datasets and `gen`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import settings

from planforge.tools import ToolSet, load_tools

# A shared 2-core machine can stall any single example for a few hundred ms; 2 s still catches a hang.
settings.register_profile("planforge", deadline=2000)
settings.load_profile("planforge")

DATA = Path(__file__).parent / "data"
TIERS = ("unit", "slow", "integration", "torch")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked none of ``slow``, ``integration`` and ``torch`` is ``unit``: ``pytest -m unit`` is the fast tier."""
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def mac_tools() -> ToolSet:
    return load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")


@pytest.fixture(scope="session")
def bfcl_tools() -> ToolSet:
    return load_tools(DATA / "bfcl_functions.json")


@pytest.fixture(scope="session")
def bfcl_ground_truth() -> list[dict]:
    return [json.loads(line) for line in (DATA / "bfcl_ground_truth.jsonl").read_text().splitlines() if line]


# --------------------------------------------------------------------------------------------------
# plans datasets for the pairs, review and publishing tests (no server needed)


def generate_plans(path: Path, n: int, seed: int = 0) -> Path:
    """A plans dataset from the offline template teacher (`gen run recipe mac_assistant`), in process."""
    from typer.testing import CliRunner

    from planforge.cli import app

    args = ["run", "recipe", "mac_assistant", "--out", str(path), "-n", str(n), "--teacher", "template"]
    result = CliRunner().invoke(app, [*args, "--seed", str(seed), "--no-cache"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def plans_dir(tmp_path_factory) -> Path:
    """40 accepted examples: 36 train, 2 validation, 2 test."""
    return generate_plans(tmp_path_factory.mktemp("plans") / "plans40", 40, seed=7)


@pytest.fixture(scope="session")
def many_plans(tmp_path_factory) -> list[dict]:
    """300 examples (every split) as rows, for the property tests of the corruptions: those that call something
    (a no-call example's empty plan has nothing to corrupt; gen pairs leaves those to the student)."""
    import datasets

    path = generate_plans(tmp_path_factory.mktemp("plans") / "plans300", 300, seed=11)
    loaded = datasets.load_from_disk(str(path))
    return [row for split in loaded.values() for row in split if not row["meta"]["no_call"]]


@pytest.fixture(scope="session")
def gen():
    """``gen(*args, env=...) -> Result`` (stdout and stderr apart) through the real `gen` app, in process;
    unexpected exceptions are re-raised."""
    from typer.testing import CliRunner

    from planforge.cli import app

    def run(*args, env: dict | None = None):
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, plans_dir) -> Path:
    """A 2-layer Llama with a byte-level BPE trained on the plans' messages: a local student that loads and
    generates in a second (see tests/support/tiny_models.py)."""
    import datasets

    from tests.support.tiny_models import build_tiny_model

    rows = datasets.load_from_disk(str(plans_dir))["train"]
    corpus = [m["content"] for row in rows for m in row["prompt"] + row["completion"]]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama", corpus)
