"""Datasets on disk: load a saved folder (and check it is the kind a command needs), save quietly, and write
output folders whole or not at all. Every command reads and writes datasets through these functions."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.dataset.features import KIND_DESCRIPTIONS, kind_of
from planforge.errors import DatasetError, OutputError

if TYPE_CHECKING:  # pragma: no cover
    import datasets


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """No ``datasets`` progress bars inside the block (commands show their own); the setting comes back after."""
    import datasets

    was_enabled = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()


def load_saved_dataset(path: str | Path, what: str = "dataset") -> datasets.DatasetDict:
    """The saved DatasetDict in ``path``; a single saved Dataset is read as its ``train`` split.
    ``what`` names the expected folder in the error ("dataset", "pairs")."""
    import datasets

    folder = Path(path)
    if not folder.exists():
        raise DatasetError(f"{path}: no such {what} directory")
    if not folder.is_dir():
        raise DatasetError(f"{path}: not a {what} directory (a file)")
    if (folder / SWAP_JOURNAL).is_file():
        finish_swap(folder)  # a crash interrupted the last rewrite: both copies are complete, finish it
    if not (folder / "dataset_dict.json").is_file() and (folder / "run.json").is_file():
        raise DatasetError(f"{path}: the run wrote no dataset (it accepted no examples)")
    try:
        loaded = datasets.load_from_disk(str(folder))
    except (FileNotFoundError, ValueError, OSError, IndexError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DatasetError(f"{path}: not a dataset saved with save_to_disk ({reason})") from None
    if isinstance(loaded, datasets.Dataset):
        loaded = datasets.DatasetDict({"train": loaded})
    if not any(len(split) for split in loaded.values()):
        raise DatasetError(f"{path}: the {what} has no rows")
    return loaded


def load_dataset_of_kind(path: str | Path, *, kind: str, columns: Sequence[str] = ()) -> datasets.DatasetDict:
    """A saved dataset that is of ``kind`` (or of no known kind) and has ``columns`` in every split; a one-line
    :class:`DatasetError` otherwise. A ``.jsonl`` file of hand-written plans (:mod:`planforge.dataset.jsonl`) is
    read as a plans dataset with one split, ``test``."""
    path = Path(path)
    if kind == "plans" and path.suffix in (".jsonl", ".ndjson") and path.is_file():
        from planforge.dataset.jsonl import load_jsonl_dataset

        loaded = load_jsonl_dataset(path)
    else:
        loaded = load_saved_dataset(path)
    if not loaded:
        raise DatasetError(f"{path}: the dataset has no splits")
    split_columns = {name: set(split.column_names) for name, split in loaded.items()}
    found = kind_of(next(iter(split_columns.values())))
    wanted = {kind} if kind != "pairs" else {"pairs", "reviewed_pairs"}
    if found is not None and found not in wanted:
        raise DatasetError(
            f"{path}: this is {KIND_DESCRIPTIONS[found]}, but this command needs {KIND_DESCRIPTIONS[kind]}"
        )
    for name, cols in split_columns.items():
        missing = [c for c in columns if c not in cols]
        if missing:
            what = "planforge dataset" if kind == "plans" else "preference-pairs dataset"
            where = f" (split {name})" if len(split_columns) > 1 else ""
            raise DatasetError(f"{path}: not a {what}: missing column(s) {', '.join(missing)}{where}")
    return loaded


def pick_split(ds: datasets.DatasetDict, split: str, path: str | Path) -> datasets.Dataset:
    """Split ``split`` of ``ds``, or a one-line error naming the splits there are."""
    if split not in ds:
        raise DatasetError(f"{path}: no split {split!r} (splits: {', '.join(ds)})")
    return ds[split]


def first_split(ds: datasets.DatasetDict, names: Sequence[str]) -> str | None:
    """The first of ``names`` that ``ds`` has with rows in it."""
    return next((n for n in names if n in ds and len(ds[n])), None)


def limit_rows(split: datasets.Dataset, max_examples: int | None) -> datasets.Dataset:
    """The first ``max_examples`` rows (all of them when None)."""
    if max_examples is not None and max_examples < len(split):
        return split.select(range(max_examples))
    return split


def storage_schema(schema: Any) -> Any:
    """``schema`` with each extension type (``Json``'s ``arrow.json``) replaced by the type it stores."""
    import pyarrow as pa

    def plain(kind: Any) -> Any:
        if isinstance(kind, pa.BaseExtensionType):
            return plain(kind.storage_type)
        if pa.types.is_list(kind):
            return pa.list_(plain(kind.value_type))
        if pa.types.is_large_list(kind):
            return pa.large_list(plain(kind.value_type))
        if pa.types.is_struct(kind):
            return pa.struct([pa.field(f.name, plain(f.type), f.nullable) for f in kind])
        return kind

    return pa.schema([pa.field(f.name, plain(f.type), f.nullable) for f in schema], metadata=schema.metadata)


class SplitWriter:
    """One split of a ``DatasetDict`` written in ``save_to_disk``'s layout as the rows come, by ``datasets``' own
    ``ArrowWriter``: no second copy of the data (``save_to_disk`` of a written file reads it all back through a
    memory map, which for a 1 GB dataset is 1 GB of resident pages and as much I/O again)."""

    FILE = "data-00000-of-00001.arrow"

    def __init__(self, folder: Path, name: str, features: datasets.Features):
        from datasets.arrow_writer import ArrowWriter

        self.folder, self.name, self.features = folder / name, name, features
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._writer = ArrowWriter(features=features, path=str(self.folder / self.FILE))

    def write(self, table: Any) -> None:
        """A ``pyarrow.Table`` in the features' storage types (``Json`` values as JSON text)."""
        self._writer.write_table(table)
        self.rows += len(table)

    def close(self) -> None:
        """Finish the file and write the split's ``state.json`` and ``dataset_info.json`` from the Dataset that
        ``load_from_disk`` will build of it (the same keys ``save_to_disk`` writes)."""
        import json
        from dataclasses import asdict

        import datasets

        self._writer.finalize()
        self._writer.close()
        part = datasets.Dataset.from_file(
            str(self.folder / self.FILE), info=datasets.DatasetInfo(features=self.features), split=self.name
        )
        state = {key: part.__dict__[key] for key in STATE_KEYS}
        state["_split"] = self.name
        state["_data_files"] = [{"filename": self.FILE}]
        (self.folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        info = asdict(part._info)
        info = {key: info[key] for key in sorted(info)}
        (self.folder / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()


STATE_KEYS = ("_fingerprint", "_format_columns", "_format_kwargs", "_format_type", "_output_all_columns")


def write_dataset_dict_index(folder: Path, splits: Sequence[str]) -> None:
    """``dataset_dict.json``: the splits ``load_from_disk`` reads from ``folder``."""
    import json

    (folder / "dataset_dict.json").write_text(json.dumps({"splits": list(splits)}), encoding="utf-8")


def make_dataset(rows: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    """``Dataset.from_list`` that also accepts no rows (an empty split keeps its columns)."""
    import datasets

    if not rows:
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    return datasets.Dataset.from_list(rows, features=features)


def save_dataset(dataset: Any, folder: str | Path) -> None:
    """``dataset.save_to_disk`` without datasets' progress bars (the commands show their own)."""
    with quiet_datasets():
        dataset.save_to_disk(str(folder))


def check_output(target: str | Path, overwrite: bool = False) -> Path:
    """Fail early (before any work) when ``target`` exists with content and ``overwrite`` is off."""
    path = Path(target)
    if path.exists() and not overwrite:
        if not path.is_dir():
            raise OutputError(f"{path} exists and is not a folder")
        if any(path.iterdir()):
            raise OutputError(f"{path} exists and is not empty (pass --overwrite to replace it)")
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
    replace_dir(tmp, path)


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` where ``target`` is, by rename: at every moment one of the two is complete."""
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


# --------------------------------------------------------------------------------------------------
# one writer per output folder


LOCK_NAME = ".planforge.lock"


_HELD: set[Any] = set()  # lock files this process holds


def _drop_inherited_locks() -> None:
    """A forked worker closes its copies of the lock files: the lock lives as long as the process that took it,
    not as long as a worker that outlives it."""
    for handle in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(handle.fileno())
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


class OutputLock:
    """An exclusive lock on an output folder for as long as a run writes into it.

    ``fcntl.flock`` on ``DIR/.planforge.lock``: the kernel releases it when the process ends, however it ends
    (a kill -9 leaves no stale lock). The holder's PID is written into the file so a second process can say who
    holds it. POSIX only, as the rest of planforge's file handling."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._handle: Any = None

    def acquire(self) -> OutputLock:
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise OutputError(
                f"{self.folder} is being written by another planforge process (PID {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        _HELD.add(handle)
        return self

    def check(self) -> None:
        """Raise the same one-line error :meth:`acquire` would, without keeping the lock."""
        if self.path.is_file():
            self.acquire().release()

    def release(self) -> None:
        if self._handle is not None:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            _HELD.discard(self._handle)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


# --------------------------------------------------------------------------------------------------
# replacing a saved dataset in a folder that holds other files (checkpoint, run.json)


SWAP_JOURNAL = ".dataset-swap.json"
DATASET_ENTRIES = ("dataset_dict.json", "state.json", "dataset_info.json")


def saved_entries(folder: Path) -> list[str]:
    """The files and split folders of the dataset saved in ``folder`` (nothing else that lives there)."""
    import json

    entries = [name for name in DATASET_ENTRIES if (folder / name).exists()]
    index = folder / "dataset_dict.json"
    if index.is_file():
        with contextlib.suppress(ValueError, OSError):
            entries += [s for s in json.loads(index.read_text()).get("splits", []) if (folder / s).is_dir()]
    return entries


def swap_in_dataset(staged: Path, folder: Path) -> None:
    """Replace the dataset saved in ``folder`` by the complete one in ``staged`` (a subfolder of ``folder``).

    The old entries move aside and the new ones in by renames, recorded first in a journal: a crash in between
    leaves both complete copies on disk, and :func:`finish_swap` (run by every reader and writer of the folder)
    completes the swap. The old dataset is deleted only once the new one is in place."""
    import json

    old = folder / f".dataset-old-{uuid.uuid4().hex[:8]}"
    moves = {"old": old.name, "staged": staged.name, "out": saved_entries(folder), "in": saved_entries(staged)}
    journal = folder / SWAP_JOURNAL
    tmp = journal.with_suffix(".tmp")
    tmp.write_text(json.dumps(moves))
    tmp.replace(journal)
    finish_swap(folder)


def finish_swap(folder: str | Path) -> None:
    """Complete a swap a crash interrupted (idempotent: each rename is done only if still needed)."""
    import json

    folder = Path(folder)
    journal = folder / SWAP_JOURNAL
    if not journal.is_file():
        return
    moves = json.loads(journal.read_text())
    old, staged = folder / moves["old"], folder / moves["staged"]
    old.mkdir(exist_ok=True)
    for name in moves["out"]:
        already_new = name in moves["in"] and not (staged / name).exists()  # moved in before the crash
        if (folder / name).exists() and not (old / name).exists() and not already_new:
            (folder / name).rename(old / name)
    for name in moves["in"]:
        if (staged / name).exists():
            if (folder / name).exists():
                shutil.rmtree(folder / name) if (folder / name).is_dir() else (folder / name).unlink()
            (staged / name).rename(folder / name)
    journal.unlink()
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staged, ignore_errors=True)
