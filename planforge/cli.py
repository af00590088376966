"""The ``gen`` / ``planforge`` command line: parse flags, call one function per command, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="gen",
    help="Build synthetic function-calling datasets and the small models trained on them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Build synthetic function-calling datasets and the small models trained on them."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (no traceback for bad input)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def validate(
    plans: Annotated[Path, typer.Argument(help="JSONL: one {id, plan, tools?} per line.")],
    tools: Annotated[
        Path | None, typer.Option("--tools", help="Function definitions (OpenAI, bare or BFCL JSON).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto | llmcompiler | json")] = "auto",
    require_join: Annotated[bool, typer.Option("--require-join", help="A plan must end with join().")] = False,
) -> None:
    """Validate plans: one JSON verdict per line on stdout, a summary on stderr.

    Exit 0 when all are valid, 1 when any is invalid, 2 when the input is unusable, 3 on an internal error."""
    from planforge.errors import InternalError, UserError
    from planforge.plan_files import one_line, validate_file

    if fmt not in ("auto", "llmcompiler", "json"):
        raise fail(f"--format must be auto, llmcompiler or json, not {fmt!r}")
    try:
        summary = validate_file(plans, tools, fmt=fmt, require_join=require_join, out=sys.stdout)
    except UserError as exc:
        raise fail(one_line(str(exc)), exc.exit_code) from None
    except InternalError as exc:
        sys.stdout.flush()
        raise fail(one_line(f"internal error, please report: {exc}"), exc.exit_code) from None
    sys.stdout.flush()
    table = Table(title=one_line(f"{plans.name}: {summary.valid}/{summary.total} valid"), title_justify="left")
    table.add_column("error code")
    table.add_column("count", justify="right")
    for code, count in summary.by_code.most_common():
        table.add_row(code, str(count))
    err.print(table)
    raise typer.Exit(1 if summary.invalid else 0)


run_app = typer.Typer(help="Generate a dataset.", no_args_is_help=True)
recipes_app = typer.Typer(help="List and inspect recipes.", no_args_is_help=True)
app.add_typer(run_app, name="run")
app.add_typer(recipes_app, name="recipes")


@run_app.command("recipe")
def run_recipe(
    recipe: Annotated[str, typer.Argument(help="A bundled recipe name (mac_assistant) or a recipe folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: DatasetDict, run.json, checkpoint.")],
    num_examples: Annotated[int, typer.Option("--num-examples", "-n", min=1, help="Examples to accept.")] = 1000,
    teacher: Annotated[
        str, typer.Option(help="auto | openai | template (auto: openai if an endpoint or key is set)")
    ] = "auto",
    model: Annotated[str | None, typer.Option(help="Teacher model (openai teacher; default gpt-4o-mini).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (or OPENAI_BASE_URL).")] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(min=1, help="Teacher requests in flight.")] = 32,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute limit.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute limit.")] = None,
    max_requests: Annotated[int | None, typer.Option(min=1, help="Stop after this many teacher requests.")] = None,
    max_cost: Annotated[float | None, typer.Option(min=0, help="Stop once this much (USD) is spent.")] = None,
    price: Annotated[str | None, typer.Option(help="USD per 1M prompt,completion tokens, e.g. 2.5,10")] = None,
    seed: Annotated[int, typer.Option(help="Seed for function sampling, templates and splits.")] = 0,
    splits: Annotated[str | None, typer.Option(help="validation=0.05,test=0.05 (shares) or =100 (counts).")] = None,
    examples_per_request: Annotated[int | None, typer.Option(min=1, help="Examples asked per request.")] = None,
    near_dup_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="MinHash Jaccard threshold.")] = 0.85,
    resume: Annotated[bool, typer.Option(help="Continue the checkpoint in --out.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the first prompt and a cost estimate; call nothing.")] = False,
    cache_dir: Annotated[Path | None, typer.Option(help="Response cache (default ~/.cache/planforge).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the response cache.")] = False,
    max_retries: Annotated[int, typer.Option(min=0, help="Retries per request (429, 5xx, timeouts).")] = 6,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per teacher request.")] = 120.0,
) -> None:
    """Build a validated dataset from a recipe with a teacher LLM (or the offline template teacher)."""
    from planforge.generator.checkpoint import Checkpoint, CheckpointError
    from planforge.generator.console import RunProgress, summary_table
    from planforge.generator.job import JobError, TeacherOptions, build_teacher, resolve_price, run_job
    from planforge.generator.run import RunAborted, RunConfig
    from planforge.generator.writer import parse_splits
    from planforge.recipes.loader import RecipeError, load_recipe

    options = TeacherOptions(
        kind=teacher,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=concurrency,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        max_retries=max_retries,
        timeout=timeout,
        cache_dir=cache_dir,
        use_cache=not no_cache,
    )
    try:
        loaded = load_recipe(recipe)
        split_settings = parse_splits(splits) if splits else dict(loaded.splits)
        price_override = _parse_price(price)
        chosen = build_teacher(loaded, options, seed)
    except (RecipeError, JobError, ValueError) as exc:
        raise fail(str(exc)) from None
    config = RunConfig(
        recipe=loaded,
        out=out,
        num_examples=num_examples,
        seed=seed,
        max_requests=max_requests,
        max_cost=max_cost,
        near_duplicate_threshold=near_dup_threshold,
        examples_per_request=examples_per_request,
        resume=resume,
        window=max(2 * concurrency, 8),
        price=resolve_price(loaded, chosen.model, price_override),
    )
    if options.resolved_kind() == "template":
        err.print(
            "[bold]teacher:[/] offline template teacher (no endpoint or API key configured)"
            if options.kind == "auto"
            else "[bold]teacher:[/] offline template teacher"
        )
    else:
        from planforge.secrets import scrub_url

        endpoint = scrub_url(options.resolved_base_url() or "https://api.openai.com/v1")
        err.print(f"[bold]teacher:[/] {chosen.model} at {endpoint}", highlight=False)
        if config.price is None:
            err.print(f"no price known for {chosen.model}: cost is counted as $0 (set --price or the recipe's pricing)")
    if dry_run:
        _print_dry_run(config, chosen)
        return
    checkpoint = Checkpoint.in_dir(out)
    if checkpoint.exists() and not resume:
        err.print(f"{out}: starting over (pass --resume to continue its checkpoint; cached replies are reused)")
    try:
        with RunProgress(err, num_examples) as progress:
            result, record = run_job(
                config, chosen, split_settings, base_url=options.resolved_base_url(), on_progress=progress.update
            )
    except (RunAborted, CheckpointError) as exc:
        raise fail(f"{exc}. Finished requests are kept in {checkpoint.path}; rerun with --resume") from None
    except KeyboardInterrupt:
        raise fail(f"interrupted. Finished requests are kept in {checkpoint.path}; rerun with --resume", 130) from None
    err.print(summary_table(record))
    err.print(f"wrote {out} (DatasetDict: {', '.join(record['splits'])}) and {out / 'run.json'}")
    if result.stats.accepted < num_examples:
        err.print(f"[yellow]accepted {result.stats.accepted} of {num_examples}: {result.stop_reason}[/]")


def _parse_price(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        prompt, completion = (float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--price must be PROMPT,COMPLETION in USD per 1M tokens, not {text!r}") from None
    return prompt, completion


def _print_dry_run(config, teacher) -> None:
    from planforge.generator.pricing import cost_usd
    from planforge.generator.sampler import FunctionSampler

    sampler = FunctionSampler(
        config.recipe.tools, config.sampling(), config.seed, getattr(teacher, "candidate_targets", None)
    )
    request = sampler.draw()
    prompt = teacher.render(request)
    per_request = request.num_examples
    requests = -(-config.num_examples * 10 // (per_request * 8))  # assume 80% of examples are accepted
    prompt_tokens = len(prompt) // 4
    completion_tokens = per_request * 120
    estimate = cost_usd(config.price, prompt_tokens, completion_tokens) * requests
    Console().print(prompt, markup=False, highlight=False)
    err.print(
        f"dry run: about {requests:,} requests of ~{prompt_tokens:,} prompt + ~{completion_tokens:,} completion "
        f"tokens for {config.num_examples:,} examples: about ${estimate:,.2f}"
        + ("" if config.price else " (no price known for this model)")
    )


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
    Console().print(table)


@recipes_app.command("show")
def recipes_show(recipe: Annotated[str, typer.Argument(help="A bundled recipe name or a recipe folder.")]) -> None:
    """A recipe's settings, functions and rules."""
    from planforge.prompting import render_function
    from planforge.recipes.loader import RecipeError, load_recipe

    try:
        loaded = load_recipe(recipe)
    except RecipeError as exc:
        raise fail(str(exc)) from None
    console = Console()
    console.print(f"[bold]{loaded.name}[/] {loaded.version}  ({loaded.path})\n{loaded.description}\n")
    console.print(f"[bold]functions[/] ({len(loaded.tools)})")
    for spec in loaded.tools.specs:
        console.print("  " + render_function(spec).split("\n")[0], markup=False, highlight=False)
    console.print(
        f"\n[bold]rules[/]: {', '.join(r.name for r in loaded.rules) or 'none'}"
        f"{'; join() required' if loaded.require_join else ''}"
    )
    console.print(f"[bold]sampling[/]: {json.dumps({k: v for k, v in loaded.sampling.items() if k != 'co_use'})}")
    console.print(f"[bold]splits[/]: {json.dumps(loaded.splits)}  [bold]few-shot examples[/]: {len(loaded.few_shot)}")
    console.print(f"[bold]template teacher[/]: {'yes' if loaded.templates_path else 'no'}")


# Commands of the other components; each imports its heavy dependencies inside the command.
from planforge.curation_ui.cli import pairs, review_app  # noqa: E402
from planforge.publish_cli import register as _register_publish  # noqa: E402
from planforge.trainers.cli import eval_app, train_app  # noqa: E402

app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.command("pairs")(pairs)
app.add_typer(review_app, name="review")
_register_publish(app)


def main() -> None:  # pragma: no cover - console entry point
    app()
