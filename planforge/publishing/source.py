"""Reading what ``gen run`` / ``gen pairs`` / ``gen review pull`` left in a folder.

A :class:`Source` is the dataset's splits, its kind (detected from the columns), the decoded
``run.json`` (``{}`` when there is none: everything downstream prints only what is known) and the recipe
files that made it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.dataset.features import PAIRS, PLANS, REVIEWED_PAIRS, kind_of
from planforge.errors import DatasetError

if TYPE_CHECKING:  # pragma: no cover
    import datasets


# Statistics files other commands write beside their dataset: published as provenance, read by the card.
SIDECARS = ("run.json", "pairs.json", "review_report.json")


_SPLIT_ORDER = ("train", "validation", "test")
_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", ".venv", "node_modules"}
MAX_PROVENANCE_FILE = 5 * 1024 * 1024


@dataclass
class Source:
    path: Path
    splits: datasets.DatasetDict
    kind: str
    run: dict[str, Any] = field(default_factory=dict)
    run_path: Path | None = None
    recipe_files: dict[str, Path] = field(default_factory=dict)  # relative path -> file
    notes: list[str] = field(default_factory=list)
    sidecars: dict[str, dict[str, Any]] = field(default_factory=dict)  # pairs.json, review_report.json
    recipe_meta: dict[str, Any] = field(default_factory=dict)  # the recipe's recipe.yaml, when it is there

    @property
    def pairs_report(self) -> dict[str, Any]:
        return self.sidecars.get("pairs.json", {})

    @property
    def review_report(self) -> dict[str, Any]:
        return self.sidecars.get("review_report.json", {})

    @property
    def split_sizes(self) -> dict[str, int]:
        return {name: len(split) for name, split in self.splits.items()}

    @property
    def columns(self) -> list[str]:
        first = next(iter(self.splits.values()))
        return list(first.column_names)

    @property
    def is_pairs(self) -> bool:
        return self.kind in (PAIRS, REVIEWED_PAIRS)


def detect_kind(columns: Iterable[str]) -> str:
    """The dataset's kind (:data:`~planforge.dataset.PLANS`, ``PAIRS``, ``REVIEWED_PAIRS``); a one-line
    :class:`DatasetError` for anything else."""
    cols = list(columns)
    kind = kind_of(cols)
    if kind is None:
        raise DatasetError(
            f"unknown dataset columns {sorted(cols)}: expected a `gen run` dataset (query, plan, ...) "
            "or preference pairs (prompt, chosen, rejected, ...)"
        )
    return kind


def order_splits(names: Iterable[str]) -> list[str]:
    names = list(names)
    known = [n for n in _SPLIT_ORDER if n in names]
    return known + sorted(n for n in names if n not in known)


def load_source(path: str | Path) -> Source:
    """Load a dataset folder. Raises :class:`DatasetError` with a one-line reason."""
    import datasets

    root = Path(path)
    if not root.exists():
        raise DatasetError(f"{root}: no such folder")
    if not root.is_dir() and root.suffix not in (".jsonl", ".ndjson"):
        raise DatasetError(f"{root}: not a folder (expected the output folder of `gen run` or `gen pairs`)")
    notes: list[str] = []
    if root.is_file() and root.suffix in (".jsonl", ".ndjson"):
        from planforge.dataset.jsonl import load_jsonl_dataset

        return Source(root, load_jsonl_dataset(root), PLANS, notes=["a hand-written JSONL set: no run.json"])
    data_dir = _find_saved_dataset(root)
    if data_dir is not None:
        try:
            loaded = datasets.load_from_disk(str(data_dir))
        except (FileNotFoundError, ValueError, OSError, IndexError) as exc:
            raise DatasetError(f"{data_dir}: cannot load the saved dataset ({exc})") from None
        splits = loaded if isinstance(loaded, datasets.DatasetDict) else datasets.DatasetDict({"train": loaded})
    else:
        splits = _load_data_files(root)
    if not splits or all(len(s) == 0 for s in splits.values()):
        raise DatasetError(f"{root}: the dataset has no rows")
    splits = datasets.DatasetDict({name: splits[name] for name in order_splits(splits)})
    kind = detect_kind(next(iter(splits.values())).column_names)

    sidecars: dict[str, dict[str, Any]] = {}
    run_path = None
    for name in SIDECARS:
        for candidate in (root / name, (data_dir or root).parent / name):
            if candidate.is_file():
                sidecars[name] = _read_json_object(candidate)
                run_path = candidate if name == "run.json" else run_path
                break
    run = sidecars.pop("run.json", {})
    if run_path is None and kind == PLANS:
        notes.append("no run.json: the card and report show only what the data itself says")
    folder, recipe_files = find_recipe(root, run)
    recipe_meta = read_recipe_meta(recipe_files)
    recipe_hash = run["recipe"].get("hash") if isinstance(run.get("recipe"), dict) else None
    if isinstance(recipe_hash, str) and folder is not None and recipe_folder_hash(folder) != recipe_hash:
        notes.append(f"the recipe folder {folder} changed since the run (its hash differs from run.json's)")
    return Source(root, splits, kind, run, run_path, recipe_files, notes, sidecars, recipe_meta)


def read_recipe_meta(recipe_files: dict[str, Path]) -> dict[str, Any]:
    path = recipe_files.get("recipe.yaml") or recipe_files.get("recipe.yml")
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def recipe_folder_hash(folder: Path) -> str:
    """sha256 over every file of a recipe folder, as ``planforge.recipes.loader.Recipe.content_hash`` computes it."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(file.relative_to(folder).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        decoded = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(decoded, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    return decoded


