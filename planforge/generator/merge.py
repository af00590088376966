"""``gen merge``: the shards of one run (``gen run --shard I/N``, on any machines) joined into one dataset.

The shards' accepted examples are read in global request order (whatever order the folders are given in), so
which of two near-duplicates from different shards is kept never depends on how the shards were made or
listed; exact and near duplicates are removed across all of them with the run's threshold, and each row's
split is drawn from a hash of its id and the seed alone, so a row lands in the same split on every re-run and
in every merge that keeps it."""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge import __version__
from planforge.dataset.disk import OutputLock, finish_swap
from planforge.dataset.provenance import RunRecord
from planforge.dataset.rows import RowBuilder
from planforge.dataset.splits import SPLIT_NAMES
from planforge.errors import ConfigError, OutputError
from planforge.generator.checkpoint import Checkpoint, RequestRecord
from planforge.generator.dedup import Deduplicator, fingerprints
from planforge.generator.writer import write_rows

#: fingerprint keys that differ between the shards of one run
_PER_SHARD = ("shard",)


@dataclass
class MergeConfig:
    shards: list[Path]
    out: Path
    splits: Mapping[str, float] = field(default_factory=lambda: {"validation": 0.05, "test": 0.05})
    seed: int | None = None  # default: the run's seed
    near_duplicate_threshold: float | None = None  # default: the run's
    overwrite: bool = False


@dataclass
class MergeResult:
    rows: int
    splits: dict[str, int]
    duplicates: dict[str, int]
    shards: list[dict[str, Any]]


def split_of(example_id: str, shares: Mapping[str, float], seed: int) -> str:
    """A row's split from its id and the seed alone: a hash in [0, 1) against the shares."""
    point = int(hashlib.sha256(f"{seed}:{example_id}".encode()).hexdigest()[:16], 16) / 2**64
    for name in ("validation", "test"):
        share = float(shares.get(name, 0.0))
        if point < share:
            return name
        point -= share
    return "train"


def _headers(shards: list[Path]) -> list[dict[str, Any]]:
    """Each shard's checkpoint header, checked to be parts of one run that fit together."""
    headers = []
    for folder in shards:
        checkpoint = Checkpoint.in_dir(folder)
        if not checkpoint.exists():
            raise ConfigError(f"{folder}: no checkpoint.jsonl (not a gen run output folder)")
        headers.append(checkpoint.header())
    first = headers[0]["fingerprint"]
    run = {k: v for k, v in first.items() if k not in _PER_SHARD}
    seen: dict[tuple[int, int], Path] = {}
    for folder, header in zip(shards, headers, strict=True):
        found = header["fingerprint"]
        if {k: v for k, v in found.items() if k not in _PER_SHARD} != run:
            raise ConfigError(f"{folder}: a shard of another run (recipe, teacher, model, seed or sampling differ)")
        shard = tuple(found.get("shard") or (0, 1))
        if shard[1] != tuple(first.get("shard") or (0, 1))[1]:
            raise ConfigError(f"{folder}: shard {shard[0]}/{shard[1]}, but the first folder is of another count")
        if shard in seen:
            raise ConfigError(f"{folder} and {seen[shard]} are both shard {shard[0]}/{shard[1]}")
        seen[shard] = folder  # type: ignore[index]
    return headers


def _in_order(shards: list[Path]) -> Iterator[RequestRecord]:
    """Every shard's requests merged by global request number."""
    streams = [Checkpoint.in_dir(folder).requests() for folder in shards]
    yield from heapq.merge(*streams, key=lambda r: r.seq)


def merge_shards(config: MergeConfig) -> MergeResult:
    """Join the shards into ``config.out``: a DatasetDict and ``run.json``."""
    if not config.shards:
        raise ConfigError("gen merge needs at least one shard folder")
    if any(value >= 1 for value in config.splits.values()):
        raise ConfigError(
            "gen merge takes split shares (validation=0.05,test=0.05): a row's split is drawn from its id"
        )
    out = config.out
    if any(Path(s).resolve() == out.resolve() for s in config.shards):
        raise OutputError(f"--out {out} is one of the shards: write the merge elsewhere")
    if out.is_dir() and any(out.iterdir()) and not config.overwrite:
        raise OutputError(f"{out} is not empty: pass --overwrite to replace what is there")
    headers = _headers(config.shards)
    run = headers[0]["fingerprint"]
    seed = config.seed if config.seed is not None else int(run.get("seed") or 0)
    threshold = config.near_duplicate_threshold
    threshold = float(run.get("near_duplicate_threshold", 0.85)) if threshold is None else threshold
    builder = RowBuilder.from_meta(headers[0]["rows"])
    dedup = Deduplicator(threshold)
    duplicates: Counter[str] = Counter()
    totals: Counter[str] = Counter()

    def labelled() -> Iterator[tuple[str, dict[str, Any]]]:
        for request in _in_order(config.shards):
            for key, value in request.counters.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    totals[key] += value
            found = fingerprints([record[1] for record in request.examples])
            for record, fingerprint in zip(request.examples, found, strict=True):
                check = dedup.check(fingerprint)
                if check.kind is not None:
                    duplicates[check.kind] += 1
                    continue
                dedup.add(check)
                row = builder.row(record, request.offered, request.now, request.request_id, encoded=True)
                yield split_of(record[0], config.splits, seed), row

    with OutputLock(out):
        finish_swap(out)
        sizes = write_rows(out, labelled())
        shards = [
            {"path": str(folder), "shard": header["fingerprint"].get("shard")}
            for folder, header in zip(config.shards, headers, strict=True)
        ]
        RunRecord(
            planforge_version=__version__,
            proposed=int(totals["proposed"]),
            parsed=int(totals["parsed"]),
            valid=int(totals["valid"]),
            accepted=sum(sizes.values()),
            responses=int(totals["responses"]),
            teacher_requests=int(totals["requests"]),
            failed_requests=int(totals["failed_requests"]),
            duplicates={
                "exact": int(totals["duplicates_exact"]) + duplicates["exact"],
                "near": int(totals["duplicates_near"]) + duplicates["near"],
            },
            prompt_tokens=int(totals["prompt_tokens"]),
            completion_tokens=int(totals["completion_tokens"]),
            cost_usd=round(float(totals["cost_usd"]), 6),
            teacher=builder.teacher,
            model=builder.model,
            recipe={"name": headers[0]["recipe"], "hash": run.get("recipe_hash")},
            seed=seed,
            splits={name: sizes[name] for name in SPLIT_NAMES if name in sizes},
            split_settings=dict(config.splits),
            sampling=run.get("sampling"),
            near_duplicate_threshold=threshold,
            stop_reason="merged",
            stats=dict(totals),
            extra={"merge": {"shards": shards, "duplicates_across_shards": dict(duplicates)}},
        ).write(out)
    return MergeResult(sum(sizes.values()), sizes, dict(duplicates), shards)
