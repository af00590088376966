"""The one error handler of every command: user errors exit 2, a missing extra names itself, bugs exit 3."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from planforge.cli import app

pytestmark = pytest.mark.unit


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, plans_dir, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if `pip install planforge` without [publish]
    monkeypatch.delitem(sys.modules, "planforge.publishing.report", raising=False)
    result = invoke("report", plans_dir, "--out", tmp_path / "r.html")
    assert result.exit_code == 2, result.output
    assert "needs the publish extra" in result.stderr and "pip install 'planforge[publish]'" in result.stderr
    assert "Traceback" not in result.output


def test_a_bug_is_an_internal_error_exit_3(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("something planforge did wrong")

    monkeypatch.setattr("planforge.generator.job.prepare_job", broken)
    result = invoke("run", "recipe", "mac_assistant", "--out", tmp_path / "x", "--teacher", "template")
    assert result.exit_code == 3
    assert "internal error, please report: RuntimeError: something planforge did wrong" in result.stderr
    assert "Traceback" not in result.output


def test_a_user_error_is_exit_2_and_one_line(tmp_path):
    result = invoke("run", "recipe", tmp_path / "no-such-recipe", "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "no such recipe folder" in result.stderr


def test_version(gen):
    from planforge import __version__

    result = gen("--version")
    assert result.exit_code == 0 and result.stdout == f"planforge {__version__}\n"
