"""`gen report`: a self-contained HTML page of charts, rendered for real in headless Chromium."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from planforge.publishing.report import build_report
from planforge.publishing.source import load_source
from tests.publishing import fixtures

pytestmark = pytest.mark.integration

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
APT_HINT = "apt-get install -y chromium chromium-driver"

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def images(page: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB") for b64 in DATA_URI.findall(page)]


def not_blank(image: Image.Image, min_colours: int = 40, min_ink: float = 0.02) -> bool:
    """More than a few colours, and more than a sliver of non-white pixels."""
    small = image.convert("RGB")
    small.thumbnail((640, 640))
    colours = small.getcolors(maxcolors=1 << 20) or []
    ink = sum(count for count, rgb in colours if sum(rgb) < 3 * 245)
    return len(colours) >= min_colours and ink / (small.width * small.height) >= min_ink


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower()
    # nothing fetched from anywhere: every src is a data URI, no stylesheet links, no CSS imports or urls
    assert re.findall(r'\bsrc="(?!data:)', page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page


@pytest.fixture(scope="module")
def sft_page(run_dir: Path) -> str:
    return build_report(load_source(run_dir))


def test_sft_report(sft_page: str) -> None:
    assert_self_contained(sft_page)
    for heading in (
        "Generation funnel",
        "Function frequency",
        "Function co-occurrence",
        "Plan length",
        "DAG depth",
        "Rejections by validator code",
        "Duplicates dropped",
        "Tokens",
        "Sample plan 1",
        "Sample plans",
    ):
        assert f'alt="{heading}"' in sft_page or f">{heading}<" in sft_page, heading
    pictures = images(sft_page)
    assert len(pictures) == 12  # 8 charts and 4 sample DAGs
    assert all(not_blank(p, min_colours=8, min_ink=0.01) for p in pictures)
    # tiles and facts
    for text in (
        "30</b><span>rows",
        "50.0%</b><span>accepted / proposed",
        "$0.0524</b><span>cost",
        "224,500</b><span>tokens",
        "train 20 / validation 5 / test 5",
    ):
        assert text in sft_page, text
    # the sample plans are the deepest first, one per shape; their requests are the captions
    assert "Set up a Zoom call with" in sft_page and "3 calls, depth 3" in sft_page


def test_report_scrubs_secrets(sft_page: str) -> None:
    for secret in fixtures.PLANTED:
        assert secret not in sft_page
    assert "https://[REDACTED]@llm.example.com/v1" in sft_page


def test_pairs_reports(pairs_dir: Path, reviewed_dir: Path) -> None:
    plain = build_report(load_source(pairs_dir), samples=1)
    assert_self_contained(plain)
    assert 'alt="Rejection kinds"' in plain and 'alt="Rejection sources"' in plain
    assert 'alt="Review verdicts"' not in plain
    reviewed = build_report(load_source(reviewed_dir), samples=2)
    assert 'alt="Review verdicts"' in reviewed and 'alt="Reviewer agreement"' in reviewed
    assert 'alt="Reviewers\' error kinds"' in reviewed or "Reviewers&#x27; error kinds" in reviewed
    assert "reviewed preference pairs" in reviewed and "rejected: wrong_function" in reviewed
    assert "0.612</b><span>agreement (krippendorff alpha)" in reviewed
    assert all(not_blank(p, min_colours=8, min_ink=0.01) for p in images(reviewed))


def test_report_without_run_json(run_copy: Path) -> None:
    (run_copy / "run.json").unlink()
    page = build_report(load_source(run_copy), samples=1)
    assert_self_contained(page)
    assert "No generation statistics (run.json) were found" in page
    assert 'alt="Generation funnel"' not in page and 'alt="Function frequency"' in page


def test_report_cli(gen_app, run_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(gen_app, ["report", str(run_copy), "--samples", "1"])
    assert result.exit_code == 0, result.output
    out = run_copy / "report.html"  # the default
    assert f"wrote {out}" in result.output and out.stat().st_size > 50_000
    assert len(images(out.read_text())) == 9  # 8 charts, 1 sample plan
    missing = CliRunner().invoke(gen_app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "error:" in missing.output and "Traceback" not in missing.output


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"headless Chromium is needed to check the report renders: {APT_HINT}")


def test_report_renders_in_headless_chromium(sft_page: str, tmp_path: Path) -> None:
    """Fails (does not skip) without Chromium: CI installs it."""
    browser = chromium()
    page = tmp_path / "report.html"
    page.write_text(sft_page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            "--hide-scrollbars",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert shot.exists(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    assert not_blank(image, min_colours=200, min_ink=0.15)
    # the charts were drawn: the bar colour of the frequency chart is on screen
    colours = {rgb for _, rgb in image.getcolors(maxcolors=1 << 22)}
    assert (0x4C, 0x72, 0xB0) in colours
    # and the lower half (charts, not only the header and tiles) is not empty
    assert not_blank(image.crop((0, 1000, 1280, 2000)), min_colours=100, min_ink=0.1)
