"""run.json: the record the generator writes and publishing reads, one schema for both."""

from __future__ import annotations

from planforge.dataset.provenance import RunRecord
from tests.publishing import fixtures


def test_run_summary_full() -> None:
    ds = fixtures.sft_dataset(30)
    summary = RunRecord.from_dict(fixtures.run_json(ds))
    assert summary.funnel == [("proposed", 60), ("parsed", 52), ("valid", 44), ("accepted", 30)]
    assert summary.requested == 30 and summary.teacher_requests == 14 and summary.failed_requests == 1
    assert summary.responses == 13 and summary.surplus == 0 and summary.stop_reason == "target reached"
    assert summary.acceptance_rate == 0.5 and summary.acceptance_base == "proposed"
    assert abs(summary.validity_rate - 44 / 52) < 1e-9
    assert summary.duplicates_total == 14 and abs(summary.duplicate_rate - 14 / 44) < 1e-9
    assert list(summary.rejected) == ["unknown_function", "bad_reference", "missing_argument", "type_mismatch"]
    assert summary.total_tokens == 224_500
    assert abs(summary.cost_per_accepted - 0.0524 / 30) < 1e-12
    assert summary.argv[0] == "/usr/local/bin/gen" and summary.command[:2] == ["gen", "run"]
    assert summary.recipe["name"] == "mac_assistant" and summary.planforge_version == "0.1.0"
    assert summary.known


def test_run_summary_older_shape() -> None:
    """The keys the issue lists (no nested stats, no proposed count): requested tops the funnel."""
    summary = RunRecord.from_dict({"requested": 60, "responses": 58, "parsed": 52, "valid": 44, "accepted": 30})
    assert summary.funnel == [("requested", 60), ("parsed", 52), ("valid", 44), ("accepted", 30)]
    assert summary.acceptance_rate == 30 / 52 and summary.acceptance_base == "parsed"
    assert RunRecord.from_dict({"argv": ["python", "-m", "planforge", "run"]}).command == ["gen", "run"]
    assert RunRecord.from_dict({"argv": ["gen", "run"]}).command == ["gen", "run"]


def test_run_summary_is_defensive() -> None:
    empty = RunRecord.from_dict({})
    assert empty.funnel == [] and empty.rejected == {} and empty.duplicates == {}
    assert empty.acceptance_rate is None and empty.duplicate_rate is None and empty.cost_per_accepted is None
    assert empty.total_tokens is None and not empty.known
    odd = RunRecord.from_dict(
        {
            "requested": "many",
            "accepted": 5,
            "rejected": [{"code": "syntax", "count": 2}, {"code": "x"}],
            "duplicates": 3,
            "tokens": {"prompt_tokens": 10},
            "cost_usd": float("nan"),
            "recipe": "mac",
            "command": "gen run recipe mac",
            "teacher": 7,
        }
    )
    assert odd.funnel == [("accepted", 5)] and odd.acceptance_rate is None
    assert odd.rejected == {"syntax": 2} and odd.duplicates == {"total": 3}
    assert odd.total_tokens == 10 and odd.cost_usd is None and odd.teacher is None
    assert odd.recipe == {"name": "mac"} and odd.argv == ["gen", "run", "recipe", "mac"]


def test_the_generator_writes_what_publishing_reads(tmp_path) -> None:
    """One schema: run.json from a real (offline) run reads back into the same record, and every field the card
    prints for a run is there."""
    from planforge.generator.job import JobSettings, TeacherOptions, prepare_job, run_job

    job = prepare_job(
        JobSettings("mac_assistant", tmp_path / "run", num_examples=12, teacher=TeacherOptions("template"))
    )
    _, written = run_job(job)
    read = RunRecord.read(tmp_path / "run")
    assert read == written
    assert read.to_dict() == written.to_dict()
    assert read.accepted == 12 and read.funnel[-1] == ("accepted", 12) and read.acceptance_rate
    assert read.sampling["max_targets"] == job.recipe.sampling["max_targets"]
    assert read.validators["rules"] == [r.name for r in job.recipe.rules] and read.validators["require_join"]
    assert read.command is not None and read.recipe["hash"] == job.recipe.content_hash
    assert read.prompt_tokens == 0 and read.teacher == "template" and read.base_url is None


def test_unknown_keys_survive_a_round_trip() -> None:
    record = RunRecord.from_dict({"accepted": 3, "future_field": {"x": 1}})
    assert record.extra == {"future_field": {"x": 1}}
    assert RunRecord.from_dict(record.to_dict()) == record
