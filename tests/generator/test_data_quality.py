"""The template data's quality targets, on the default run the figures are quoted for: `gen run recipe
mac_assistant -n 3000`, seed 0 (see benchmarks/data_quality.py for how each figure is defined)."""

import os
import subprocess
import sys

import pytest

from benchmarks.data_quality import attaches_only, distinct_ngram_ratio, distinct_openings, quality
from planforge.plan import parse_plan

pytestmark = pytest.mark.slow

ENV = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality") / "mac"
    result = subprocess.run(
        [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), "-n", "3000"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return quality(out)


def test_the_measures_on_hand_made_requests():
    assert distinct_ngram_ratio(["a b c d", "a b c e"]) == pytest.approx(3 / 4)
    assert distinct_openings(["Text Sid now, please", "text sid now!", "Email Maya"]) == pytest.approx(2 / 3)
    attach = '1. open_and_get_file_path("slides")\n2. compose_new_email(["s@x.io"], [], "", "", ["$1"])\n3. join()'
    summary = '1. open_and_get_file_path("slides")\n2. summarize_pdf("$1")\n3. join()'
    assert attaches_only(parse_plan(attach)) and not attaches_only(parse_plan(summary))


def test_attachments_are_mostly_asked_for_as_people_do(report):
    """ "email Sid the slides", not "find the slides, then email them to Sid": the lookup implied"""
    assert report["attaching"] > 100 and report["attachment_implied"] >= 0.7


def test_phrasing_is_varied(report):
    assert report["distinct3_mean"] >= 0.85 and report["distinct3_min"] >= 0.85  # every sample, not just on average
    assert report["openings_mean"] >= 0.6 and report["openings_min"] >= 0.6
    assert report["top_opening_share"] <= 0.03


def test_structures_are_covered(report):
    assert 0.04 <= report["no_call_share"] <= 0.06  # mac_assistant's sampling.no_call_share: 0.05
    assert 0.2 <= report["single_call"] <= 0.35
    assert report["parallel"] >= 0.2
    assert report["fan_in_3"] > 0.05
    assert set(report["lengths"]) == set(range(1, 9))
    assert len(report["functions"]) == 16
    assert report["pairs_missing"] == [] and report["pairs_seen"] == report["pairs_feasible"]
    assert report["structures"] >= 1500  # each example has its own shape: far more than the 600 requests


def test_texts_look_their_recipients_up(report):
    looked_up = report["send_sms"] - report["sms_to_written_numbers_only"]
    assert report["sms_looked_up"] == looked_up
    assert looked_up <= report["get_phone_number"] <= looked_up + 0.05 * report["examples"]  # + numbers sent on
    assert report["sms_to_written_numbers_only"] < 0.2 * report["send_sms"]
