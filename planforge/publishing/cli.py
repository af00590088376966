"""``gen publish`` and ``gen report``: typer commands, registered on the main app with :func:`register`.

Heavy imports (``datasets``, ``huggingface_hub``, ``matplotlib``) happen inside the command bodies. A
:class:`~planforge.errors.PublishError` exits 2 (unusable input or settings, nothing uploaded) or 1 (an upload
that failed part way; the line says what was and was not uploaded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planforge.console import say


def publish(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Output folder of `gen run`, `gen pairs` or `gen review pull`.")
    ],
    repo_id: Annotated[str, typer.Option("--repo-id", help="Hub dataset repository, OWNER/NAME.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repository as private.")] = False,
    dry_run: Annotated[
        Path | None,
        typer.Option("--dry-run", metavar="OUT", help="Write what would be uploaded to this folder; no network."),
    ] = None,
    license: Annotated[
        str | None, typer.Option("--license", help="Hub license identifier (default: the recipe's, else apache-2.0).")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="ISO 639 code, repeat for several (default: the recipe's).")
    ] = None,
    pretty_name: Annotated[str | None, typer.Option("--pretty-name", help="Title of the dataset card.")] = None,
    retries: Annotated[int, typer.Option("--retries", min=1, help="Attempts per upload step on network errors.")] = 5,
    retry_wait: Annotated[float, typer.Option("--retry-wait", min=0.0, hidden=True)] = 2.0,
) -> None:
    """Publish a dataset to the Hugging Face Hub with a dataset card and its provenance.

    Every split is pushed with `datasets`' push_to_hub, then README.md (the card) and provenance/ (run.json
    and the recipe). The token comes from HF_TOKEN or `hf auth login`. Secrets are scrubbed from
    everything uploaded."""
    from planforge.publishing import RetryPolicy, publish_dataset

    result = publish_dataset(
        directory,
        repo_id,
        private=private,
        dry_run=dry_run,
        license=license,
        language=tuple(language) if language else None,
        pretty_name=pretty_name,
        retry=RetryPolicy(attempts=retries, initial_wait=retry_wait, max_wait=max(retry_wait, 30.0)),
        on_event=say,
    )
    bundle = result.bundle
    sizes = ", ".join(f"{name} {len(split):,}" for name, split in bundle.splits.items())
    for note in bundle.notes:
        say(f"note: {note}")
    if bundle.scrubbed_rows:
        say(f"note: scrubbed secret-looking values from {bundle.scrubbed_rows:,} rows")
    if bundle.skipped:
        say("note: left out binary provenance files (cannot be scrubbed): " + ", ".join(bundle.skipped))
    if dry_run is not None:
        say(f"dry run: wrote {len(result.dry_run_files)} files to {dry_run} ({sizes}); nothing was uploaded")
    else:
        assert result.upload is not None
        say(f"published {result.upload.repo_id} ({sizes}): {result.upload.url}")


def report(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Output folder of `gen run`, `gen pairs` or `gen review pull`.")
    ],
    out: Annotated[Path | None, typer.Option("--out", help="HTML file to write (default: DIR/report.html).")] = None,
    samples: Annotated[int, typer.Option("--samples", min=0, max=24, help="How many sample plan DAGs to draw.")] = 4,
) -> None:
    """Write a self-contained HTML report of a dataset: charts, tables and sample plan DAGs (opens offline)."""
    from planforge.errors import OutputError
    from planforge.publishing import write_report

    try:
        path, size = write_report(directory, out, samples=samples)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc}") from None
    say(f"wrote {path} ({size / 1024:,.0f} KB)")


def stats(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="A dataset folder (`gen run`, `gen pairs`, ...) or a .jsonl set.")
    ],
    dev: Annotated[
        Path | None, typer.Option("--dev", help="A hand-written JSONL set: how many of its structures DIR holds.")
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="How many of the most common structures to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (stdout).")] = False,
) -> None:
    """Coverage of a dataset: functions, function pairs, plan structures, single-call and parallel shares."""
    import json

    from planforge.console import out
    from planforge.dataset.stats import (
        StatsView,
        compute_stats,
        reference_structures,
        stats_summary,
        structure_coverage,
    )
    from planforge.publishing.source import load_source

    source = load_source(directory)
    figures = compute_stats(source.splits, source.kind, source.split_sizes)
    summary = stats_summary(figures, top)
    if dev is not None:
        reference = reference_structures(load_source(dev).splits)
        summary["dev"] = {"path": str(dev), **structure_coverage(figures, reference)}
    if as_json:
        out.print_json(json.dumps(summary))
    else:
        out.print(StatsView(summary))


def register(app: typer.Typer) -> None:
    """Add ``publish``, ``report`` and ``stats`` to the ``gen`` app."""
    app.command("publish")(publish)
    app.command("report")(report)
    app.command("stats")(stats)
