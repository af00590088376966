"""Write a run's output: the ``DatasetDict`` (train/validation/test) and ``run.json``.

Rows stream from the checkpoint into Arrow files one batch at a time, so memory stays flat however
large the run. Splits are a seeded permutation of the accepted examples;
near-duplicates never reach two splits because the run drops them before acceptance."""

from __future__ import annotations

import json
import random
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import datasets
import pyarrow as pa

from planforge.dataset.disk import quiet_datasets, record_batches, swap_in_dataset
from planforge.dataset.features import PLAN_FEATURES
from planforge.errors import ConfigError
from planforge.generator.checkpoint import Checkpoint

SPLIT_NAMES = ("train", "validation", "test")
BATCH_ROWS = 1000


def parse_splits(text: str) -> dict[str, float]:
    """``"validation=0.05,test=0.05"`` or ``"validation=100,test=100"`` -> shares or counts by split."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in ("validation", "test"):
            raise ConfigError(f"--splits: unknown split {name!r} (give validation=… and test=…; train gets the rest)")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--splits: {part!r} is not NAME=NUMBER") from None
        if out[name] < 0:
            raise ConfigError(f"--splits: {name} must not be negative")
    return out


def split_sizes(total: int, splits: Mapping[str, float]) -> dict[str, int]:
    """Shares (< 1) are of the total; numbers >= 1 are counts. Train gets the rest."""
    sizes = {}
    for name in ("validation", "test"):
        value = splits.get(name, 0.0)
        sizes[name] = int(value) if value >= 1 else round(total * value)
    if sizes["validation"] + sizes["test"] > total:
        scale = total / (sizes["validation"] + sizes["test"])
        sizes = {k: int(v * scale) for k, v in sizes.items()}
    sizes["train"] = total - sizes["validation"] - sizes["test"]
    return {name: sizes[name] for name in SPLIT_NAMES}


def assign_splits(total: int, splits: Mapping[str, float], seed: int) -> dict[str, list[int]]:
    order = list(range(total))
    random.Random(f"{seed}:splits").shuffle(order)
    sizes = split_sizes(total, splits)
    out, start = {}, 0
    for name in ("validation", "test", "train"):
        out[name] = order[start : start + sizes[name]]
        start += sizes[name]
    return {name: out[name] for name in SPLIT_NAMES}


def write_dataset(out: Path, total: int, splits: Mapping[str, float], seed: int) -> dict[str, int]:
    """Build the DatasetDict from the checkpoint in ``out`` and save it there. Returns split sizes.

    Rows are read from the checkpoint in each split's assigned order and streamed as Arrow record batches into a
    file per split, so memory holds one batch at a time however large the run. A split with no rows is left out
    (a 0-row split has no Arrow file and ``load_from_disk`` cannot read it). The new dataset is saved beside the
    old one and swapped in by renames (:func:`planforge.dataset.disk.swap_in_dataset`): a crash never leaves a
    half-written dataset."""
    checkpoint = Checkpoint.in_dir(out)
    offsets = checkpoint.row_offsets()[:total]
    assignment = {name: rows for name, rows in assign_splits(len(offsets), splits, seed).items() if rows}
    staging = out / f".dataset-staging-{uuid.uuid4().hex[:8]}"
    arrow = staging / ".arrow"
    arrow.mkdir(parents=True)
    schema = PLAN_FEATURES.arrow_schema
    parts = {}
    with checkpoint.path.open("rb") as handle:
        for name, indices in assignment.items():
            path = arrow / f"{name}.arrow"
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as stream:
                for start in range(0, len(indices), BATCH_ROWS):
                    rows = []
                    for index in indices[start : start + BATCH_ROWS]:
                        handle.seek(offsets[index])
                        rows.append(json.loads(handle.readline())["row"])
                    for batch in record_batches(rows, PLAN_FEATURES):
                        stream.write_batch(batch)
            parts[name] = datasets.Dataset.from_file(
                str(path), info=datasets.DatasetInfo(features=PLAN_FEATURES), split=name
            )
    sizes = {name: len(part) for name, part in parts.items()}
    try:
        if parts:
            with quiet_datasets():
                datasets.DatasetDict(parts).save_to_disk(str(staging))
        del parts
        shutil.rmtree(arrow)
        swap_in_dataset(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sizes