def _find_saved_dataset(root: Path) -> Path | None:
    def saved(p: Path) -> bool:
        return (p / "dataset_dict.json").is_file() or (
            (p / "state.json").is_file() and (p / "dataset_info.json").is_file()
        )

    if saved(root):
        return root
    for name in ("dataset", "data", "hf", "pairs"):
        if saved(root / name):
            return root / name
    children = sorted(p for p in root.iterdir() if p.is_dir() and saved(p))
    return children[0] if len(children) == 1 else None


def _load_data_files(root: Path) -> datasets.DatasetDict:
    import datasets

    for ext, builder in (("parquet", "parquet"), ("jsonl", "json"), ("json", "json")):
        files = sorted(p for p in root.rglob(f"*.{ext}") if p.name != "run.json" and "recipe" not in p.parts)
        if not files:
            continue
        by_split: dict[str, list[str]] = {}
        for f in files:
            split = f.stem.split("-")[0].split(".")[0] or "train"
            split = split if split in _SPLIT_ORDER or split.isidentifier() else "train"
            by_split.setdefault(split, []).append(str(f))
        try:
            return datasets.load_dataset(builder, data_files=by_split)
        except Exception as exc:  # noqa: BLE001 - any reader error is unusable input
            raise DatasetError(f"{root}: cannot read the {ext} files ({str(exc).splitlines()[0]})") from None
    raise DatasetError(f"{root}: no dataset found (expected a folder written by save_to_disk, or parquet/jsonl files)")


def find_recipe(root: Path, run: dict[str, Any]) -> tuple[Path | None, dict[str, Path]]:
    """The recipe that made the dataset, as (its folder or ``None`` for a lone file, its files by relative
    path): ``DIR/recipe/``, or ``run.json``'s ``recipe.path`` (a folder or a
    file, absolute or relative to DIR or to the working directory), or the bundled recipe of that name.
    Caches, hidden files and files over 5 MB are left out."""
    recipe = run.get("recipe") if isinstance(run.get("recipe"), dict) else {}
    candidates: list[Path] = [root / "recipe"]
    raw = recipe.get("path") if isinstance(recipe.get("path"), str) else None
    if raw:
        p = Path(raw).expanduser()
        candidates += [p] if p.is_absolute() else [root / p, Path.cwd() / p]
    name = recipe.get("name") if isinstance(recipe.get("name"), str) else None
    if name and name.replace("_", "").isalnum():
        try:
            bundled = resources.files("planforge.recipes") / name
            candidates.append(Path(str(bundled)))
        except (ModuleNotFoundError, TypeError):  # pragma: no cover - planforge.recipes always exists
            pass
    for candidate in candidates:
        if candidate.is_file():
            return None, {candidate.name: candidate}
        if candidate.is_dir():
            files = {}
            for f in sorted(candidate.rglob("*")):
                rel = f.relative_to(candidate)
                if not f.is_file() or any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts):
                    continue
                if f.suffix in (".pyc", ".pyo") or f.stat().st_size > MAX_PROVENANCE_FILE:
                    continue
                files[rel.as_posix()] = f
            if files:
                return candidate, files
    return None, {}
