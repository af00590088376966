"""Output folders written whole or not at all: built in a temporary sibling folder, then renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The output folder exists and holds something; one line, meant for the user."""


def check_output(target: str | Path, overwrite: bool = False) -> Path:
    """Fail early (before any work) when ``target`` exists with content and ``overwrite`` is off."""
    path = Path(target)
    if path.exists() and not overwrite:
        if not path.is_dir():
            raise OutputExistsError(f"{path} exists and is not a folder")
        if any(path.iterdir()):
            raise OutputExistsError(f"{path} exists and is not empty (pass --overwrite to replace it)")
    return path


@contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``target``; on success it replaces ``target``, on any error it
    is removed and ``target`` is left as it was."""
    path = check_output(target, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(path)


def save_dataset(dataset, folder: str | Path) -> None:
    """``dataset.save_to_disk`` without datasets' progress bars (the commands show their own)."""
    import datasets

    was_enabled = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        dataset.save_to_disk(str(folder))
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
