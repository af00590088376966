"""Fixtures for tests that talk to a real Argilla server over HTTP (no fakes).

``argilla_server`` (session): uses ARGILLA_API_URL/ARGILLA_API_KEY when they point to a live server,
else starts the local stack with ``scripts/argilla-local.sh start`` and stops it at the end if it started
it. When no server can be had the fixture FAILS with the script's output (log tail): a test that needs a
real server must never pass by skipping.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "argilla-local.sh"
START_TIMEOUT_S = 900  # the first start installs redis-server and a 0.6 GB venv


@dataclass(frozen=True)
class ArgillaServer:
    api_url: str
    api_key: str
    started_here: bool = False


def _owner_ok(api_url: str, api_key: str) -> bool:
    """True when the URL answers and the key belongs to an owner/admin (what the SDK needs)."""
    try:
        r = httpx.get(f"{api_url.rstrip('/')}/api/v1/me", headers={"X-Argilla-Api-Key": api_key}, timeout=5)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and r.json().get("role") in ("owner", "admin")


def _script(cmd: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), cmd], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="session")
def argilla_server() -> ArgillaServer:
    url, key = os.environ.get("ARGILLA_API_URL"), os.environ.get("ARGILLA_API_KEY")
    if url and key and _owner_ok(url, key):
        yield ArgillaServer(api_url=url.rstrip("/"), api_key=key)
        return

    was_running = _script("status", 60).returncode == 0
    try:
        proc = _script("start", START_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"argilla-local.sh start timed out after {e.timeout}s:\n{e.stderr or ''}", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(
            f"argilla-local.sh start failed (rc={proc.returncode}):\n{proc.stderr}\n{proc.stdout}", pytrace=False
        )
    exports = dict(re.findall(r"^export (ARGILLA_API_URL|ARGILLA_API_KEY)=(\S+)$", proc.stdout, re.M))
    server = ArgillaServer(exports["ARGILLA_API_URL"], exports["ARGILLA_API_KEY"], started_here=not was_running)
    if not _owner_ok(server.api_url, server.api_key):
        pytest.fail(
            f"local Argilla at {server.api_url} rejects API key {server.api_key!r} (an older state dir with "
            "another key? see ARGILLA_LOCAL_HOME in scripts/argilla-local.sh)",
            pytrace=False,
        )
    try:
        yield server
    finally:
        if server.started_here:
            _script("stop", 120)


# --------------------------------------------------------------------------------------------------
# data for the pairs and review tests (no server needed)


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
    """300 examples (every split) as rows, for the property tests of the corruptions."""
    import datasets

    path = generate_plans(tmp_path_factory.mktemp("plans") / "plans300", 300, seed=11)
    loaded = datasets.load_from_disk(str(path))
    return [row for split in loaded.values() for row in split]


@pytest.fixture(scope="session")
def gen_app():
    """The `gen` app with the curation commands registered as planforge/cli.py registers them."""
    import typer

    from planforge.curation_ui.cli import pairs, review_app

    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

    @app.callback()
    def _root() -> None:
        """gen (test copy)"""

    app.command("pairs")(pairs)
    app.add_typer(review_app, name="review")
    return app


@pytest.fixture(scope="session")
def gen(gen_app):
    """``gen(*args, env=...) -> Result`` (stdout and stderr apart); unexpected exceptions are re-raised."""
    from typer.testing import CliRunner

    def run(*args, env: dict | None = None):
        result = CliRunner().invoke(gen_app, [str(a) for a in args], env=env)
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

    corpus = [m["content"] for row in datasets.load_from_disk(str(plans_dir))["train"] for m in row["messages"]]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama", corpus)
