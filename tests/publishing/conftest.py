"""Fixtures for the publishing tests: dataset folders on disk and a fake Hub at the network boundary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer

from tests.publishing import fixtures
from tests.publishing.fake_hub import TOKEN, FakeHub

SECRET_ENV = {"ACME_LLM_API_KEY": fixtures.ENV_SECRET}


@pytest.fixture(autouse=True)
def _quiet_and_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in the environment (its value is planted in the data) and no progress bars."""
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import datasets

    datasets.disable_progress_bars()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `gen run` folder: 30 rows in train/validation/test, run.json, recipe/; secrets planted in the
    data (row 21's query, a validation row), run.json (api_key, base_url, argv) and the recipe files."""
    out = tmp_path_factory.mktemp("run") / "mac"
    return fixtures.write_run(out, 30, plant_secret_in=21)


@pytest.fixture
def run_copy(run_dir: Path, tmp_path: Path) -> Path:
    """A private copy of ``run_dir`` a test may change."""
    return Path(shutil.copytree(run_dir, tmp_path / "mac"))


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixtures.write_pairs(tmp_path_factory.mktemp("pairs") / "pairs", 12)


@pytest.fixture(scope="session")
def reviewed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixtures.write_pairs(tmp_path_factory.mktemp("reviewed") / "reviewed", 12, reviewed=True)


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A local HTTP imitation of the Hub, with ``HF_ENDPOINT`` pointing at it and ``HF_TOKEN`` set.

    ``huggingface_hub`` and ``datasets`` read ``HF_ENDPOINT`` when they are imported, so the module
    constants derived from it are set too (``test_cli_subprocess_reads_hf_endpoint`` runs the CLI in a
    fresh process with only the environment variable). Xet is turned off (``HF_HUB_DISABLE_XET``) so uploads
    speak git-LFS to the fake; the stored-login token file points to a file that does not exist."""
    import datasets.config
    import huggingface_hub.constants as hub_constants

    with FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr(hub_constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(
            hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        monkeypatch.setattr(hub_constants, "HF_URL_HOSTS", hub_constants.HF_URL_HOSTS | {"127.0.0.1"})
        monkeypatch.setattr(datasets.config, "HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        monkeypatch.setattr(hub_constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setattr(hub_constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
        monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
        monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        yield hub


@pytest.fixture(scope="session")
def gen_app() -> typer.Typer:
    """The real ``gen`` app (publish and report are registered on it by planforge/cli.py)."""
    from planforge.cli import app

    return app


def all_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_no_secret(blobs: dict[str, bytes] | list[bytes], where: str = "") -> None:
    items = blobs.items() if isinstance(blobs, dict) else enumerate(blobs)
    for name, data in items:
        for secret in (*fixtures.PLANTED, TOKEN):
            assert secret.encode() not in data, f"{secret!r} leaked into {where}{name}"
