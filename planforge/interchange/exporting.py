"""``gen export``: a plans dataset as another project's format, one record per example, written atomically.

All splits are written in split order (train, validation, test) unless one is picked. BFCL gets two files, as
BFCL lays them out: the questions at ``--out`` and the answers at ``possible_answer/<same name>`` beside it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from planforge.dataset.disk import load_dataset_of_kind
from planforge.dataset.features import PLANS
from planforge.errors import ConfigError, OutputError, PlanSyntaxError, ToolSpecError
from planforge.interchange import EXPORTERS
from planforge.interchange.bfcl import ANSWERS_FOLDER

SPLIT_ORDER = ("train", "validation", "test")


@dataclass
class ExportResult:
    path: Path
    rows: int
    by_split: dict[str, int]
    answers_path: Path | None = None
    skipped: dict[str, int] = field(default_factory=dict)


def answers_path_for(out: Path) -> Path:
    return out.parent / ANSWERS_FOLDER / out.name


@contextmanager
def _atomic_file(path: Path, overwrite: bool) -> Iterator[IO[str]]:
    """A temporary file beside ``path`` that replaces it on success and disappears on any error."""
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists (pass --overwrite to replace it)")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; --out names a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            yield handle
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def export_dataset(
    source: str | Path,
    fmt: str,
    out: str | Path,
    *,
    split: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write every example of ``source`` (a plans dataset folder or a JSONL evaluation set) as ``fmt``."""
    if fmt not in EXPORTERS:
        raise ConfigError(f"--to must be one of {', '.join(EXPORTERS)}, not {fmt!r}")
    module = EXPORTERS[fmt]
    out = Path(out)
    dataset = load_dataset_of_kind(source, kind=PLANS, columns=("query", "tools", "plan", "meta"))
    if split is not None and split not in dataset:
        raise ConfigError(f"{source} has no split {split!r} (it has {', '.join(dataset)})")
    names = [split] if split else [s for s in SPLIT_ORDER if s in dataset] + sorted(set(dataset) - set(SPLIT_ORDER))
    total = sum(len(dataset[name]) for name in names)
    answers = answers_path_for(out) if hasattr(module, "export_answer") else None
    result = ExportResult(out, 0, {}, answers)
    with ExitStack() as stack:
        handle = stack.enter_context(_atomic_file(out, overwrite))
        answer_handle = stack.enter_context(_atomic_file(answers, overwrite)) if answers is not None else None
        index = 0
        for name in names:
            written = 0
            for row in dataset[name]:
                try:
                    record = module.export_row(row, index)
                    answer = module.export_answer(row, index) if answer_handle is not None else None
                except (PlanSyntaxError, ToolSpecError, KeyError, ValueError) as exc:
                    code = type(exc).__name__
                    result.skipped[code] = result.skipped.get(code, 0) + 1
                    continue
                handle.write(_line(record))
                if answer_handle is not None:
                    answer_handle.write(_line(answer))
                index += 1
                written += 1
                if progress is not None:
                    progress(index, total)
            result.by_split[name] = written
        result.rows = index
    return result


def _line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"
