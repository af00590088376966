"""``gen train sft|dpo|toolrag`` and ``gen eval plans|toolrag``: typer sub-apps.

Registered in :mod:`planforge.cli` with ``app.add_typer(train_app, name="train")`` and
``app.add_typer(eval_app, name="eval")``. torch/transformers/trl load inside the command bodies only, so
``gen --help`` stays fast. A :class:`TrainerConfigError` prints as one line (exit code 2), before training."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from planforge.trainers import TrainerConfigError

train_app = typer.Typer(
    help="Train models on planforge datasets: SFT, DPO and the ToolRAG classifier.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
eval_app = typer.Typer(
    help="Evaluate planners (plan success rate) and ToolRAG classifiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# ---- shared options ---------------------------------------------------------------------------------
MaxSteps = Annotated[int, typer.Option("--max-steps", help="Stop after this many optimizer steps (-1: use --epochs).")]
Epochs = Annotated[float | None, typer.Option("--epochs", help="Passes over the training split.")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Examples per device step.")]
Lr = Annotated[float | None, typer.Option("--lr", help="Peak learning rate.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed.")]
MaxExamples = Annotated[
    int | None, typer.Option("--max-examples", help="Use at most this many examples of each split used.")
]
Out = Annotated[Path, typer.Option("--out", help="Output directory (weights, run_config.json, metrics.json).")]


def _fail(message: str) -> typer.Exit:
    from planforge.trainers.report import console

    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _run(title: str, fn: Callable[[], dict[str, Any]], out: Path | None = None) -> dict[str, Any]:
    """Run a command body: config errors become one line; the metrics end as a table (stderr) and as JSON
    (stdout)."""
    from planforge.trainers.report import console, print_metrics

    try:
        metrics = fn()
    except TrainerConfigError as exc:
        raise _fail(str(exc)) from None
    print_metrics(title, metrics)
    if out is not None:
        console.print(f"wrote {out}", highlight=False)
    sys.stdout.write(json.dumps(metrics, default=str) + "\n")
    sys.stdout.flush()
    return metrics


def _given(**values: Any) -> dict[str, Any]:
    """Only the options the user set, so the config dataclasses keep their defaults otherwise."""
    return {k: v for k, v in values.items() if v is not None}


def _quiet_libraries() -> None:
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, message=".*will be removed in v6.*")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()


# ---- train ----------------------------------------------------------------------------------------------


@train_app.command("sft")
def train_sft(
    data: Annotated[Path, typer.Option("--data", help="A plans dataset from `gen run` (save_to_disk directory).")],
    model: Annotated[str, typer.Option("--model", help="Hub id, local directory or .gguf file.")],
    out: Out,
    lora: Annotated[bool, typer.Option("--lora/--full", help="LoRA adapter (default) or full fine-tuning.")] = True,
    toolrag: Annotated[
        Path | None, typer.Option("--toolrag", help="A ToolRAG classifier: prompts list its selected functions.")
    ] = None,
    max_steps: MaxSteps = -1,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    seed: Seed = 42,
    max_examples: MaxExamples = None,
    max_length: Annotated[int | None, typer.Option("--max-length", help="Token limit per example.")] = None,
    grad_accum: Annotated[int | None, typer.Option("--grad-accum", help="Gradient accumulation steps.")] = None,
    lora_r: Annotated[int | None, typer.Option("--lora-r", help="LoRA rank.")] = None,
    lora_layers: Annotated[
        int | None,
        typer.Option("--lora-layers", help="Adapt only the last N layers (default: all); about 2x faster on CPU."),
    ] = None,
) -> None:
    """Supervised fine-tuning (TRL SFTTrainer): prompt = functions + request, loss on the plan only."""
    from planforge.trainers.sft import SFTRunConfig

    cfg = SFTRunConfig(
        data=str(data),
        model=model,
        out=str(out),
        lora=lora,
        toolrag=str(toolrag) if toolrag else None,
        max_steps=max_steps,
        seed=seed,
        max_examples=max_examples,
        **_given(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            max_length=max_length,
            grad_accum=grad_accum,
            lora_r=lora_r,
            lora_layers=lora_layers,
        ),
    )

    def body() -> dict[str, Any]:
        _quiet_libraries()
        from planforge.trainers.sft import run_sft

        return run_sft(cfg)

    _run(f"gen train sft -> {out}", body, out)


@train_app.command("dpo")
def train_dpo(
    pairs: Annotated[Path, typer.Option("--pairs", help="A preference-pairs dataset from `gen pairs`.")],
    model: Annotated[str, typer.Option("--model", help="Hub id, local directory or .gguf file (the base).")],
    out: Out,
    adapter: Annotated[
        Path | None, typer.Option("--adapter", help="An SFT LoRA adapter to start from (it is also the reference).")
    ] = None,
    lora: Annotated[bool, typer.Option("--lora/--full", help="LoRA (default) or all weights.")] = True,
    toolrag: Annotated[
        Path | None,
        typer.Option("--toolrag", help="A ToolRAG classifier for the prompts (default: the SFT adapter's, if any)."),
    ] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="DPO temperature.")] = None,
    max_steps: MaxSteps = -1,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    seed: Seed = 42,
    max_examples: MaxExamples = None,
    max_length: Annotated[int | None, typer.Option("--max-length", help="Token limit per sequence.")] = None,
) -> None:
    """Direct preference optimisation (TRL DPOTrainer), optionally continuing an SFT adapter."""
    from planforge.trainers.dpo import DPORunConfig

    cfg = DPORunConfig(
        pairs=str(pairs),
        model=model,
        out=str(out),
        adapter=str(adapter) if adapter else None,
        toolrag=str(toolrag) if toolrag else None,
        lora=lora,
        max_steps=max_steps,
        seed=seed,
        max_examples=max_examples,
        **_given(beta=beta, epochs=epochs, batch_size=batch_size, lr=lr, max_length=max_length),
    )

    def body() -> dict[str, Any]:
        _quiet_libraries()
        from planforge.trainers.dpo import run_dpo

        return run_dpo(cfg)

    _run(f"gen train dpo -> {out}", body, out)


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise typer.BadParameter("--baseline-k: comma-separated integers, e.g. 3,6") from None
    if not ks or min(ks) < 1:
        raise typer.BadParameter("--baseline-k: comma-separated positive integers, e.g. 3,6")
    return ks


@train_app.command("toolrag")
def train_toolrag_cmd(
    data: Annotated[Path, typer.Option("--data", help="A plans dataset from `gen run`.")],
    out: Out,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Encoder (default: the packaged all-MiniLM-L6-v2; microsoft/deberta-v3-small with hub access).",
        ),
    ] = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Select a function at this probability.")] = 0.5,
    max_steps: MaxSteps = -1,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    seed: Seed = 42,
    max_examples: MaxExamples = None,
    baseline_k: Annotated[str, typer.Option("--baseline-k", help="k of the embedding top-k baselines.")] = "3,6",
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Skip the embedding baselines.")] = False,
    prompt_tokenizer: Annotated[
        str | None, typer.Option("--prompt-tokenizer", help="Count prompt tokens with this (planner) tokenizer.")
    ] = None,
) -> None:
    """Train the tool-retrieval classifier (one sigmoid per function) and compare it with embedding top-k."""
    from planforge.trainers.toolrag import ToolRAGConfig

    cfg = ToolRAGConfig(
        data=str(data),
        out=str(out),
        base=base,
        threshold=threshold,
        max_steps=max_steps,
        seed=seed,
        max_examples=max_examples,
        baseline_k=_ks(baseline_k),
        baseline=not no_baseline,
        prompt_tokenizer=prompt_tokenizer,
        **_given(epochs=epochs, batch_size=batch_size, lr=lr),
    )

    def body() -> dict[str, Any]:
        _quiet_libraries()
        from planforge.trainers.toolrag import train_toolrag

        return train_toolrag(cfg)

    _run(f"gen train toolrag -> {out}", body, out)


# ---- eval -----------------------------------------------------------------------------------------------


@eval_app.command("plans")
def eval_plans_cmd(
    data: Annotated[Path, typer.Option("--data", help="A plans dataset from `gen run`.")],
    model: Annotated[
        str | None, typer.Option("--model", help="Hub id, local directory or .gguf file that writes the plans.")
    ] = None,
    adapter: Annotated[Path | None, typer.Option("--adapter", help="A LoRA adapter for --model.")] = None,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", help="JSONL of {id, plan} made elsewhere, instead of a model.")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="Dataset split.")] = "test",
    toolrag: Annotated[
        Path | None,
        typer.Option("--toolrag", help="Prompts list this classifier's functions (default: the adapter's own)."),
    ] = None,
    require_join: Annotated[
        bool, typer.Option("--require-join/--no-require-join", help="A valid plan ends with join().")
    ] = True,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Prompts per generation batch.")] = 8,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Generation limit per plan.")] = 320,
    max_examples: MaxExamples = None,
    seed: Seed = 42,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write predictions.jsonl, metrics.json and run_config.json here.")
    ] = None,
) -> None:
    """Score plans: success rate (DAG isomorphism with the reference), validity, tool recall, errors by code."""
    from planforge.trainers.evaluate import EvalPlansConfig

    cfg = EvalPlansConfig(
        data=str(data),
        model=model,
        adapter=str(adapter) if adapter else None,
        predictions=str(predictions) if predictions else None,
        split=split,
        toolrag=str(toolrag) if toolrag else None,
        max_examples=max_examples,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        require_join=require_join,
        seed=seed,
        out=str(out) if out else None,
    )

    def body() -> dict[str, Any]:
        if model or adapter:
            _quiet_libraries()
        from planforge.trainers.evaluate import eval_plans

        return eval_plans(cfg)

    _run(f"gen eval plans ({split})", body, out)


@eval_app.command("toolrag")
def eval_toolrag_cmd(
    classifier: Annotated[Path, typer.Option("--classifier", help="A directory from `gen train toolrag`.")],
    data: Annotated[Path, typer.Option("--data", help="A plans dataset from `gen run`.")],
    split: Annotated[str, typer.Option("--split", help="Dataset split.")] = "test",
    threshold: Annotated[float | None, typer.Option("--threshold", help="Override the classifier's.")] = None,
    max_examples: MaxExamples = None,
    baseline_k: Annotated[str, typer.Option("--baseline-k", help="k of the embedding top-k baselines.")] = "3,6",
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Skip the embedding baselines.")] = False,
    prompt_tokenizer: Annotated[
        str | None, typer.Option("--prompt-tokenizer", help="Count prompt tokens with this (planner) tokenizer.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write metrics.json and run_config.json here.")] = None,
) -> None:
    """Recall, precision, functions selected per request, prompt tokens saved and latency of a classifier."""
    from planforge.trainers.toolrag import EvalToolRAGConfig

    cfg = EvalToolRAGConfig(
        classifier=str(classifier),
        data=str(data),
        split=split,
        threshold=threshold,
        max_examples=max_examples,
        baseline=not no_baseline,
        baseline_k=_ks(baseline_k),
        prompt_tokenizer=prompt_tokenizer,
        out=str(out) if out else None,
    )

    def body() -> dict[str, Any]:
        _quiet_libraries()
        from planforge.trainers.toolrag import eval_toolrag

        return eval_toolrag(cfg)

    _run(f"gen eval toolrag ({split})", body, out)


def main() -> None:  # pragma: no cover - for running the sub-apps alone: python -m planforge.trainers.cli
    root = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    root.add_typer(train_app, name="train")
    root.add_typer(eval_app, name="eval")
    root()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["eval_app", "train_app"]
