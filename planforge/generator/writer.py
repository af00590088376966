"""Write a run's output: the ``DatasetDict`` (train/validation/test) and ``run.json``.

Rows are rebuilt from the checkpoint's compact records and stream into Arrow files one batch at a time, so
memory stays flat however large the run. Splits are a seeded permutation of the accepted examples;
near-duplicates never reach two splits because the run drops them before acceptance. ``datasets`` and
``pyarrow`` are imported here only when a dataset is written."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from planforge.dataset.rows import RowBuilder
from planforge.dataset.splits import SPLIT_NAMES, assign_splits
from planforge.generator.checkpoint import Checkpoint

BATCH_ROWS = 1000


def checkpoint_rows(checkpoint: Checkpoint, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The accepted rows of a checkpoint in acceptance order, rebuilt from its compact records (``tools``
    entries as the JSON strings Arrow stores); at most ``limit``."""
    builder = RowBuilder.from_meta(checkpoint.rows_meta())
    count = 0
    for request in checkpoint.requests():
        for record in request.examples:
            if limit is not None and count >= limit:
                return
            yield builder.row(record, request.offered, request.now, request.request_id, encoded=True)
            count += 1


def write_dataset(out: Path, total: int, splits: Mapping[str, float], seed: int) -> dict[str, int]:
    """Build the DatasetDict from the checkpoint in ``out`` and save it there. Returns split sizes.

    Split membership is a seeded permutation of the accepted examples (exact sizes); each split keeps the
    acceptance order. Rows are read once, in order (see :func:`write_rows`)."""
    checkpoint = Checkpoint.in_dir(out)
    count = sum(len(r.examples) for r in checkpoint.requests())
    total = min(total, count)
    label = [""] * total
    for name, indices in assign_splits(total, splits, seed).items():
        for index in indices:
            label[index] = name
    return write_rows(out, zip(label, checkpoint_rows(checkpoint, total), strict=False))


def write_rows(out: Path, labelled: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    """Stream (split, row) pairs into the DatasetDict in ``out`` (rows with ``tools`` as JSON text).

    Memory holds one batch per split however large the run; each split's Arrow file is written once, in place
    (:class:`~planforge.dataset.disk.SplitWriter`). A split with no rows is left out (a 0-row split has no Arrow
    file and ``load_from_disk`` cannot read it). The new dataset is written beside the old one and swapped in by
    renames (:func:`planforge.dataset.disk.swap_in_dataset`): a crash never leaves a half-written dataset."""
    import pyarrow as pa

    from planforge.dataset.disk import SplitWriter, storage_schema, swap_in_dataset, write_dataset_dict_index
    from planforge.dataset.features import PLAN_FEATURES

    staging = out / f".dataset-staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    stored = storage_schema(PLAN_FEATURES.arrow_schema)
    writers: dict[str, SplitWriter] = {}
    pending: dict[str, list[dict[str, Any]]] = {}

    def flush(name: str) -> None:
        if name not in writers:
            writers[name] = SplitWriter(staging, name, PLAN_FEATURES)
        writers[name].write(pa.Table.from_pylist(pending[name], schema=stored))
        pending[name] = []

    try:
        for name, row in labelled:
            pending.setdefault(name, []).append(row)
            if len(pending[name]) >= BATCH_ROWS:
                flush(name)
        for name in list(pending):
            if pending[name]:
                flush(name)
        names = [name for name in SPLIT_NAMES if name in writers]
        for name in names:
            writers[name].close()
        sizes = {name: writers.pop(name).rows for name in names}
        if names:
            write_dataset_dict_index(staging, names)
        swap_in_dataset(staging, out)
    finally:
        for writer in writers.values():
            writer.abort()
        shutil.rmtree(staging, ignore_errors=True)
    return sizes
