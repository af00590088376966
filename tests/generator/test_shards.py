"""Deterministic shards and `gen merge`: N parts of one run, made apart and joined, with no duplicate across
shards, splits drawn from each row's id, and the same rows on every re-run with the same seed and shard count;
and the same through Ray tasks on a local Ray."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import datasets
import pytest
from typer.testing import CliRunner

from planforge.cli import app
from planforge.generator.dedup import jaccard, normalize
from planforge.generator.merge import split_of

pytestmark = pytest.mark.slow

NO_KEY = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
SHARES = {"validation": 0.1, "test": 0.1}


def gen(*args):
    result = CliRunner().invoke(app, [str(a) for a in args], env=NO_KEY)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def make_shards(folder: Path, count: int, n: int = 90, seed: int = 4) -> list[Path]:
    out = []
    for index in range(count):
        shard = folder / f"shard{index}"
        gen("run", "recipe", "mac_assistant", "--out", shard, "-n", n, "--seed", seed, "--shard", f"{index}/{count}",
            "--teacher", "template", "--near-dup-threshold", "0.6")  # fmt: skip
        out.append(shard)
    return out


def rows(folder: Path) -> dict[str, list[dict]]:
    return {name: split.to_list() for name, split in datasets.load_from_disk(str(folder)).items()}


def test_merged_shards_have_no_duplicate_across_shards_and_the_same_rows_every_time(tmp_path):
    shards = make_shards(tmp_path / "first", 3)
    for index, shard in enumerate(shards):
        seqs = [int(json.loads(line)["seq"]) for line in (shard / "checkpoint.jsonl").open() if '"request"' in line]
        assert seqs and all(seq % 3 == index for seq in seqs)  # disjoint parts of one request space
        assert json.loads((shard / "run.json").read_text())["shard"] == [index, 3]
    gen("merge", *shards, "--out", tmp_path / "m", "--splits", "validation=0.1,test=0.1")
    merged = rows(tmp_path / "m")
    everything = [row for split in merged.values() for row in split]
    queries = [row["query"] for row in everything]
    assert len({row["id"] for row in everything}) == len(everything)
    assert len({normalize(q) for q in queries}) == len(queries)
    assert all(jaccard(a, b) < 0.6 for a, b in combinations(queries, 2))  # the run's threshold, across shards
    made = sum(json.loads((s / "run.json").read_text())["accepted"] for s in shards)
    run = json.loads((tmp_path / "m" / "run.json").read_text())
    assert run["accepted"] == len(everything) == made - sum(run["merge"]["duplicates_across_shards"].values())
    for name, split in merged.items():
        assert all(split_of(row["id"], SHARES, 4) == name for row in split)  # the split depends on the id alone
    # the folders in another order, and the whole run made again: the same rows
    gen("merge", *reversed(shards), "--out", tmp_path / "m2", "--splits", "validation=0.1,test=0.1")
    again = make_shards(tmp_path / "second", 3)
    gen("merge", *again, "--out", tmp_path / "m3", "--splits", "validation=0.1,test=0.1")
    assert rows(tmp_path / "m2") == merged == rows(tmp_path / "m3")


def test_merge_refuses_shards_that_do_not_fit(tmp_path):
    a = make_shards(tmp_path / "a", 2, n=10)
    other = tmp_path / "other"
    gen("run", "recipe", "mac_assistant", "--out", other, "-n", 10, "--seed", 9, "--shard", "1/2", "--teacher", "template")
    result = CliRunner().invoke(app, ["merge", str(a[0]), str(other), "--out", str(tmp_path / "m")], env=NO_KEY)
    assert result.exit_code == 2 and "a shard of another run" in result.stderr
    result = CliRunner().invoke(app, ["merge", str(a[0]), str(a[0]), "--out", str(tmp_path / "m")], env=NO_KEY)
    assert result.exit_code == 2 and "are both shard 0/2" in result.stderr


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_ray_path_makes_the_same_dataset_as_shards_merged_by_hand(tmp_path):
    ray = pytest.importorskip("ray")
    from planforge.generator.distributed import RayRun, run_on_ray
    from planforge.generator.job import JobSettings, TeacherOptions

    root = str(Path(__file__).resolve().parents[2])
    ray.init(num_cpus=2, runtime_env={"env_vars": {"PYTHONPATH": root}}, include_dashboard=False, log_to_driver=False)
    try:
        settings = JobSettings(
            recipe="mac_assistant",
            out=tmp_path / "ray",
            num_examples=90,
            seed=4,
            teacher=TeacherOptions(kind="template"),
            splits="validation=0.1,test=0.1",
            near_duplicate_threshold=0.6,
        )
        result = run_on_ray(RayRun(settings, shards=3, address="auto"))
    finally:
        ray.shutdown()
    by_hand = make_shards(tmp_path / "hand", 3)
    gen("merge", *by_hand, "--out", tmp_path / "m", "--splits", "validation=0.1,test=0.1")
    assert rows(tmp_path / "ray") == rows(tmp_path / "m")
    assert result.rows == sum(len(split) for split in rows(tmp_path / "m").values())
