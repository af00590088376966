"""The ``gen`` / ``planforge`` command line: the sub-apps of each package, assembled.

Every command parses its flags, builds one config and calls one function; errors become exit codes in one
place (:class:`planforge.commands.PlanforgeGroup`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from planforge.commands import new_app
from planforge.console import err

app = new_app(name="gen", help="Build synthetic function-calling datasets and the small models trained on them.")


def _version(value: bool) -> None:
    if value:
        from planforge import __version__

        typer.echo(f"planforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Build synthetic function-calling datasets and the small models trained on them."""


@app.command()
def validate(
    plans: Annotated[
        Path, typer.Argument(help="JSONL of {id, plan, tools?, query?, now?} lines, '-' (stdin) or a dataset folder.")
    ],
    tools: Annotated[
        Path | None, typer.Option("--tools", help="Function definitions (OpenAI, bare, BFCL or xLAM JSON).")
    ] = None,
    recipe: Annotated[
        str | None,
        typer.Option(help="Also apply this recipe's rules (with each line's query and now); its functions by default."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto | llmcompiler | json")] = "auto",
    require_join: Annotated[bool, typer.Option("--require-join", help="A plan must end with join().")] = False,
) -> None:
    """Validate plans: one JSON verdict per line on stdout, a summary on stderr.

    Exit 0 when all are valid, 1 when any is invalid, 2 when the input is unusable, 3 on an internal error."""
    from rich.table import Table

    from planforge.errors import InputError
    from planforge.plan_files import one_line, validate_file

    if fmt not in ("auto", "llmcompiler", "json"):
        raise InputError(f"--format must be auto, llmcompiler or json, not {fmt!r}")
    default_tools, rules = None, []
    if recipe is not None:
        from planforge.recipes.loader import load_recipe

        loaded = load_recipe(recipe)
        default_tools, rules = loaded.tools, loaded.rule_functions()
        require_join = require_join or loaded.require_join
    try:
        summary = validate_file(
            plans, tools, fmt=fmt, require_join=require_join, out=sys.stdout, default_tools=default_tools, rules=rules
        )
    finally:
        sys.stdout.flush()
    name = "stdin" if str(plans) == "-" else plans.name
    table = Table(title=one_line(f"{name}: {summary.valid}/{summary.total} valid"), title_justify="left")
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
    from planforge.interchange.cli import export, import_
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
    app.command("export")(export)
    app.command("import")(import_)
    register_publishing(app)


_register()


def main() -> None:  # pragma: no cover - console entry point
    app()
