"""Datasets in, prompts out: the checks every command runs before it trains, and the one prompt format.

Two kinds of dataset are read, both ``datasets.DatasetDict`` saved with ``save_to_disk``:

* a plans dataset from ``gen run`` (columns of :data:`planforge.generator.records.FEATURES`);
* a preference-pairs dataset from ``gen pairs`` (``prompt``, ``chosen``, ``rejected``, ``tools``...).

Prompts are rendered through :mod:`planforge.prompting` only, so training and evaluation see the same text."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.prompting import PLANNER_INSTRUCTIONS, prompt_messages, strip_tool_calls, system_prompt
from planforge.tools import ToolSet, ToolSpecError, tools_from_json
from planforge.trainers import TrainerConfigError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

PLANS = "plans"
PAIRS = "pairs"

#: columns each command needs, by dataset kind
PLAN_COLUMNS_SFT = ("query", "tools", "plan_text", "meta")
PLAN_COLUMNS_EVAL = ("id", "query", "tools", "plan", "meta")
PLAN_COLUMNS_TOOLRAG = ("query", "tools", "target_tools")
PAIR_COLUMNS = ("prompt", "chosen", "rejected")

_KIND_HINT = {
    PLANS: "a plans dataset (from `gen run`)",
    PAIRS: "a preference-pairs dataset (from `gen pairs`)",
}


def dataset_kind(columns: Iterable[str]) -> str | None:
    cols = set(columns)
    if {"prompt", "chosen", "rejected"} <= cols:
        return PAIRS
    if {"query", "tools"} & cols and ("plan" in cols or "plan_text" in cols or "target_tools" in cols):
        return PLANS
    return None


def load_dataset_dir(path: str | Path, *, kind: str, columns: Sequence[str]) -> datasets.DatasetDict:
    """Load a saved dataset and check its kind and columns; one-line :class:`TrainerConfigError` otherwise.

    A single saved ``Dataset`` (not a dict of splits) is read as the ``train`` split."""
    from planforge.saved import SavedDatasetError, load_saved_dataset

    path = Path(path)
    try:
        loaded = load_saved_dataset(path)
    except SavedDatasetError as exc:
        raise TrainerConfigError(str(exc)) from None
    if not loaded:
        raise TrainerConfigError(f"{path}: the dataset has no splits")
    split_columns = {name: set(split.column_names) for name, split in loaded.items()}
    first = next(iter(split_columns.values()))
    found = dataset_kind(first)
    if found is not None and found != kind:
        raise TrainerConfigError(f"{path}: this is {_KIND_HINT[found]}, but this command needs {_KIND_HINT[kind]}")
    for name, cols in split_columns.items():
        missing = [c for c in columns if c not in cols]
        if missing:
            what = "planforge dataset" if kind == PLANS else "preference-pairs dataset"
            where = f" (split {name})" if len(split_columns) > 1 else ""
            raise TrainerConfigError(f"{path}: not a {what}: missing column(s) {', '.join(missing)}{where}")
    return loaded


def pick_split(ds: datasets.DatasetDict, split: str, path: str | Path) -> datasets.Dataset:
    if split not in ds:
        raise TrainerConfigError(f"{path}: no split {split!r} (splits: {', '.join(ds)})")
    return ds[split]


def first_split(ds: datasets.DatasetDict, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in ds and len(ds[n])), None)


def limit(split: datasets.Dataset, max_examples: int | None) -> datasets.Dataset:
    if max_examples is not None and max_examples < len(split):
        return split.select(range(max_examples))
    return split


# --------------------------------------------------------------------------------------------------
# rows -> prompts


def parse_tools(raw: str | list | None, where: str) -> ToolSet:
    try:
        return tools_from_json(json.loads(raw) if isinstance(raw, str) else raw)
    except (ValueError, ToolSpecError) as exc:
        raise TrainerConfigError(f"{where}: unreadable tools column ({exc})") from None


class ToolCache:
    """Rows often share one tools JSON string: parse each distinct string once."""

    def __init__(self) -> None:
        self._by_json: dict[str, ToolSet] = {}

    def __call__(self, raw: str, where: str = "dataset") -> ToolSet:
        tools = self._by_json.get(raw)
        if tools is None:
            tools = self._by_json[raw] = parse_tools(raw, where)
        return tools


def row_now(row: dict[str, Any]) -> str | None:
    meta = row.get("meta") or {}
    return meta.get("now") or None


def row_instructions(row: dict[str, Any], tools: ToolSet) -> str:
    """The planner instructions the row was written with (recipes may override the default): read back from
    the stored system prompt when it is exactly what :func:`planforge.prompting.system_prompt` renders."""
    messages = row.get("messages") or []
    if messages and messages[0].get("role") == "system":
        content = messages[0].get("content") or ""
        head, sep, _ = content.partition("\n\nFunctions:\n")
        rendered = system_prompt(tools, now=row_now(row), instructions=head) if sep else None
        if head != PLANNER_INSTRUCTIONS and content == rendered:
            return head
    return PLANNER_INSTRUCTIONS


def row_prompt(row: dict[str, Any], tools: ToolSet, shown: ToolSet | None = None) -> list[dict[str, str]]:
    """System + user messages (role and content only) for one row. ``shown``: the functions listed in the
    system prompt when they are not the row's offered ones (ToolRAG's selection)."""
    instructions = row_instructions(row, tools)
    messages = prompt_messages(
        row["query"], shown if shown is not None else tools, now=row_now(row), instructions=instructions
    )
    return strip_tool_calls(messages)


def common_training_args(cfg: Any, train_rows: int) -> dict[str, Any]:
    """The ``TrainingArguments`` that SFT and DPO runs share (schedule, seeds, CPU/GPU, no checkpoints or
    trackers), from a run config with ``out, max_steps, epochs, batch_size, grad_accum, learning_rate,
    warmup_ratio, seed, max_length, logging_steps``."""
    import math

    import torch

    steps_per_epoch = math.ceil(train_rows / (cfg.batch_size * cfg.grad_accum))
    planned = cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.epochs)
    return {
        "output_dir": cfg.out,
        "max_steps": cfg.max_steps,
        "num_train_epochs": cfg.epochs,
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": "linear",
        "warmup_steps": int(planned * cfg.warmup_ratio),
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "max_length": cfg.max_length,
        "bf16": False,
        "fp16": False,
        "use_cpu": not torch.cuda.is_available(),
        "logging_steps": max(1, min(cfg.logging_steps, planned)),
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": [],
        "dataloader_num_workers": 0,
        "disable_tqdm": False,
    }


def toolrag_shown(
    classifier: Any, queries: Sequence[str], needed: Sequence[Sequence[str]], *, add_needed: bool = True
) -> tuple[list[ToolSet], dict[str, Any]]:
    """The functions a ToolRAG classifier lists for each request, in its order. ``add_needed`` (training): also
    list the functions the target plan calls that the classifier missed, so the target stays writable."""
    selections = classifier.select(list(queries))
    missed = 0
    shown = []
    for names, wanted in zip(selections, needed, strict=True):
        lost = [t for t in wanted if t not in names]
        missed += bool(lost)
        if add_needed and lost:
            names.extend(t for t in lost if t in classifier.tools)
        chosen = set(names)
        shown.append(classifier.tools.subset([n for n in classifier.tools if n in chosen]))
    info = {
        "toolrag_rows_with_missed_targets": missed,
        "toolrag_mean_shown": sum(len(s) for s in shown) / max(len(shown), 1),
    }
    return shown, info


def plan_completion(plan_text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": plan_text}]


# --------------------------------------------------------------------------------------------------
# run artifacts


def fingerprint(ds: datasets.DatasetDict, path: str | Path) -> dict[str, Any]:
    """What identifies the data a run used: per split, the row count, the ``datasets`` fingerprint and a
    SHA-256 of the example ids in order (stable across re-saves of the same examples)."""
    splits = {}
    for name, split in ds.items():
        entry: dict[str, Any] = {"num_rows": len(split), "datasets_fingerprint": getattr(split, "_fingerprint", None)}
        if "id" in split.column_names:
            digest = hashlib.sha256()
            for example_id in split["id"]:
                digest.update(str(example_id).encode())
                digest.update(b"\n")
            entry["ids_sha256"] = digest.hexdigest()
        splits[name] = entry
    return {"path": str(Path(path).resolve()), "splits": splits}


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def environment() -> dict[str, Any]:
    import importlib.metadata as md

    versions = {}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "accelerate"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    from planforge import __version__

    return {"planforge": __version__, "python": platform.python_version(), "packages": versions}


def write_run_files(
    out: Path,
    *,
    command: str,
    config: Any,
    metrics: dict[str, Any],
    fingerprints: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """``run_config.json`` (command, config, environment), ``metrics.json`` and ``dataset_fingerprint.json``."""
    run_config = {
        "command": command,
        "config": config,
        "environment": environment(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_cpus": os.cpu_count(),
    }
    if extra:
        run_config.update(extra)
    write_json(out / "run_config.json", run_config)
    write_json(out / "metrics.json", metrics)
    write_json(out / "dataset_fingerprint.json", fingerprints)


def read_run_config(path: str | Path) -> dict[str, Any] | None:
    file = Path(path) / "run_config.json"
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except ValueError:
        return None
