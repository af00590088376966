"""``gen review push``: send preference pairs to Argilla for review.

The workspace and dataset are created when missing; an existing dataset must be a planforge review dataset
(same fields and questions). Records are upserted by the pair id, so pushing again updates them (responses
already given are kept) and never duplicates them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import datasets

from planforge.curation_ui.argilla_settings import build_settings, missing_parts, record_for_pair
from planforge.curation_ui.connection import DEFAULT_WORKSPACE, find_workspace, sdk_errors
from planforge.dataset.disk import load_saved_dataset
from planforge.errors import ReviewError

BATCH = 250  # records per bulk upsert (the server takes up to 500)


@dataclass(frozen=True)
class PushResult:
    dataset: str
    workspace: str
    created: bool
    pushed: int
    new: int
    updated: int
    total: int
    min_submitted: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_pairs(path: str) -> datasets.DatasetDict:
    """A pairs dataset saved by ``gen pairs`` (or any DatasetDict with its columns)."""
    loaded = load_saved_dataset(path, "pairs")
    needed = ("id", "query", "chosen", "rejected", "tools", "rejection_kind", "rejection_source")
    for split, rows in loaded.items():
        missing = [c for c in needed if c not in rows.column_names]
        if missing:
            lacks = ", ".join(missing)
            raise ReviewError(f"{path}: split {split} is not a pairs dataset (from `gen pairs`): no {lacks}")
    return loaded


def records(pairs: datasets.DatasetDict, *, suggestions: bool = False) -> list[dict[str, Any]]:
    """One record per pair id (the first one when an id repeats), in split order."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for split, rows in pairs.items():
        for row in rows:
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            out.append(record_for_pair(row, split, suggestions=suggestions))
    return out


def _sdk_record(record: dict[str, Any]) -> Any:
    import argilla as rg

    return rg.Record(
        id=record["id"],
        fields=record["fields"],
        metadata=record["metadata"],
        suggestions=[
            rg.Suggestion(s["question"], s["value"], score=s["score"], agent=s["agent"]) for s in record["suggestions"]
        ],
    )


def ensure_dataset(client: Any, name: str, workspace: str, min_submitted: int | None) -> tuple[Any, bool]:
    """The review dataset (created when missing) and whether it was created."""
    import argilla as rg

    ws = find_workspace(client, workspace)
    if ws is None:
        with sdk_errors(f"creating workspace {workspace!r}"):
            ws = rg.Workspace(name=workspace, client=client).create()
    with sdk_errors(f"looking up dataset {name!r}"):
        dataset = client.datasets(name, workspace=ws)
    if dataset is None:
        with sdk_errors(f"creating dataset {name!r}"):
            settings = build_settings(min_submitted or 1)
            return rg.Dataset(name=name, workspace=ws, settings=settings, client=client).create(), True
    missing = missing_parts(dataset.settings)
    if missing:
        raise ReviewError(
            f"dataset {name!r} in workspace {workspace!r} is not a planforge review dataset (no {', '.join(missing)})"
        )
    if min_submitted is not None and dataset.settings.distribution.min_submitted != min_submitted:
        with sdk_errors(f"setting min_submitted of {name!r}"):
            dataset.settings.distribution = rg.TaskDistribution(min_submitted=min_submitted)
            dataset.update()
    return dataset, False


def push_pairs(
    client: Any,
    pairs: datasets.DatasetDict,
    name: str,
    *,
    workspace: str | None = None,
    min_submitted: int | None = None,
    suggestions: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PushResult:
    """Create or update the review dataset ``name`` with one record per pair."""
    start = time.perf_counter()
    workspace = workspace or DEFAULT_WORKSPACE
    if min_submitted is not None and min_submitted < 1:
        raise ReviewError("--min-submitted must be at least 1")
    prepared = records(pairs, suggestions=suggestions)  # render everything before touching the server
    dataset, created = ensure_dataset(client, name, workspace, min_submitted)
    with sdk_errors(f"reading progress of {name!r}"):
        before = 0 if created else dataset.progress()["total"]
    done = 0
    for batch in _batches(prepared, BATCH):
        with sdk_errors(f"sending records to {name!r}"), quiet_sdk_bars():
            dataset.records.log([_sdk_record(r) for r in batch], batch_size=len(batch))
        done += len(batch)
        if progress is not None:
            progress(done, len(prepared))
    with sdk_errors(f"reading progress of {name!r}"):
        total = dataset.progress()["total"]
    new = total - before
    return PushResult(
        dataset=name,
        workspace=workspace,
        created=created,
        pushed=len(prepared),
        new=new,
        updated=len(prepared) - new,
        total=total,
        min_submitted=dataset.settings.distribution.min_submitted,
        seconds=time.perf_counter() - start,
    )


@contextmanager
def quiet_sdk_bars() -> Iterator[None]:
    """Silence the SDK's tqdm bar around one call (tqdm reads TQDM_DISABLE only when imported); ours shows."""
    from argilla.records import _dataset_records

    original = _dataset_records.tqdm
    _dataset_records.tqdm = lambda iterable=None, *args, **kwargs: iterable
    try:
        yield
    finally:
        _dataset_records.tqdm = original


def _batches(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
