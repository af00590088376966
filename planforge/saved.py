"""Read a dataset folder written with ``save_to_disk``: the one loader every command shares."""

from __future__ import annotations

from pathlib import Path

import datasets


class SavedDatasetError(ValueError):
    """The folder is missing or holds no saved dataset; the message names the folder."""


def load_saved_dataset(path: str | Path, what: str = "dataset") -> datasets.DatasetDict:
    """The saved DatasetDict in ``path``; a single saved Dataset is read as its ``train`` split.
    ``what`` names the expected folder in the error ("dataset", "pairs")."""
    folder = Path(path)
    if not folder.exists():
        raise SavedDatasetError(f"{path}: no such {what} directory")
    try:
        loaded = datasets.load_from_disk(str(folder))
    except (FileNotFoundError, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SavedDatasetError(f"{path}: not a dataset saved with save_to_disk ({reason})") from None
    if isinstance(loaded, datasets.Dataset):
        loaded = datasets.DatasetDict({"train": loaded})
    return loaded
