"""``gen recipes list|show``: the bundled recipes and what a recipe holds."""

from __future__ import annotations

import json
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
