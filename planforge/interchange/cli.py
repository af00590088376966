"""``gen export`` and ``gen import``: flags -> one call -> a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planforge.console import count_table, err, key_value_table, out, task_progress

EXPORT_FORMATS = "openai | sharegpt | hermes | xlam | bfcl"
IMPORT_FORMATS = "openai | sharegpt | hermes | glaive | xlam | bfcl"


def export(
    dataset_dir: Annotated[Path, typer.Argument(help="A plans dataset (a `gen run` folder) or a JSONL plans set.")],
    to: Annotated[str, typer.Option("--to", help=f"Format: {EXPORT_FORMATS}.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output file (JSON Lines).")],
    split: Annotated[str | None, typer.Option(help="Export this split only (default: every split).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Write a plans dataset in another project's format, one record per example. BFCL writes its answers to
    possible_answer/<same name> beside the questions."""
    from planforge.interchange.exporting import export_dataset

    with task_progress(f"exporting to {to}") as update:
        result = export_dataset(dataset_dir, to, out_path, split=split, overwrite=overwrite, progress=update)
    splits = ", ".join(f"{name} {n}" for name, n in result.by_split.items())
    skipped = f"; skipped {sum(result.skipped.values())} unreadable rows" if result.skipped else ""
    answers = f" and its answers to {result.answers_path}" if result.answers_path else ""
    out.print(
        f"wrote {result.rows} {to} records ({splits}) to {result.path}{answers}{skipped}",
        highlight=False,
        soft_wrap=True,
    )


def import_(
    source: Annotated[Path, typer.Argument(help="The file to import (JSON Lines or a JSON array).")],
    from_: Annotated[str, typer.Option("--from", help=f"Format: {IMPORT_FORMATS}.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: a plans DatasetDict + run.json.")],
    answers: Annotated[
        Path | None,
        typer.Option(help="BFCL's possible_answer file (default: possible_answer/<name> beside the questions)."),
    ] = None,
    splits: Annotated[str, typer.Option(help="validation=… and test=… shares or counts; train gets the rest.")] = (
        "validation=0.05,test=0.05"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the split assignment.")] = 0,
    recipe: Annotated[
        str | None, typer.Option(help="Also apply this recipe's rules (name or folder) and name the rows after it.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Read at most this many records.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
    no_call_rows: Annotated[
        bool,
        typer.Option(
            "--no-call-rows",
            help="Keep requests answered without a call as no-call examples (plan join(), meta.no_call); "
            "default: count them under no_calls.",
        ),
    ] = False,
) -> None:
    """Read another project's function-calling data into a plans dataset: every plan validated with planforge's
    validators, invalid records counted by code and kept out (see run.json)."""
    from planforge.interchange.importing import ImportSettings, run_import

    settings = ImportSettings(
        source=source,
        fmt=from_,
        out=out_dir,
        answers=answers,
        splits=splits,
        seed=seed,
        recipe=recipe,
        limit=limit,
        overwrite=overwrite,
        no_call_rows=no_call_rows,
    )
    with task_progress(f"importing {source.name}") as update:
        result, _ = run_import(settings, progress=lambda done: update(done))
    rows = [
        ("records read", f"{result.read:,}"),
        ("imported", f"{result.imported:,}"),
        ("kept out (invalid or unreadable)", f"{sum(result.rejected.values()):,}"),
        ("exact duplicates", f"{result.duplicates:,}"),
        ("splits", ", ".join(f"{name} {n:,}" for name, n in result.splits.items())),
    ]
    err.print(key_value_table(f"gen import --from {from_}", rows))
    if result.rejected:
        err.print(count_table("kept out, by code", ("code", "records"), result.rejected.most_common()))
    out.print(f"wrote {out_dir} and {out_dir / 'run.json'}", highlight=False, soft_wrap=True)
