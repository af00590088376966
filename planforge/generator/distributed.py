"""``gen run --ray ADDRESS``: a run's shards as Ray tasks on an existing cluster, then merged here.

Ray schedules, places and retries the tasks; planforge only cuts the run into deterministic shards
(:mod:`.shards`) and joins what they return (:mod:`.merge`). Each task makes its shard in a scratch folder on
its node and returns the shard's checkpoint (about a kilobyte per example), so no shared filesystem is needed;
the driver writes the checkpoints under ``OUT/shards/`` and merges them into ``OUT``. Ray is the optional
``ray`` extra."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planforge.dataset.splits import parse_splits
from planforge.errors import ConfigError, MissingExtraError
from planforge.generator.checkpoint import CHECKPOINT_NAME
from planforge.generator.job import JobSettings, check_settings
from planforge.generator.merge import MergeConfig, MergeResult, merge_shards


@dataclass
class RayRun:
    settings: JobSettings  # the whole run (its -n is split across the shards)
    shards: int = 2
    address: str = "auto"  # "auto" (RAY_ADDRESS or a cluster on this machine), ray://HOST:PORT, or "local"


def make_shard(settings: JobSettings) -> bytes:
    """One shard, made in a scratch folder (runs inside a Ray task): its checkpoint's bytes."""
    import asyncio

    from planforge.generator.job import prepare_job
    from planforge.generator.run import generate

    with tempfile.TemporaryDirectory(prefix="planforge-shard-") as scratch:
        job = prepare_job(dataclasses.replace(settings, out=Path(scratch) / "shard", overwrite=False, resume=False))

        async def main() -> None:
            try:
                await generate(job.config, job.teacher)
            finally:
                await job.teacher.aclose()

        asyncio.run(main())
        return (Path(scratch) / "shard" / CHECKPOINT_NAME).read_bytes()


def run_on_ray(run: RayRun) -> MergeResult:
    """Make the shards as Ray tasks (one CPU each) and merge them into ``settings.out``."""
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError("ray", "gen run --ray", exc.name or "ray") from None
    settings = run.settings
    check_settings(settings)
    if settings.shard or settings.resume:
        raise ConfigError("--ray makes every shard itself: leave out --shard and --resume")
    if settings.splits and any(float(v) >= 1 for v in parse_splits(settings.splits).values()):
        raise ConfigError("--ray merges by shares (validation=0.05,test=0.05): a row's split is drawn from its id")
    if not ray.is_initialized():
        import planforge

        source = str(Path(planforge.__file__).resolve().parents[1])  # the planforge the tasks must import
        address = None if run.address == "local" else run.address
        ray.init(address=address, runtime_env={"env_vars": {"PYTHONPATH": source}}, log_to_driver=False)
    task = ray.remote(num_cpus=1)(make_shard)
    parts = [dataclasses.replace(settings, shard=f"{i}/{run.shards}", workers=0) for i in range(run.shards)]
    checkpoints = ray.get([task.remote(part) for part in parts])
    folders = []
    for index, content in enumerate(checkpoints):
        folder = settings.out / "shards" / f"{index:04d}-of-{run.shards:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CHECKPOINT_NAME).write_bytes(content)
        folders.append(folder)
    splits = parse_splits(settings.splits) if settings.splits else {"validation": 0.05, "test": 0.05}
    return merge_shards(MergeConfig(folders, settings.out, splits, seed=settings.seed, overwrite=True))
