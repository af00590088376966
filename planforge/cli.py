"""The ``gen`` / ``planforge`` command line: parse flags, call one function per command, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from planforge.tools import ToolSpecError, load_tools

app = typer.Typer(
    name="gen",
    help="Build synthetic function-calling datasets and the small models trained on them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Build synthetic function-calling datasets and the small models trained on them."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (no traceback for bad input)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


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
    from planforge.plan_files import InputError, Summary, read_plan_records, validate_records

    if fmt not in ("auto", "llmcompiler", "json"):
        raise fail(f"--format must be auto, llmcompiler or json, not {fmt!r}")
    try:
        default_tools = load_tools(tools) if tools is not None else None
        records = read_plan_records(plans, default_tools)
    except (InputError, ToolSpecError) as exc:
        raise fail(str(exc)) from None
    summary = Summary()
    out = sys.stdout
    for verdict in validate_records(records, fmt=fmt, require_join=require_join, summary=summary):
        out.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    out.flush()
    table = Table(title=f"{plans.name}: {summary.valid}/{summary.total} valid", title_justify="left")
    table.add_column("error code")
    table.add_column("count", justify="right")
    for code, count in summary.by_code.most_common():
        table.add_row(code, str(count))
    err.print(table)
    raise typer.Exit(1 if summary.invalid else 0)


def main() -> None:  # pragma: no cover - console entry point
    app()
