"""Write a run's output: the ``DatasetDict`` (train/validation/test) and ``run.json``.

Rows stream from the checkpoint into Arrow files one batch at a time, so memory stays flat however
large the run. Splits are a seeded permutation of the accepted examples;
near-duplicates never reach two splits because the run drops them before acceptance."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import datasets
import pyarrow as pa

from planforge.dataset.disk import quiet_datasets, record_batches, swap_in_dataset
from planforge.dataset.features import PLAN_FEATURES
from planforge.dataset.splits import assign_splits
from planforge.generator.checkpoint import Checkpoint

BATCH_ROWS = 1000


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
