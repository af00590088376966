"""``gen import``: another project's file as a planforge plans dataset.

Every record is read by its format's ``import_record`` and its plan checked by the same validators generated
plans pass (argument types, dependencies, and the recipe's rules when ``--recipe`` is given). A record that cannot
be read or whose plan is invalid is counted under its code (``no_calls``, ``tools``, ``bad_reference``, ...) and
kept out; a request answered without any call is a no-call example with ``--no-call-rows`` (its plan the empty
plan, ``meta.no_call`` true: the rows ``gen run`` writes for requests no offered function serves), else
``no_calls``; an exact repeat of an earlier example is counted as a duplicate. The rows get planforge's columns
(the prompt with planforge's planner instructions, the plan as LLMCompiler text) and the splits of ``--splits``
(default ``validation=0.05,test=0.05``), and ``run.json`` records the source, the counts and the codes.

Input is JSON Lines, or one JSON array (as several of these datasets are published)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge import __version__
from planforge.dataset.disk import atomic_dir, check_output, make_dataset, save_dataset
from planforge.dataset.features import PLAN_FEATURES
from planforge.dataset.provenance import RunRecord
from planforge.dataset.rows import Example
from planforge.dataset.splits import SPLIT_NAMES, assign_splits, parse_splits
from planforge.errors import ConfigError, DatasetError, RecordFormatError
from planforge.interchange import IMPORTERS
from planforge.interchange.calls import AnsweredWithoutCalls
from planforge.interchange.exporting import answers_path_for

DEFAULT_SPLITS = "validation=0.05,test=0.05"


@dataclass(frozen=True)
class ImportSettings:
    source: Path
    fmt: str
    out: Path
    answers: Path | None = None  # BFCL's possible_answer file (default: possible_answer/<name> beside it)
    splits: str = DEFAULT_SPLITS
    seed: int = 0
    recipe: str | None = None  # apply its rules and name the rows after it
    limit: int | None = None  # read at most this many records
    overwrite: bool = False
    no_call_rows: bool = False  # a request answered without a call becomes a no-call example (else: ``no_calls``)


@dataclass
class ImportResult:
    read: int = 0
    imported: int = 0
    rejected: Counter = field(default_factory=Counter)
    duplicates: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def read_records(path: Path, limit: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, record)`` of a JSONL file or a JSON array; a line that is not JSON comes as a
    :class:`RecordFormatError` in place of the record."""
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(1)
            while head and head.isspace():
                head = handle.read(1)
            handle.seek(0)
            if head == "[":
                try:
                    records = json.load(handle)
                except (ValueError, RecursionError) as exc:
                    raise DatasetError(f"{path}: not a valid JSON array ({str(exc).splitlines()[0]})") from None
                yield from enumerate(records[:limit] if limit is not None else records)
                return
            index = 0
            for line in handle:
                if limit is not None and index >= limit:
                    return
                if not line.strip():
                    continue
                try:
                    yield index, json.loads(line)
                except (ValueError, RecursionError):
                    yield index, RecordFormatError("unreadable", "not a JSON line")
                index += 1
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder; give the file to import") from None


def _answers(settings: ImportSettings) -> dict[str, Mapping[str, Any]] | None:
    if settings.fmt != "bfcl":
        if settings.answers is not None:
            raise ConfigError("--answers is for --from bfcl only")
        return None
    path = settings.answers or answers_path_for(settings.source)
    if not path.is_file():
        raise ConfigError(f"BFCL answers not found at {path}: pass --answers POSSIBLE_ANSWER.json")
    by_id: dict[str, Mapping[str, Any]] = {}
    for index, record in read_records(path):
        if isinstance(record, Mapping):
            by_id[str(record.get("id", index))] = record
    return by_id


def _rules(recipe: str | None) -> tuple[str, list[Any]]:
    if recipe is None:
        return "", []
    from planforge.recipes.loader import load_recipe

    loaded = load_recipe(recipe)
    return loaded.name, list(loaded.rule_functions())


