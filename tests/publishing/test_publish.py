"""`gen publish`: the dry run, and uploads to a fake Hub (a local HTTP server at HF_ENDPOINT).

Everything up to the socket is the real code: ``datasets``' ``push_to_hub``, ``huggingface_hub``'s
``HfApi.create_repo`` / ``upload_file`` / ``upload_folder`` and their HTTP client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard
from typer.testing import CliRunner

from planforge.publishing.card import validate_card
from planforge.secrets import REDACTED
from tests.publishing import fixtures
from tests.publishing.conftest import all_bytes, assert_no_secret
from tests.publishing.fake_hub import TOKEN

pytestmark = pytest.mark.integration

REPO = "tester/mac-plans"
SPLITS = ["train", "validation", "test"]


def invoke(app, *args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def source_rows(run_dir: Path) -> dict[str, list[dict]]:
    loaded = datasets.load_from_disk(str(run_dir))
    return {name: loaded[name].to_list() for name in SPLITS}


def scrubbed(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The rows as published: the planted key in one query is redacted, nothing else changes."""
    text = json.dumps(rows).replace(fixtures.OPENAI_KEY, REDACTED)
    return json.loads(text)


# --------------------------------------------------------------------------------------------------
# dry run


def test_dry_run_writes_what_would_be_uploaded(gen_app, run_dir: Path, tmp_path: Path, fake_hub) -> None:
    out = tmp_path / "out"
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--dry-run", str(out))
    assert result.exit_code == 0, result.output
    assert "dry run: wrote 8 files" in result.output and "nothing was uploaded" in result.output
    assert "scrubbed secret-looking values from 1 rows" in result.output
    assert fake_hub.requests == []  # no network at all

    files = all_bytes(out)
    assert sorted(files) == [
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "provenance/recipe/prompt.md",
        "provenance/recipe/recipe.yaml",
        "provenance/recipe/tools.json",
        "provenance/run.json",
    ]  # the binary __pycache__ file is left out
    assert_no_secret(files, "dry run: ")

    loaded = datasets.load_dataset(str(out))
    original = datasets.load_from_disk(str(run_dir))
    assert list(loaded) == SPLITS
    for split in SPLITS:
        assert loaded[split].features == original[split].features
    assert {s: loaded[s].to_list() for s in SPLITS} == scrubbed(source_rows(run_dir))

    readme = files["README.md"].decode()
    assert validate_card(readme, SPLITS) == []
    info = DatasetCard(readme).data.to_dict()["dataset_info"]
    assert info["download_size"] == sum(len(b) for p, b in files.items() if p.endswith(".parquet"))
    run = json.loads(files["provenance/run.json"])
    assert run["api_key"] == REDACTED and run["base_url"].startswith(f"https://{REDACTED}@llm.example.com/v1")
    assert run["argv"][-2:] == ["--api-key", REDACTED] and run["accepted"] == 30
    assert b"sampling:" in files["provenance/recipe/recipe.yaml"]


