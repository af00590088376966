"""The ``gen pairs`` command and the ``gen review push|pull|status`` sub-app (registered by planforge.cli).

Heavy imports (datasets, argilla, torch) happen inside the command bodies. Every expected failure is one line
on stderr and exit code 2 (nothing half-written: outputs are built in a temporary folder, then renamed)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)
out = Console()

review_app = typer.Typer(help="Human review of preference pairs in Argilla.", no_args_is_help=True)

ApiUrl = Annotated[str | None, typer.Option("--api-url", help="Argilla URL (default: $ARGILLA_API_URL).")]
ApiKey = Annotated[str | None, typer.Option("--api-key", help="Argilla API key (default: $ARGILLA_API_KEY).")]
DatasetName = Annotated[str, typer.Option("--dataset", "-d", help="Argilla dataset name.")]
Workspace = Annotated[str | None, typer.Option("--workspace", "-w", help="Argilla workspace.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    from planforge.curation_ui.connection import ReviewError
    from planforge.curation_ui.outputs import OutputExistsError
    from planforge.curation_ui.pairs import PairsError
    from planforge.curation_ui.students import StudentError

    try:
        yield
    except (ReviewError, PairsError, StudentError, OutputExistsError) as exc:
        raise fail(str(exc)) from None


@contextmanager
def _progress(description: str) -> Iterator:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, what: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=what or description)

        yield update


def pairs(
    dataset_dir: Annotated[Path, typer.Argument(help="A plans dataset saved by `gen run` (DatasetDict folder).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: the pairs DatasetDict + pairs.json.")],
    rejected: Annotated[str, typer.Option(help="Where rejected plans come from: student | corruptions | mixed.")] = (
        "mixed"
    ),
    student_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="mixed: share of examples answered by the student.")
    ] = 0.5,
    student: Annotated[str, typer.Option(help="local (transformers) | openai (any OpenAI-compatible endpoint).")] = (
        "local"
    ),
    model: Annotated[
        str | None,
        typer.Option(help="Student model: hub id, folder or .gguf (local; default SmolLM2-135M), or model name."),
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (or $OPENAI_BASE_URL).")] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the endpoint's key.")] = (
        "OPENAI_API_KEY"
    ),
    kinds: Annotated[str | None, typer.Option(help="Corruption kinds, comma-separated (default: all).")] = None,
    per_example: Annotated[int, typer.Option(min=1, help="Corruptions per example (distinct kinds).")] = 1,
    splits: Annotated[str | None, typer.Option(help="Splits to use, comma-separated (default: all).")] = None,
    max_examples: Annotated[int | None, typer.Option(min=1, help="At most this many examples per split.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the student/corruption split and the corruptions.")] = 0,
    temperature: Annotated[float, typer.Option(min=0.0, help="openai student: sampling temperature.")] = 0.0,
    max_new_tokens: Annotated[int, typer.Option(min=16, help="Student answer length limit (tokens).")] = 320,
    batch_size: Annotated[int, typer.Option(min=1, help="local student: prompts per generation batch.")] = 8,
    concurrency: Annotated[int, typer.Option(min=1, help="openai student: requests in flight.")] = 8,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
) -> None:
    """Build DPO preference pairs: the validated teacher plan (chosen) against a student's wrong plan or a typed
    corruption of the chosen plan (rejected). Writes a DatasetDict TRL's DPOTrainer reads as is."""
    with _one_line_errors():
        from planforge.curation_ui.corruptions import KINDS
        from planforge.curation_ui.outputs import atomic_dir, check_output, save_dataset
        from planforge.curation_ui.pairs import PairsConfig, PairsError, build_pairs, load_plans, summary
        from planforge.curation_ui.students import LocalStudent, OpenAIStudent

        config = PairsConfig(
            rejected=rejected,
            student_share=student_share,
            kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else KINDS,
            per_example=per_example,
            seed=seed,
            splits=[s.strip() for s in splits.split(",") if s.strip()] if splits else None,
            max_examples=max_examples,
        )
        config.check()
        check_output(out_dir, overwrite)
        plans = load_plans(str(dataset_dir))
        chosen_student = None
        if config.uses_student:
            if student == "openai":
                if not model:
                    raise PairsError("--student openai needs --model (the endpoint's model name)")
                chosen_student = OpenAIStudent(
                    model,
                    base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
                    api_key=os.environ.get(api_key_env),
                    temperature=temperature,
                    max_tokens=max_new_tokens,
                    concurrency=concurrency,
                )
            elif student == "local":
                chosen_student = LocalStudent(model, max_new_tokens=max_new_tokens, batch_size=batch_size)
            else:
                raise PairsError(f"--student must be local or openai, not {student!r}")
        start = time.perf_counter()
        with _progress("pairs") as update:
            dataset, stats = build_pairs(
                plans, config, chosen_student, progress=lambda what, done, total: update(done, total, what)
            )
        report = summary(
            stats,
            config,
            source=str(dataset_dir),
            student=chosen_student.name if chosen_student else None,
            seconds=time.perf_counter() - start,
        )
        with atomic_dir(out_dir, overwrite) as tmp:
            save_dataset(dataset, tmp)
            (tmp / "pairs.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    title = f"{out_dir}: {report['total_pairs']} pairs from {report['examples']} examples"
    table = Table(title=title, title_justify="left")
    table.add_column("rejection")
    table.add_column("pairs", justify="right")
    for kind, count in report["by_kind"].items():
        table.add_row(kind, str(count))
    for reason, count in report["skipped"].items():
        table.add_row(f"[dim]skipped: {reason}[/]", str(count))
    err.print(table)
    splits_text = ", ".join(f"{s}: {n}" for s, n in report["pairs"].items())
    out.print(f"wrote {out_dir} ({splits_text}) and {out_dir / 'pairs.json'}", highlight=False, soft_wrap=True)


@review_app.command("push")
def review_push(
    pairs_dir: Annotated[Path, typer.Argument(help="A pairs dataset saved by `gen pairs`.")],
    dataset: DatasetName,
    workspace: Workspace = None,
    min_submitted: Annotated[
        int | None, typer.Option(min=1, help="Annotators needed per record (new datasets default to 1).")
    ] = None,
    suggestions: Annotated[bool, typer.Option(help="Show the validators' verdicts as suggestions.")] = True,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Create (if missing) or update the Argilla review dataset with one record per pair (upsert by pair id)."""
    with _one_line_errors():
        from planforge.curation_ui.connection import connect
        from planforge.curation_ui.push import load_pairs, push_pairs

        loaded = load_pairs(str(pairs_dir))
        client = connect(api_url, api_key)
        with _progress(f"pushing to {dataset}") as update:
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
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Read submitted reviews, resolve annotators by majority, and write the reviewed pairs (DPO-ready) with
    review_report.json / review_report.md (verdicts, error kinds, agreement, invalid corrections)."""
    with _one_line_errors():
        from planforge.curation_ui.connection import ReviewError, connect
        from planforge.curation_ui.outputs import atomic_dir, check_output, save_dataset
        from planforge.curation_ui.pull import pull_reviews, report_markdown

        check_output(out_dir, overwrite)
        client = connect(api_url, api_key)
        with _progress(f"pulling {dataset}") as update:
            result = pull_reviews(client, dataset, workspace=workspace, progress=update)
        report = result.report
        if report["reviewed"] == 0:
            raise ReviewError(f"no submitted reviews in {dataset!r} yet ({report['records']} records waiting)")
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
    with _one_line_errors():
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
