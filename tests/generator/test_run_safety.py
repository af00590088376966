"""`gen run` and its output folder: one writer, resume only what is yours, --overwrite, atomic rewrites, small
datasets, and settings that say what they do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import datasets
import pytest
from typer.testing import CliRunner

from planforge.cli import app
from planforge.dataset.disk import OutputLock, finish_swap, load_saved_dataset, save_dataset, swap_in_dataset
from planforge.errors import DatasetError, OutputError

pytestmark = pytest.mark.slow

NO_KEY = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}


def gen(*args, env: dict | None = None):
    result = CliRunner().invoke(app, [str(a) for a in args], env={**NO_KEY, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def run(out: Path, *args):
    return gen("run", "recipe", "mac_assistant", "--out", out, "--teacher", "template", "--no-cache", *args)


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.output
    return " ".join(result.stderr.split())


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "run"
    with OutputLock(out):
        message = one_line_error(run(out, "-n", "5"))
    assert f"being written by another planforge process (PID {os.getpid()})" in message
    assert run(out, "-n", "5").exit_code == 0  # released: the folder is usable again


def test_resume_refuses_another_runs_checkpoint_and_says_what_differs(tmp_path):
    out = tmp_path / "run"
    assert run(out, "-n", "10", "--seed", "11").exit_code == 0
    message = one_line_error(run(out, "-n", "20", "--seed", "12", "--resume"))
    assert "--resume refused" in message and "seed 11, now 12" in message
    assert len(load_saved_dataset(out)["train"]) + 0 > 0  # the seed-11 dataset is untouched


def test_an_existing_run_needs_resume_or_overwrite(tmp_path):
    out = tmp_path / "run"
    assert run(out, "-n", "10", "--seed", "1").exit_code == 0
    first = sorted(r["id"] for split in load_saved_dataset(out).values() for r in split)
    assert "already holds a run: pass --resume to continue it or --overwrite" in one_line_error(run(out, "-n", "10"))
    assert "pass one of them" in one_line_error(run(out, "-n", "10", "--resume", "--overwrite"))
    assert run(out, "-n", "10", "--seed", "2", "--overwrite").exit_code == 0
    second = sorted(r["id"] for split in load_saved_dataset(out).values() for r in split)
    assert second != first and len(second) == 10
    assert not list(out.glob(".dataset-*")) and not (out / ".dataset-swap.json").exists()


def test_out_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in one_line_error(run(tmp_path / "file", "-n", "5"))


def _dataset(n: int, tag: str) -> datasets.DatasetDict:
    return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"id": [f"{tag}{i}" for i in range(n)]})})


@pytest.mark.parametrize("renames_before_crash", [0, 1, 2, 3])  # old entries out (2), new ones in (2)
def test_a_crash_during_a_rewrite_keeps_a_dataset_and_recovers(tmp_path, monkeypatch, renames_before_crash):
    """Kill the swap after any number of renames: both copies stay complete and the next reader finishes it."""
    out = tmp_path / "run"
    save_dataset(_dataset(3, "old"), out)
    (out / "checkpoint.jsonl").write_text("kept\n")
    staged = out / ".dataset-staging-test"
    save_dataset(_dataset(5, "new"), staged)
    real_rename = Path.rename
    done = [0]

    def crashing_rename(self, target):
        if done[0] == renames_before_crash:
            raise KeyboardInterrupt("killed")
        done[0] += 1
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", crashing_rename)
    with pytest.raises(KeyboardInterrupt):
        swap_in_dataset(staged, out)
    monkeypatch.setattr(Path, "rename", real_rename)
    loaded = load_saved_dataset(out)  # finishes the swap
    assert loaded["train"]["id"] == [f"new{i}" for i in range(5)]
    assert (out / "checkpoint.jsonl").read_text() == "kept\n"
    assert not list(out.glob(".dataset-*")) and not (out / ".dataset-swap.json").exists()
    finish_swap(out)  # idempotent


def test_small_runs_leave_out_empty_splits_and_load(tmp_path):
    out = tmp_path / "run"
    result = run(out, "-n", "3")
    assert result.exit_code == 0, result.output
    loaded = datasets.load_from_disk(str(out))
    assert list(loaded) == ["train"] and len(loaded["train"]) == 3
    assert json.loads((out / "run.json").read_text())["splits"] == {"train": 3}


def test_empty_or_missing_datasets_are_one_line_for_every_command(tmp_path):
    empty = tmp_path / "empty"
    save_dataset(datasets.DatasetDict({"train": datasets.Dataset.from_dict({"id": ["x"]}).select([])}), empty)
    with pytest.raises(DatasetError, match="not a dataset saved with save_to_disk|has no rows"):
        load_saved_dataset(empty)
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "run.json").write_text("{}")
    with pytest.raises(DatasetError, match="the run wrote no dataset"):
        load_saved_dataset(nothing)
    for command in (["pairs", nothing, "--out", tmp_path / "p", "--rejected", "corruptions"], ["report", nothing]):
        one_line_error(gen(*command))


def test_an_explicit_model_or_cost_cap_without_a_key_is_an_error_not_template_data(tmp_path):
    args = ["run", "recipe", "mac_assistant", "-n", "5", "--no-cache"]
    for extra in (["--model", "gpt-4o"], ["--max-cost", "5"], ["--teacher", "openai"]):
        message = one_line_error(gen(*args, "--out", tmp_path / "x", *extra))
        assert "no API key: set OPENAI_API_KEY" in message
    assert not (tmp_path / "x").exists()


def test_dry_run_of_the_openai_teacher_needs_no_key(tmp_path):
    result = gen("run", "recipe", "mac_assistant", "--out", tmp_path / "d", "--teacher", "openai", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "gpt-4o-mini" in result.stderr and "dry run: about" in result.stderr
    assert "You write training data" in result.stdout and not (tmp_path / "d").exists()


def test_auto_says_it_fell_back_to_the_template_teacher(tmp_path):
    result = gen("run", "recipe", "mac_assistant", "--out", tmp_path / "d", "-n", "5", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "teacher: offline template teacher (no endpoint or API key set)" in result.stderr
    summary = result.stderr.split("run summary")[1]  # said again in the summary
    assert "(offline template teacher)" in summary and "auto: no endpoint or API key set" in summary
    assert json.loads((tmp_path / "d" / "run.json").read_text())["teacher"] == "template"


def test_output_lock_is_an_output_error(tmp_path):
    with OutputLock(tmp_path), pytest.raises(OutputError, match="PID"):
        OutputLock(tmp_path).acquire()


def test_a_bug_while_assessing_a_reply_stops_the_run_with_exit_3_not_a_hang(tmp_path, monkeypatch):
    from planforge.generator.assess import Assessor

    def broken(self, request, reply):
        raise RuntimeError("assessment broke")

    monkeypatch.setattr(Assessor, "assess", broken)
    result = run(tmp_path / "run", "-n", "5", "--workers", "0")
    assert result.exit_code == 3, result.output
    assert "internal error, please report: RuntimeError: assessment broke" in " ".join(result.stderr.split())
