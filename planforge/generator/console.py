"""What ``gen run`` shows a person: a live progress bar and the summary table."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from planforge.generator.run import RunStats


class RunProgress:
    """A rich progress bar: accepted / target, rejection rate, cost so far, requests/s."""

    def __init__(self, console: Console, target: int):
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("run", total=target, detail="")

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def update(self, stats: RunStats) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        proposed = max(stats.proposed, 1)
        rejected = stats.proposed - stats.valid
        detail = (
            f"rejected {rejected / proposed:5.1%}  dup {stats.duplicates_exact + stats.duplicates_near}  "
            f"${stats.cost_usd:,.4f}  {stats.requests / elapsed:6.1f} req/s"
        )
        self.progress.update(self.task, completed=stats.accepted, detail=detail)


def summary_table(record: dict[str, Any]) -> Table:
    table = Table(
        title=f"run summary: {record['recipe']['name']} ({record['teacher']}, {record['model']})",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    stats = record["stats"]
    rows = [
        ("accepted / requested", f"{record['accepted']:,} / {record['requested']:,}"),
        ("teacher requests (failed)", f"{stats['requests']:,} ({stats['failed_requests']:,})"),
        (
            "responses (cached, rejected)",
            f"{stats['responses']:,} ({stats['cached_responses']:,}, {stats['rejected_responses']:,})",
        ),
        ("examples proposed / parsed / valid", f"{stats['proposed']:,} / {stats['parsed']:,} / {stats['valid']:,}"),
        ("duplicates dropped (exact, near)", f"{record['duplicates']['exact']:,}, {record['duplicates']['near']:,}"),
        ("tokens (prompt, completion)", f"{record['tokens']['prompt']:,}, {record['tokens']['completion']:,}"),
        ("cost", f"${record['cost_usd']:,.4f}"),
        ("splits", ", ".join(f"{k} {v:,}" for k, v in record["splits"].items())),
        ("wall time", f"{record['wall_seconds']:,.1f} s"),
        ("stopped", record["stop_reason"]),
    ]
    for code, count in record["rejected"].items():
        rows.append((f"rejected: {code}", f"{count:,}"))
    for key, value in rows:
        table.add_row(key, value)
    return table
