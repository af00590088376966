"""Shared fixtures: the bundled mac_assistant tools and the BFCL-style sample."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from planforge.tools import ToolSet, load_tools

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
