"""``gen recipes list|show|init``: the bundled recipes, what a recipe holds, and a new recipe for your functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from planforge.commands import new_app
from planforge.console import out

recipes_app = new_app(help="List and inspect recipes.")


@recipes_app.command("list")
def recipes_list() -> None:
    """The bundled recipes."""
    from planforge.recipes.loader import bundled_recipe_names, load_recipe

    table = Table(show_header=True)
    for column in ("name", "version", "functions", "description"):
        table.add_column(column)
    for name in bundled_recipe_names():
        recipe = load_recipe(name)
        table.add_row(recipe.name, recipe.version, str(len(recipe.tools)), recipe.description)
    out.print(table)


@recipes_app.command("show")
def recipes_show(recipe: Annotated[str, typer.Argument(help="A bundled recipe name or a recipe folder.")]) -> None:
    """A recipe's settings, functions and rules."""
    from planforge.prompting import render_function
    from planforge.recipes.loader import load_recipe

    loaded = load_recipe(recipe)
    out.print(f"[bold]{loaded.name}[/] {loaded.version}  ({loaded.path})\n{loaded.description}\n")
    out.print(f"[bold]functions[/] ({len(loaded.tools)})")
    for spec in loaded.tools.specs:
        out.print("  " + render_function(spec).split("\n")[0], markup=False, highlight=False)
    out.print(
        f"\n[bold]rules[/]: {', '.join(r.name for r in loaded.rules) or 'none'}"
        f"{'; join() required' if loaded.require_join else ''}"
    )
    out.print(f"[bold]sampling[/]: {json.dumps({k: v for k, v in loaded.sampling.items() if k != 'co_use'})}")
    out.print(f"[bold]splits[/]: {json.dumps(loaded.splits)}  [bold]few-shot examples[/]: {len(loaded.few_shot)}")
    out.print(f"[bold]template teacher[/]: {'yes' if loaded.templates_path else 'no'}")


@recipes_app.command("init")
def recipes_init(
    name: Annotated[str, typer.Argument(help="The recipe's name; its folder is written as ./NAME (or under --dir).")],
    tools: Annotated[
        Path | None,
        typer.Option(help="Function definitions: OpenAI, bare, BFCL or xLAM JSON (default: the --from-dataset's)."),
    ] = None,
    from_dataset: Annotated[
        Path | None,
        typer.Option(
            "--from-dataset", help="A plans dataset (or JSONL set): few-shot examples, and tools if none given."
        ),
    ] = None,
    directory: Annotated[Path, typer.Option("--dir", help="Folder to write the recipe folder in.")] = Path("."),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing recipe folder.")] = False,
) -> None:
    """Write a working recipe folder for your own functions: tools.json normalized, sampling defaults, the teacher
    prompt to edit, few-shot examples (from --from-dataset) or a placeholder, no rules."""
    from planforge.dataset.disk import check_output
    from planforge.errors import ConfigError
    from planforge.recipes.loader import load_recipe
    from planforge.recipes.scaffold import recipe_files, shots_from_rows, tools_of_rows, write_recipe
    from planforge.tools import load_tools

    if tools is None and from_dataset is None:
        raise ConfigError("give --tools TOOLS.json (or --from-dataset DIR to take the functions a dataset offers)")
    folder = directory / name
    check_output(folder, overwrite)
    rows: list = []
    if from_dataset is not None:
        from planforge.dataset.disk import load_dataset_of_kind
        from planforge.dataset.features import PLANS

        loaded = load_dataset_of_kind(from_dataset, kind=PLANS, columns=("query", "tools", "plan_text"))
        rows = [row for split in loaded.values() for row in split]
    functions = load_tools(tools) if tools is not None else tools_of_rows(rows)
    shots = shots_from_rows(rows, functions) if rows else []
    source = (tools.name if tools is not None else str(from_dataset)) or ""
    write_recipe(folder, recipe_files(name, functions, shots, source), overwrite)
    recipe = load_recipe(folder)  # what was written loads: the few-shot plans pass the validators
    out.print(
        f"wrote {folder}/ ({len(recipe.tools)} functions, {len(recipe.few_shot)} few-shot examples); edit its "
        f"recipe.yaml, then: gen run recipe {folder} --teacher openai --model MODEL --out runs/{name}",
        highlight=False,
        soft_wrap=True,
    )
