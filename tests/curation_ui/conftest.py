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