def import_dataset(
    settings: ImportSettings, progress: Callable[[int], None] | None = None
) -> tuple[ImportResult, dict[str, list[dict[str, Any]]]]:
    """Read, validate and split ``settings.source``; returns the counts and the rows by split (nothing written)."""
    from planforge.validators import judge

    if settings.fmt not in IMPORTERS:
        raise ConfigError(f"--from must be one of {', '.join(IMPORTERS)}, not {settings.fmt!r}")
    module = IMPORTERS[settings.fmt]
    splits = parse_splits(settings.splits)
    answers = _answers(settings)
    recipe_name, rules = _rules(settings.recipe)
    teacher = f"import:{settings.fmt}"
    start = time.perf_counter()
    result = ImportResult()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, record in read_records(settings.source, settings.limit):
        result.read += 1
        if progress is not None and result.read % 100 == 0:
            progress(result.read)
        no_call = False
        try:
            if isinstance(record, RecordFormatError):
                raise record
            if answers is not None:
                key = str(record.get("id", index)) if isinstance(record, Mapping) else str(index)
                item = module.import_record(record, index, answers.get(key))
            else:
                item = module.import_record(record, index)
        except AnsweredWithoutCalls as exc:
            if not settings.no_call_rows:
                result.rejected[exc.code] += 1
                continue
            item, no_call = exc.imported, True
        except RecordFormatError as exc:
            result.rejected[exc.code] += 1
            continue
        context = {"query": item.query, "now": item.now}
        verdict = judge(item.calls, item.tools, rules=rules, context=context, no_call=no_call)
        if verdict.plan is None or verdict.errors:
            result.rejected[verdict.codes[0] if verdict.codes else "syntax"] += 1
            continue
        example = Example(
            item.query,
            verdict.plan,
            item.tools,
            item.now,
            teacher=teacher,
            recipe=recipe_name,
            request_id=item.source_id,
            no_call=no_call,
        )
        row = example.to_row()
        if row["id"] in seen:
            result.duplicates += 1
            continue
        seen.add(row["id"])
        rows.append(row)
    if progress is not None:
        progress(result.read)
    by_split = {
        name: [rows[i] for i in sorted(indices)]
        for name, indices in assign_splits(len(rows), splits, settings.seed).items()
        if indices
    }
    result.imported = len(rows)
    result.splits = {name: len(by_split.get(name, [])) for name in SPLIT_NAMES if by_split.get(name)}
    result.seconds = time.perf_counter() - start
    return result, by_split


def run_record(settings: ImportSettings, result: ImportResult) -> RunRecord:
    return RunRecord(
        requested=result.read,
        proposed=result.read,
        parsed=result.read - sum(n for code, n in result.rejected.items() if code in READ_CODES),
        valid=result.imported + result.duplicates,
        accepted=result.imported,
        rejected=dict(result.rejected.most_common()),
        duplicates={"exact": result.duplicates} if result.duplicates else {},
        wall_seconds=round(result.seconds, 3),
        teacher=f"import:{settings.fmt}",
        recipe={"name": settings.recipe} if settings.recipe else {},
        seed=settings.seed,
        splits=dict(result.splits),
        split_settings=parse_splits(settings.splits),
        planforge_version=__version__,
        extra={
            "imported_from": {
                "path": str(settings.source),
                "format": settings.fmt,
                "answers": str(settings.answers) if settings.answers else None,
                "limit": settings.limit,
                "no_call_rows": settings.no_call_rows,
            }
        },
    )


#: Codes of records that could not be read as an example at all (the rest are plans the validators refused).
READ_CODES = frozenset({"bad_record", "unreadable", "no_query", "no_calls", "tools", "calls"})


def run_import(
    settings: ImportSettings, progress: Callable[[int], None] | None = None
) -> tuple[ImportResult, RunRecord]:
    """Import and write the dataset and ``run.json`` to ``settings.out`` (atomically: all or nothing)."""
    import datasets

    check_output(settings.out, settings.overwrite)
    result, by_split = import_dataset(settings, progress)
    if not result.imported:
        codes = ", ".join(f"{code} {n}" for code, n in result.rejected.most_common(4)) or "no records"
        raise DatasetError(f"{settings.source}: no record could be imported ({codes})")
    record = run_record(settings, result)
    with atomic_dir(settings.out, settings.overwrite) as tmp:
        dataset = datasets.DatasetDict({name: make_dataset(rows, PLAN_FEATURES) for name, rows in by_split.items()})
        save_dataset(dataset, tmp)
        record.write(tmp)
    return result, record
