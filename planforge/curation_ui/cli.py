"""``gen review push|pull|status``: the Argilla round trip (registered by planforge.cli).

Heavy imports (datasets, argilla) happen inside the command bodies. Outputs are built in a temporary folder,
then renamed, so a failure leaves nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from planforge.commands import new_app
from planforge.console import err, out, task_progress

review_app = new_app(help="Human review of preference pairs in Argilla.")

ApiUrl = Annotated[str | None, typer.Option("--api-url", help="Argilla URL (default: $ARGILLA_API_URL).")]
ApiKey = Annotated[str | None, typer.Option("--api-key", help="Argilla API key (default: $ARGILLA_API_KEY).")]
DatasetName = Annotated[str, typer.Option("--dataset", "-d", help="Argilla dataset name.")]
Workspace = Annotated[str | None, typer.Option("--workspace", "-w", help="Argilla workspace.")]


@review_app.command("push")
def review_push(
    pairs_dir: Annotated[Path, typer.Argument(help="A pairs dataset saved by `gen pairs`.")],
    dataset: DatasetName,
    workspace: Workspace = None,
    min_submitted: Annotated[
        int | None, typer.Option(min=1, help="Annotators needed per record (new datasets default to 1).")
    ] = None,
    suggestions: Annotated[
        bool,
        typer.Option(
            "--suggestions",
            help="Pre-fill answers from the validators where they can know (a plan that fails validation). "
            "Off by default: a pre-selected answer anchors annotators.",
        ),
    ] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Create (if missing) or update the Argilla review dataset with one record per pair (upsert by pair id)."""
    from planforge.curation_ui.connection import connect
    from planforge.curation_ui.push import load_pairs, push_pairs

    loaded = load_pairs(str(pairs_dir))
    client = connect(api_url, api_key)
    with task_progress(f"pushing to {dataset}") as update:
        result = push_pairs(
            client,
            loaded,
            dataset,
            workspace=workspace,
            min_submitted=min_submitted,
            suggestions=suggestions,
            progress=update,
        )
    action = "created" if result.created else "updated"
    out.print(
        f"{action} {result.workspace}/{result.dataset}: {result.pushed} pairs pushed ({result.new} new, "
        f"{result.updated} updated), {result.total} records, min_submitted {result.min_submitted}, "
        f"{result.seconds:.1f}s",
        highlight=False,
        soft_wrap=True,
    )


@review_app.command("pull")
def review_pull(
    dataset: DatasetName,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: reviewed pairs + review report.")],
    workspace: Workspace = None,
    min_annotators: Annotated[
        int,
        typer.Option(
            "--min-annotators",
            min=1,
            help="Resolve only pairs that this many annotators have answered; the rest wait for a later pull.",
        ),
    ] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Read submitted reviews, resolve annotators by majority, and write the reviewed pairs (DPO-ready) with
    review_report.json / review_report.md (verdicts, error kinds, agreement, invalid corrections)."""
    from planforge.curation_ui.connection import connect
    from planforge.curation_ui.pull import pull_reviews, report_markdown
    from planforge.dataset.disk import atomic_dir, check_output, save_dataset
    from planforge.errors import ReviewError

    check_output(out_dir, overwrite)
    client = connect(api_url, api_key)
    with task_progress(f"pulling {dataset}") as update:
        result = pull_reviews(client, dataset, workspace=workspace, min_annotators=min_annotators, progress=update)
    report = result.report
    if report["reviewed"] == 0:
        waiting = report["waiting_for_annotators"]
        fewer = f"; {waiting} have fewer than {min_annotators} annotators so far" if waiting else ""
        raise ReviewError(f"no reviewed pairs in {dataset!r} yet ({report['records']} records{fewer})")
    markdown = report_markdown(report)
    with atomic_dir(out_dir, overwrite) as tmp:
        save_dataset(result.dataset, tmp)
        (tmp / "review_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        (tmp / "review_report.md").write_text(markdown)
    err.print(markdown, highlight=False, markup=False)
    out.print(f"wrote {out_dir} ({report['total_exported']} reviewed pairs)", highlight=False, soft_wrap=True)


@review_app.command("status")
def review_status(
    dataset: DatasetName,
    workspace: Workspace = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Review progress of a dataset: records completed/pending and each annotator's responses."""
    from planforge.curation_ui.connection import connect
    from planforge.curation_ui.status import review_status as status_of

    client = connect(api_url, api_key)
    status = status_of(client, dataset, workspace=workspace)
    if as_json:
        out.print_json(json.dumps(status))
        return
    title = (
        f"{status['workspace']}/{status['dataset']}: {status['completed']}/{status['total']} records completed "
        f"(min_submitted {status['min_submitted']}), {status['pending']} pending"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("annotator")
    for column in ("submitted", "draft", "discarded"):
        table.add_column(column, justify="right")
    for user, counts in status["users"].items():
        table.add_row(user, *(str(counts[c]) for c in ("submitted", "draft", "discarded")))
    if not status["users"]:
        table.add_row("[dim](no responses yet)[/]", "", "", "")
    out.print(table)