def test_dry_run_folder_rules(gen_app, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--dry-run", str(out)).exit_code == 0
    # a previous dry run may be overwritten
    assert invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--dry-run", str(out)).exit_code == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--dry-run", str(busy))
    assert result.exit_code == 2 and "not empty" in result.output
    assert (busy / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repo-id", "no-owner"], "--repo-id must look like OWNER/NAME"),
        (["--repo-id", "a/b", "--license", "free-for-all"], "is not a Hugging Face Hub license identifier"),
    ],
)
def test_bad_settings(gen_app, run_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(gen_app, "publish", str(run_dir), *args, "--dry-run", str(tmp_path / "o"))
    assert result.exit_code == 2 and message in result.output


def test_bad_folders(gen_app, tmp_path: Path) -> None:
    result = invoke(gen_app, "publish", str(tmp_path / "missing"), "--repo-id", REPO, "--dry-run", str(tmp_path / "o"))
    assert result.exit_code == 2 and "no such folder" in result.output
    (tmp_path / "empty").mkdir()
    result = invoke(gen_app, "publish", str(tmp_path / "empty"), "--repo-id", REPO, "--dry-run", str(tmp_path / "o"))
    assert result.exit_code == 2 and "no dataset found" in result.output
    odd = tmp_path / "odd"
    datasets.Dataset.from_list([{"text": "hi", "label": 1}]).save_to_disk(str(odd))
    result = invoke(gen_app, "publish", str(odd), "--repo-id", REPO, "--dry-run", str(tmp_path / "o"))
    assert result.exit_code == 2 and "unknown dataset columns" in result.output


@pytest.mark.parametrize("folder", ["pairs_dir", "reviewed_dir"])
def test_pairs_dry_run(gen_app, folder: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    source = request.getfixturevalue(folder)
    out = tmp_path / "out"
    result = invoke(gen_app, "publish", str(source), "--repo-id", "tester/pairs", "--dry-run", str(out))
    assert result.exit_code == 0, result.output
    loaded = datasets.load_dataset(str(out))
    original = datasets.load_from_disk(str(source))
    assert {s: loaded[s].to_list() for s in loaded} == {s: original[s].to_list() for s in original}
    assert loaded["train"].features == original["train"].features
    card = (out / "README.md").read_text()
    assert validate_card(card, ["train", "test"]) == [] and "preference pairs" in card
    sidecar = "review_report.json" if folder == "reviewed_dir" else "pairs.json"
    assert sorted(p.name for p in (out / "provenance").iterdir()) == [sidecar]
    assert_no_secret(all_bytes(out), "pairs dry run: ")  # pairs.json names the student's endpoint


def test_missing_run_json(gen_app, run_copy: Path, tmp_path: Path) -> None:
    (run_copy / "run.json").unlink()
    out = tmp_path / "out"
    result = invoke(gen_app, "publish", str(run_copy), "--repo-id", REPO, "--dry-run", str(out))
    assert result.exit_code == 0, result.output
    assert "note: no run.json" in result.output
    readme = (out / "README.md").read_text()
    assert "No `run.json` was found" in readme and validate_card(readme, SPLITS) == []
    assert not (out / "provenance" / "run.json").exists()


def test_republish_a_parquet_folder(gen_app, pairs_dir: Path, tmp_path: Path) -> None:
    """A folder of parquet files (a dry run's, or a dataset downloaded from the Hub) is a source too."""
    first, second = tmp_path / "first", tmp_path / "second"
    assert invoke(gen_app, "publish", str(pairs_dir), "--repo-id", "a/b", "--dry-run", str(first)).exit_code == 0
    result = invoke(gen_app, "publish", str(first), "--repo-id", "a/b", "--dry-run", str(second))
    assert result.exit_code == 0, result.output
    original = datasets.load_from_disk(str(pairs_dir))
    again = datasets.load_dataset(str(second))
    assert {s: again[s].to_list() for s in again} == {s: original[s].to_list() for s in original}


def test_secrets_in_options_are_scrubbed(gen_app, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    name = f"Mac plans (key {fixtures.OPENAI_KEY})"
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--pretty-name", name, "--dry-run", str(out))
    assert result.exit_code == 0, result.output
    assert_no_secret(all_bytes(out), "dry run: ")
    assert DatasetCard((out / "README.md").read_text()).data.pretty_name == f"Mac plans (key {REDACTED})"


def test_changed_recipe_is_noted(gen_app, run_copy: Path, tmp_path: Path) -> None:
    (run_copy / "recipe" / "prompt.md").write_text("edited after the run\n")
    result = invoke(gen_app, "publish", str(run_copy), "--repo-id", REPO, "--dry-run", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "changed since the run (its hash differs from run.json's)" in result.output


def test_recipe_license_and_language_are_the_defaults(gen_app, run_copy: Path, tmp_path: Path) -> None:
    recipe = run_copy / "recipe" / "recipe.yaml"
    recipe.write_text(
        recipe.read_text()
        .replace("license: apache-2.0", "license: cc-by-4.0")
        .replace("language: en", "language: [en, de]")
    )
    out = tmp_path / "o"
    assert invoke(gen_app, "publish", str(run_copy), "--repo-id", REPO, "--dry-run", str(out)).exit_code == 0
    meta = DatasetCard((out / "README.md").read_text()).data.to_dict()
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["en", "de"]
    out2 = tmp_path / "o2"
    args = ["--license", "mit", "--language", "fr"]
    assert invoke(gen_app, "publish", str(run_copy), "--repo-id", REPO, *args, "--dry-run", str(out2)).exit_code == 0
    meta = DatasetCard((out2 / "README.md").read_text()).data.to_dict()
    assert meta["license"] == "mit" and meta["language"] == ["fr"]
    recipe.write_text(recipe.read_text().replace("license: cc-by-4.0", "license: made-up"))
    result = invoke(gen_app, "publish", str(run_copy), "--repo-id", REPO, "--dry-run", str(tmp_path / "o3"))
    assert result.exit_code == 2 and "the recipe's license 'made-up' is not a Hugging Face Hub license" in result.output


# --------------------------------------------------------------------------------------------------
# upload


def hub_files(fake_hub, repo: str = REPO) -> dict[str, bytes]:
    return dict(fake_hub.repos[repo].files)


def test_upload(gen_app, run_dir: Path, tmp_path: Path, fake_hub) -> None:
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--private")
    assert result.exit_code == 0, result.output
    assert f"published {REPO} (train 20, validation 5, test 5)" in result.output
    repo = fake_hub.repos[REPO]
    assert repo.private
    files = hub_files(fake_hub)

    # exactly what the dry run writes: same card, same provenance, same parquet bytes
    out = tmp_path / "dry"
    assert invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--dry-run", str(out)).exit_code == 0
    dry = all_bytes(out)
    assert sorted(files) == sorted([*dry, ".gitattributes"])
    for path, content in dry.items():
        assert files[path] == content, path

    # the rows on the Hub are the dataset's rows
    for split in SPLITS:
        parquet = tmp_path / f"{split}.parquet"
        parquet.write_bytes(files[f"data/{split}-00000-of-00001.parquet"])
        assert b"huggingface" in pq.read_schema(parquet).metadata  # the features travel with the data
        assert datasets.Dataset.from_parquet(str(parquet)).to_list() == scrubbed(source_rows(run_dir))[split]
    card = DatasetCard(files["README.md"].decode())
    assert card.data.to_dict()["configs"][0]["data_files"][2] == {"split": "test", "path": "data/test-*"}

    # splits with datasets' push_to_hub, then the card, then the provenance files
    assert repo.commit_messages == [
        "initial commit",
        "Upload train split (20 rows)",
        "Upload validation split (5 rows)",
        "Upload test split (5 rows)",
        "Dataset card",
        "Provenance: recipe, run.json",
    ]
    assert fake_hub.calls("POST", r"/validate-yaml$")  # the Hub validated the card's YAML
    # every request carried the token, and no secret travelled in any request body
    assert set(fake_hub.auth_headers) <= {f"Bearer {TOKEN}", None}
    assert_no_secret(fake_hub.bodies, "request body ")


def test_token_from_login(gen_app, run_dir: Path, fake_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hub_constants

    monkeypatch.delenv("HF_TOKEN")
    token_file = Path(hub_constants.HF_TOKEN_PATH)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(TOKEN)  # what `hf auth login` stores
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO)
    assert result.exit_code == 0, result.output
    assert "README.md" in fake_hub.repos[REPO].files


def test_no_token_fails_before_any_upload(gen_app, run_dir: Path, fake_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO)
    assert result.exit_code == 2
    assert "no Hugging Face token: set HF_TOKEN or run `hf auth login`" in result.output
    assert fake_hub.requests == []


def test_rejected_token(gen_app, run_dir: Path, fake_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_WrongTokenWrongTokenWrongToken00")
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--retry-wait", "0")
    assert result.exit_code == 2
    assert "checking the Hugging Face token failed: HTTP 401" in result.output
    assert "uploaded: nothing; not uploaded: train, validation, test, README.md, provenance" in result.output
    assert "hf_WrongToken" not in result.output
    assert fake_hub.repos == {} and len(fake_hub.calls("GET", "whoami")) == 1  # a 401 is not retried


def test_transient_failures_are_retried(gen_app, run_dir: Path, fake_hub) -> None:
    fake_hub.fail("GET", r"/api/whoami-v2$", status=503)  # our retry (tenacity)
    fake_hub.fail("POST", r"/api/repos/create$", status=429)
    fake_hub.fail("POST", r"/commit/main$", status=None, after=1)  # connection dropped: a network failure
    fake_hub.fail("POST", r"/commit/main$", status=502, after=3)
    fake_hub.fail("PUT", r"^/lfs-store/", status=500)  # huggingface_hub's own http_backoff retries this one
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--retry-wait", "0.01")
    assert result.exit_code == 0, result.output
    assert result.output.count("retrying in") == 4, result.output
    assert "checking the Hugging Face token: HTTP 503" in result.output
    assert "RemoteProtocolError" in result.output
    assert sorted(hub_files(fake_hub)) == [
        ".gitattributes",
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "provenance/recipe/prompt.md",
        "provenance/recipe/recipe.yaml",
        "provenance/recipe/tools.json",
        "provenance/run.json",
    ]
    assert [r[2] for r in fake_hub.calls("PUT", "^/lfs-store/")][:2] == [500, 200]


def test_permanent_failure_says_what_was_uploaded(gen_app, run_dir: Path, fake_hub) -> None:
    # the first two split commits go through, then every commit fails
    fake_hub.fail("POST", r"/commit/main$", status=503, times=None, after=2)
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--retries", "3", "--retry-wait", "0.01")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: uploading split test to tester/mac-plans failed after 3 attempts: HTTP 503")
    assert last.endswith("uploaded: train, validation; not uploaded: test, README.md, provenance")
    assert result.output.count("retrying in") == 2
    assert len(fake_hub.calls("POST", r"/commit/main$")) == 2 + 3
    files = hub_files(fake_hub)
    assert "data/validation-00000-of-00001.parquet" in files and "data/test-00000-of-00001.parquet" not in files
    assert not any(p.startswith("provenance/") for p in files)


def test_client_errors_are_not_retried(gen_app, run_dir: Path, fake_hub) -> None:
    fake_hub.fail("POST", r"/commit/main$", status=403, times=None)
    result = invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO, "--retry-wait", "0.01")
    assert result.exit_code == 2  # a permission problem, nothing uploaded: fix the settings
    assert "uploading split train to tester/mac-plans failed: HTTP 403" in result.output
    assert "check that the token may write to this namespace" in result.output
    assert "uploaded: nothing; not uploaded: train, validation, test, README.md, provenance" in result.output
    assert len(fake_hub.calls("POST", r"/commit/main$")) == 1


def test_republish_and_pairs_upload(gen_app, run_dir: Path, reviewed_dir: Path, fake_hub) -> None:
    assert invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO).exit_code == 0
    first = hub_files(fake_hub)
    assert invoke(gen_app, "publish", str(run_dir), "--repo-id", REPO).exit_code == 0
    assert hub_files(fake_hub) == first  # idempotent: same files, same bytes
    result = invoke(gen_app, "publish", str(reviewed_dir), "--repo-id", "tester/pairs")
    assert result.exit_code == 0, result.output
    files = hub_files(fake_hub, "tester/pairs")
    assert sorted(files) == [
        ".gitattributes",
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "provenance/review_report.json",
    ]
    assert "human-feedback" in files["README.md"].decode()


def test_cli_subprocess_reads_hf_endpoint(run_dir: Path, fake_hub, tmp_path: Path) -> None:
    """The real process environment: HF_ENDPOINT and HF_HUB_DISABLE_XET are read at import, as in use."""
    script = "from planforge.cli import app\napp()\n"
    env = {
        **os.environ,
        "HF_ENDPOINT": fake_hub.url,
        "HF_TOKEN": TOKEN,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", script, "publish", str(run_dir), "--repo-id", "tester/sub"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    assert "published tester/sub" in proc.stderr
    assert "README.md" in fake_hub.repos["tester/sub"].files
    assert_no_secret({"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode()}, "CLI output ")
