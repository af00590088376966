"""The ``gen`` / ``planforge`` command line: the sub-apps of each package, assembled.

Every command parses its flags, builds one config and calls one function; errors become exit codes in one
place (:class:`planforge.commands.PlanforgeGroup`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from planforge.commands import new_app
from planforge.console import err

app = new_app(name="gen", help="Build synthetic function-calling datasets and the small models trained on them.")


@app.callback()
def _root() -> None:
    """Build synthetic function-calling datasets and the small models trained on them."""


@app.command()
def validate(
    plans: Annotated[Path, typer.Argument(help="JSONL: one {id, plan, tools?} per line.")],
    tools: Annotated[
        Path | None, typer.Option("--tools", help="Function definitions (OpenAI, bare or BFCL JSON).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto | llmcompiler | json")] = "auto",
    require_join: Annotated[bool, typer.Option("--require-join", help="A plan must end with join().")] = False,
) -> None:
    """Validate plans: one JSON verdict per line on stdout, a summary on stderr.

    Exit 0 when all are valid, 1 when any is invalid, 2 when the input is unusable."""
    from rich.table import Table

    from planforge.errors import InputError
    from planforge.plan_files import Summary, read_plan_records, validate_records
    from planforge.tools import load_tools

    if fmt not in ("auto", "llmcompiler", "json"):
        raise InputError(f"--format must be auto, llmcompiler or json, not {fmt!r}")
    default_tools = load_tools(tools) if tools is not None else None
    records = read_plan_records(plans, default_tools)
    summary = Summary()
    stdout = sys.stdout
    for verdict in validate_records(records, fmt=fmt, require_join=require_join, summary=summary):
        stdout.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    stdout.flush()
    table = Table(title=f"{plans.name}: {summary.valid}/{summary.total} valid", title_justify="left")
    table.add_column("error code")
    table.add_column("count", justify="right")
    for code, count in summary.by_code.most_common():
        table.add_row(code, str(count))
    err.print(table)
    raise typer.Exit(1 if summary.invalid else 0)


def _register() -> None:
    """The commands of each package; each imports its heavy dependencies inside the command."""
    from planforge.curation_ui.cli import review_app
    from planforge.generator.cli import merge, run_app
    from planforge.pairs.cli import pairs
    from planforge.publishing.cli import register as register_publishing
    from planforge.recipes.cli import recipes_app
    from planforge.trainers.cli import eval_app, train_app

    app.add_typer(run_app, name="run")
    app.command("merge")(merge)
    app.add_typer(recipes_app, name="recipes")
    app.add_typer(train_app, name="train")
    app.add_typer(eval_app, name="eval")
    app.command("pairs")(pairs)
    app.add_typer(review_app, name="review")
    register_publishing(app)


_register()


def main() -> None:  # pragma: no cover - console entry point
    app()
