"""Shared fixtures: the bundled mac_assistant tools and the BFCL-style sample."""

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


@pytest.fixture(scope="session")
def mac_tools() -> ToolSet:
    return load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")


@pytest.fixture(scope="session")
def bfcl_tools() -> ToolSet:
    return load_tools(DATA / "bfcl_functions.json")


@pytest.fixture(scope="session")
def bfcl_ground_truth() -> list[dict]:
    return [json.loads(line) for line in (DATA / "bfcl_ground_truth.jsonl").read_text().splitlines() if line]
