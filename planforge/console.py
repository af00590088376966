"""What planforge shows a person: one place for the two consoles, errors, progress bars and summary tables.

Results a script may read go to ``out`` (stdout); everything for a person (progress, tables, notes, errors)
goes to ``err`` (stderr), so ``gen ... > file`` keeps only the results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

err = Console(stderr=True)
out = Console()


def first_line(value: BaseException | str, limit: int = 300) -> str:
    """The first line of an error message (or of any text), at most ``limit`` characters."""
    text = str(value).strip()
    if isinstance(value, BaseException) and not text:
        text = type(value).__name__
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error(message: str) -> None:
    """Print a one-line error (the CLI's error handler uses this; no traceback for bad input). The message is
    printed as written: brackets in it (``planforge[publish]``, a JSON value) are not rich markup."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True, markup=True)


def say(message: str) -> None:
    """A line for the person at the terminal (stderr), printed as written (no rich markup)."""
    err.print(message, highlight=False, soft_wrap=True, markup=False)


def warn(message: str) -> None:
    err.print(f"[yellow]{escape(message)}[/]", highlight=False, soft_wrap=True)


def progress(*, transient: bool = False, info: bool = True, console: Console | None = None) -> Progress:
    """The one progress bar: description, bar, done/total, elapsed, remaining and a free ``info`` field.

    Off a terminal (CI logs, redirected stderr) rich prints nothing for it; long jobs print their own log
    lines there."""
    columns: list[Any] = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    if info:
        columns.append(TextColumn("{task.fields[info]}"))
    console = console or err
    # A transient bar off a terminal would only leave a blank line behind.
    return Progress(*columns, console=console, transient=transient, disable=transient and not console.is_terminal)


@contextmanager
def task_progress(description: str, total: int | None = None, *, transient: bool = True) -> Iterator[Any]:
    """A progress bar for one task; yields ``update(done, total=None, what=None)``."""
    with progress(transient=transient, info=False) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, total: int | None = None, what: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=what or description)

        yield update


def key_value_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    """A two-column summary table (a bold key and a right-aligned value per line)."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, value)
    return table


def count_table(title: str, header: tuple[str, str], counts: Iterable[tuple[str, Any]]) -> Table:
    """A table of labelled counts (error codes, rejection kinds...)."""
    table = Table(title=title, title_justify="left")
    table.add_column(header[0])
    table.add_column(header[1], justify="right")
    for label, count in counts:
        table.add_row(label, format_value(count))
    return table


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as ``a.b.c`` keys (long lists shown as their length)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            flat[name] = f"[{len(value)} items]"
        else:
            flat[name] = value
    return flat


def metrics_table(title: str, metrics: Mapping[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in flatten(metrics).items():
        table.add_row(key, format_value(value))
    return table
