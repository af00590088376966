"""``gen pairs``: flags -> :class:`~planforge.pairs.job.PairsJob` -> the pairs and a summary table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planforge.console import count_table, err, out, task_progress


def pairs(
    dataset_dir: Annotated[Path, typer.Argument(help="A plans dataset saved by `gen run` (DatasetDict folder).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: the pairs DatasetDict + pairs.json.")],
    rejected: Annotated[str, typer.Option(help="Where rejected plans come from: student | corruptions | mixed.")] = (
        "mixed"
    ),
    student_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="mixed: share of examples answered by the student.")
    ] = 0.5,
    student: Annotated[
        str,
        typer.Option(
            help="local (transformers) | openai (any OpenAI-compatible endpoint) | adapter:SFT_DIR (the SFT model's "
            "own plans, on the prompts it was trained on: on-policy negatives)."
        ),
    ] = "local",
    model: Annotated[
        str | None,
        typer.Option(help="Student model: hub id, folder or .gguf (local; default SmolLM2-135M), or model name."),
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (or $OPENAI_BASE_URL).")] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the endpoint's key.")] = (
        "OPENAI_API_KEY"
    ),
    kinds: Annotated[str | None, typer.Option(help="Corruption kinds, comma-separated (default: all).")] = None,
    per_example: Annotated[
        int, typer.Option(min=1, help="Rejected plans per example (corruptions of distinct kinds, or student plans).")
    ] = 1,
    splits: Annotated[str | None, typer.Option(help="Splits to use, comma-separated (default: all).")] = None,
    max_examples: Annotated[int | None, typer.Option(min=1, help="At most this many examples per split.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the student/corruption split and the corruptions.")] = 0,
    temperature: Annotated[float, typer.Option(min=0.0, help="Student sampling temperature (0: greedy).")] = 0.0,
    top_p: Annotated[float, typer.Option(min=0.0, max=1.0, help="Local student: nucleus sampling mass.")] = 1.0,
    samples: Annotated[
        int, typer.Option(min=1, help="Student plans per example (needs --temperature > 0); wrong ones are kept.")
    ] = 1,
    max_new_tokens: Annotated[int, typer.Option(min=16, help="Student answer length limit (tokens).")] = 320,
    batch_size: Annotated[int, typer.Option(min=1, help="local student: prompts per generation batch.")] = 8,
    concurrency: Annotated[int, typer.Option(min=1, help="openai student: requests in flight.")] = 8,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
) -> None:
    """Build DPO preference pairs: the validated teacher plan (chosen) against a student's wrong plan or a typed
    corruption of the chosen plan (rejected). Writes a DatasetDict TRL's DPOTrainer reads as is."""
    from planforge.llms.endpoint import EndpointOptions
    from planforge.pairs.builder import PairsConfig
    from planforge.pairs.corruptions import KINDS
    from planforge.pairs.job import PairsJob, StudentOptions, run_pairs

    job = PairsJob(
        dataset=dataset_dir,
        out=out_dir,
        overwrite=overwrite,
        pairs=PairsConfig(
            rejected=rejected,
            student_share=student_share,
            kinds=_names(kinds) or KINDS,
            per_example=per_example,
            seed=seed,
            splits=_names(splits) or None,
            max_examples=max_examples,
        ),
        student=StudentOptions(
            kind=student,
            model=model,
            endpoint=EndpointOptions(
                base_url=base_url, api_key_env=api_key_env, concurrency=concurrency, max_retries=2, use_cache=False
            ),
            temperature=temperature,
            top_p=top_p,
            samples=samples,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
        ),
    )
    with task_progress("pairs") as update:
        report = run_pairs(job, progress=lambda what, done, total: update(done, total, what))
    rows = [*report["by_kind"].items(), *((f"[dim]skipped: {r}[/]", n) for r, n in report["skipped"].items())]
    title = f"{out_dir}: {report['total_pairs']} pairs from {report['examples']} examples"
    err.print(count_table(title, ("rejection", "pairs"), rows))
    splits_text = ", ".join(f"{s}: {n}" for s, n in report["pairs"].items())
    out.print(f"wrote {out_dir} ({splits_text}) and {out_dir / 'pairs.json'}", highlight=False, soft_wrap=True)


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip()) if text else ()
