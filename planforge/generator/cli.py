"""``gen run recipe``: flags -> :class:`~planforge.generator.job.JobSettings` -> one job, its progress and summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from planforge.commands import new_app
from planforge.console import err, error, key_value_table, out, progress, say, warn
from planforge.errors import EXIT_INVALID

run_app = new_app(help="Generate a dataset.")


@run_app.command("recipe")
def run_recipe(
    recipe: Annotated[str, typer.Argument(help="A bundled recipe name (mac_assistant) or a recipe folder.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: DatasetDict, run.json, checkpoint.")],
    num_examples: Annotated[int, typer.Option("--num-examples", "-n", min=1, help="Examples to accept.")] = 1000,
    teacher: Annotated[
        str, typer.Option(help="auto | openai | template (auto: openai if an endpoint or key is set)")
    ] = "auto",
    model: Annotated[str | None, typer.Option(help="Teacher model (openai teacher; default gpt-4o-mini).")] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(help="OpenAI-compatible endpoint (or OPENAI_BASE_URL); give it again to spread requests."),
    ] = None,
    endpoints: Annotated[
        Path | None, typer.Option(help="File of endpoints, one 'URL [CONCURRENCY]' a line (# comments).")
    ] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(min=1, help="Teacher requests in flight (per endpoint).")] = 32,
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
    overwrite: Annotated[bool, typer.Option(help="Start over in an --out that already holds a run.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the first prompt and a cost estimate; call nothing.")] = False,
    cache_dir: Annotated[Path | None, typer.Option(help="Response cache (default ~/.cache/planforge).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the response cache.")] = False,
    max_retries: Annotated[int, typer.Option(min=0, help="Retries per request (429, 5xx, timeouts).")] = 6,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per teacher request.")] = 120.0,
    batch: Annotated[
        bool, typer.Option(help="Send requests as provider batches (half price); what fails goes online.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Requests per batch at most.")] = 1000,
    batch_poll: Annotated[float, typer.Option(min=0.01, help="Seconds between polls of a batch.")] = 30.0,
    shard: Annotated[
        str | None, typer.Option(help="I/N: make the I-th of N disjoint parts of the run (join them: gen merge).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Processes assessing replies (default: one per core, template teacher).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(help="Run --shards parts as Ray tasks on this cluster ('auto', ray://HOST:PORT, or 'local')."),
    ] = None,
    shards: Annotated[int, typer.Option(min=1, help="Parts of a --ray run.")] = 2,
    response_format: Annotated[
        str,
        typer.Option(
            help="json_schema | json_object | prompt: how replies are constrained (json_object sends the schema "
            "too; refusals fall back)."
        ),
    ] = "json_schema",
    mode: Annotated[
        str, typer.Option(help="free: the teacher writes requests and plans | paraphrase: it rewrites known ones.")
    ] = "free",
    from_dataset: Annotated[
        Path | None, typer.Option(help="Paraphrase seeds from this plans dataset (default: the template teacher).")
    ] = None,
    verify: Annotated[
        str | None, typer.Option(help="replan | judge: a model checks each valid example's meaning.")
    ] = None,
    verify_model: Annotated[str | None, typer.Option(help="Model of --verify (default: the teacher's).")] = None,
    verify_base_url: Annotated[str | None, typer.Option(help="Endpoint of --verify (default: the teacher's).")] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            min=16, help="Teacher completion tokens per request (default: the recipe's teacher.max_tokens, 4096)."
        ),
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option(min=0.0, max=2.0, help="Teacher sampling temperature (default: the recipe's, 0.9)."),
    ] = None,
) -> None:
    """Build a validated dataset from a recipe with a teacher LLM (or the offline template teacher)."""
    from planforge.errors import Interrupted, RunAborted
    from planforge.generator.checkpoint import Checkpoint
    from planforge.generator.job import JobSettings, TeacherOptions, estimate, prepare_job, run_job
    from planforge.llms.endpoint import EndpointOptions, endpoints_given

    urls = endpoints_given(base_url or [], endpoints)
    settings = JobSettings(
        recipe=recipe,
        out=out_dir,
        num_examples=num_examples,
        teacher=TeacherOptions(
            kind=teacher,
            endpoint=EndpointOptions(
                model=model,
                base_url=urls[0][0] if len(urls) == 1 else None,
                endpoints=tuple(urls) if len(urls) > 1 else (),
                api_key_env=api_key_env,
                concurrency=concurrency,
                requests_per_minute=rpm,
                tokens_per_minute=tpm,
                max_retries=max_retries,
                timeout=timeout,
                cache_dir=cache_dir,
                use_cache=not no_cache,
                structured_output=response_format,
                batch=batch,
                batch_size=batch_size,
                batch_poll_seconds=batch_poll,
                batch_flush_seconds=min(2.0, batch_poll),
            ),
            temperature=temperature,
            max_tokens=max_tokens,
        ),
        seed=seed,
        splits=splits,
        price=price,
        max_requests=max_requests,
        max_cost=max_cost,
        examples_per_request=examples_per_request,
        near_duplicate_threshold=near_dup_threshold,
        resume=resume,
        overwrite=overwrite,
        dry_run=dry_run,
        shard=shard,
        workers=workers,
        mode=mode,
        from_dataset=from_dataset,
        verify=verify,
        verify_model=verify_model,
        verify_base_url=verify_base_url,
    )
    if ray is not None:
        from planforge.generator.distributed import RayRun, run_on_ray

        found = run_on_ray(RayRun(settings, shards=shards, address=ray))
        made = ", ".join(f"{k} {v:,}" for k, v in found.splits.items())
        removed = sum(found.duplicates.values())
        say(f"wrote {out_dir}: {found.rows:,} rows from {shards} Ray tasks ({made}); {removed:,} duplicates removed")
        return
    job = prepare_job(settings)
    fallback = "auto: no endpoint or API key set" if teacher == "auto" else None
    if job.teacher_kind == "template":
        origin = " (no endpoint or API key set)" if teacher == "auto" else ""
        err.print(f"[bold]teacher:[/] offline template teacher{origin}")
    else:
        err.print(f"[bold]teacher:[/] {job.teacher.model} at {job.teacher.endpoint}", highlight=False, soft_wrap=True)
        if job.config.price is None:
            say(f"no price known for {job.teacher.model}: cost is counted as $0 (set --price or the recipe's pricing)")
    if dry_run:
        found = estimate(job)
        out.print(found.prompt, markup=False, highlight=False, soft_wrap=True)  # long lines as written
        say(
            f"dry run: about {found.requests:,} requests of ~{found.prompt_tokens:,} prompt + "
            f"~{found.completion_tokens:,} completion tokens for {job.config.num_examples:,} examples: about "
            f"${found.cost_usd:,.2f}" + ("" if found.priced else " (no price known for this model)")
        )
        return
    checkpoint = Checkpoint.in_dir(out_dir)
    if overwrite and checkpoint.exists():
        say(f"{out_dir}: starting over (--overwrite" + ("" if no_cache else "; cached replies are reused") + ")")
    started = time.monotonic()
    try:
        with progress() as bar:
            task = bar.add_task("generating", total=num_examples, info="")

            def update(stats) -> None:
                elapsed = max(time.monotonic() - started, 1e-9)
                info = (
                    f"rejected {rejection_rate(stats):5.1%}  "
                    f"dup {stats.duplicates_exact + stats.duplicates_near}  "
                    f"${stats.cost_usd:,.4f}  {stats.requests / elapsed:6.1f} req/s"
                )
                bar.update(task, completed=stats.accepted, info=info)

            result, record = run_job(job, on_progress=update)
    except RunAborted as exc:
        if "timed out after" in str(exc):
            exc = RunAborted(f"{exc} ({TIMEOUT_HINT})", kept=exc.kept)
        if not exc.kept:
            raise RunAborted(f"{exc}. No request finished, nothing was kept", kept=0) from None
        raise RunAborted(f"{exc}. {_kept(exc.kept, checkpoint.path)}", kept=exc.kept) from None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted. {_kept(None, checkpoint.path)}") from None
    note = fallback if record.teacher == "template" else None
    err.print(summary_table(record, teacher_note=note, cache=not no_cache, timeout=timeout), soft_wrap=True)
    if not record.accepted:
        error(f"nothing was accepted ({result.stop_reason}): {nothing_accepted(record)}. No dataset was written")
        say(f"the counts are in {out_dir / 'run.json'}")
        raise typer.Exit(EXIT_INVALID)
    say(f"wrote {out_dir} (DatasetDict: {', '.join(record.splits)}) and {out_dir / 'run.json'}")
    if result.stats.accepted < num_examples:
        warn(f"accepted {result.stats.accepted} of {num_examples}: {result.stop_reason}")


def rejection_rate(stats) -> float:
    """The share rejected of what the teacher's replies held: each proposed example that is not valid, and each
    reply that gave no example at all (unreadable, the wrong shape, an empty list) as one."""
    rejected = stats.proposed - stats.valid + stats.rejected_responses
    return rejected / max(stats.proposed + stats.rejected_responses, 1)


TIMEOUT_HINT = "lower --concurrency or raise --timeout"


def _counts(counts: dict[str, int], limit: int = 4) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{code} {count:,}" for code, count in ranked[:limit])


def nothing_accepted(record) -> str:
    """Why a run accepted no example, from its counts, in words."""
    stats = record.stats
    requests, failed = stats.get("requests", 0), stats.get("failed_requests", 0)
    if not requests:
        return "no request was made"
    parts = []
    if failed:
        failures = stats.get("failures") or {}
        hint = f" ({TIMEOUT_HINT})" if failures.get("timeout") else ""
        parts.append(f"{failed:,} of {requests:,} requests failed ({_counts(failures) or 'unknown'}){hint}")
    if stats.get("rejected_responses"):
        replies = stats.get("rejected_replies") or {}
        parts.append(f"{stats['rejected_responses']:,} replies held no example ({_counts(replies) or 'unreadable'})")
    proposed, valid = stats.get("proposed", 0), stats.get("valid", 0)
    if proposed > valid:
        codes = _counts(record.rejected)
        parts.append(f"{proposed - valid:,} of {proposed:,} proposed examples were invalid ({codes})")
    if valid:
        parts.append(f"{valid:,} valid examples were duplicates")
    if stats.get("truncated_responses"):
        parts.append(f"{stats['truncated_responses']:,} replies were cut at max_tokens (raise --max-tokens)")
    return "; ".join(parts) or f"{requests:,} requests, no example proposed"


def _kept(count: int | None, path: Path) -> str:
    what = "Finished requests are" if count is None else f"{count:,} finished request{'s' * (count != 1)} are"
    return f"{what} kept in {path}; rerun with --resume"


#: what each structured-output rung means, for the summary
RUNGS = {
    "json_schema": "json_schema",
    "json_object+schema": "json_object with the schema",
    "json_object": "json_object (the schema in the prompt only)",
    "prompt": "none (the prompt alone)",
}


def summary_table(record, *, teacher_note: str | None = None, cache: bool = True, timeout: float | None = None):
    """The run summary: the funnel, failures, tokens, cost, what a re-run would call and where it stopped.
    ``cache``: the run read and wrote the response cache (without it the summary says nothing of it);
    ``timeout``: the seconds a request was given (said beside timed-out requests)."""
    stats = record.stats
    rejected = stats["rejected_responses"]
    rows = [("teacher", teacher_note)] if teacher_note else []
    rows += [
        ("accepted / requested", f"{record.accepted:,} / {record.requested:,}"),
        ("teacher requests (failed)", f"{stats['requests']:,} ({stats['failed_requests']:,})"),
        (
            ("responses (cached, rejected)", f"{stats['responses']:,} ({stats['cached_responses']:,}, {rejected:,})")
            if cache
            else ("responses (rejected)", f"{stats['responses']:,} ({rejected:,})")
        ),
        ("examples proposed / parsed / valid", f"{stats['proposed']:,} / {stats['parsed']:,} / {stats['valid']:,}"),
        ("duplicates dropped (exact, near)", f"{record.duplicates['exact']:,}, {record.duplicates['near']:,}"),
        ("tokens (prompt, completion)", f"{record.prompt_tokens:,}, {record.completion_tokens:,}"),
        ("cost", f"${record.cost_usd:,.4f}"),
        ("splits", ", ".join(f"{k} {v:,}" for k, v in record.splits.items()) or "none"),
        ("wall time", f"{record.wall_seconds:,.1f} s"),
        ("stopped", record.stop_reason),
    ]
    rows += [(f"rejected: {code}", f"{count:,}") for code, count in record.rejected.items()]
    coverage = record.extra.get("coverage")
    if coverage:
        pairs = coverage["pair_coverage"]
        rows.append(
            (
                "coverage (gen stats)",
                f"{coverage['distinct_structures']:,} structures, {pairs['seen']} of {pairs['feasible']} function "
                f"pairs; single call {coverage['single_call_share']:.1%}, 2+ people looked up "
                f"{coverage['parallel_lookup_share']:.1%}",
            )
        )
    rows += mode_rows(record)
    replies = stats.get("rejected_replies") or {}
    rows += [(f"rejected reply: {code}", f"{count:,}") for code, count in sorted(replies.items())]
    if stats.get("truncated_responses"):
        rows.append(("replies cut at max_tokens", f"{stats['truncated_responses']:,} (raise --max-tokens)"))
    if stats.get("salvaged_responses"):
        rows.append(("replies cut inside the examples", f"{stats['salvaged_responses']:,} (complete examples read)"))
    waited = f"timed out after {timeout:g} s: " if timeout else ""
    for reason, count in sorted((stats.get("failures") or {}).items()):
        rows.append((f"failed: {reason}", f"{count:,}" + (f" ({waited}{TIMEOUT_HINT})" if reason == "timeout" else "")))
    if stats["failed_requests"] and cache:
        rows.append(("re-run", f"{stats['failed_requests']:,} failed requests are not cached and will be retried"))
    client = record.extra.get("client") or {}
    if client.get("structured_output") and stats["responses"]:  # the rung that answered, once one did
        rung = client["structured_output"]
        rows.append(("structured output", RUNGS.get(rung, rung)))
    batches = client.get("batches") or {}
    if batches.get("ids"):
        rows.append(
            (
                "batches (half price)",
                f"{len(batches['ids']):,} batches, {batches['answered']:,} answered; {batches['failed']:,} failed and "
                f"{batches['expired']:,} expired went online ({batches['online']:,} online requests)",
            )
        )
    if client.get("cache_hits"):
        rows.append(("answered from the cache", f"{client['cache_hits']:,} requests ({record.base_url})"))
    for note in client.get("notes") or ():
        rows.append(("endpoint", note))
    for found in client.get("endpoints") or ():
        latency = f", p50 {found['latency_p50_s'] * 1000:.0f} ms" if found.get("latency_p50_s") is not None else ""
        rung = f", {found['structured_output']}" if found.get("structured_output") else ""
        rows.append(
            (
                f"endpoint {found['url']}",
                f"{found['requests']:,} requests, {found['failures']:,} failed{latency}{rung}",
            )
        )
    who = "offline template teacher" if record.teacher == "template" else f"{record.teacher}, {record.model}"
    title = f"run summary: {record.recipe['name']} ({who})"
    return key_value_table(title, rows)


def mode_rows(record) -> list[tuple[str, str]]:
    """Summary rows for paraphrase mode, diversity seeds, --verify and the tokens per accepted example."""
    extra = record.extra
    rows = []
    if extra.get("mode") == "paraphrase":
        rows.append(("mode", f"paraphrase (seeds: {extra.get('seeds_from')})"))
    if extra.get("diversity"):
        rows.append(("diversity seeds", ", ".join(f"{v:,} {k}" for k, v in extra["diversity"].items())))
    verify = record.verify
    if verify:
        if verify.get("method") == "replan":
            counts = (
                f"{verify.get('checked', 0):,} checked: {verify.get('agreed', 0):,} agreed, "
                f"{verify.get('replan_mismatch', 0):,} mismatched, {verify.get('replan_failed', 0):,} failed"
            )
        else:
            counts = (
                f"{verify.get('checked', 0):,} checked: {verify.get('yes', 0):,} yes, {verify.get('no', 0):,} no, "
                f"{verify.get('unknown', 0):,} unknown"
            )
        rows.append((f"verify {verify.get('method')} ({verify.get('model')})", counts))
    per = extra.get("tokens_per_accepted") or {}
    if per:
        rows.append(("tokens per accepted example", ", ".join(f"{k} {v:,.1f}" for k, v in per.items())))
    return rows


def merge(
    shards: Annotated[list[Path], typer.Argument(help="Output folders of `gen run --shard I/N` of one run.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: the merged DatasetDict and run.json.")],
    splits: Annotated[str, typer.Option(help="Split shares; a row's split is drawn from its id.")] = (
        "validation=0.05,test=0.05"
    ),
    seed: Annotated[int | None, typer.Option(help="Seed of the split draw (default: the run's).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace what --out holds.")] = False,
) -> None:
    """Join the shards of one run: duplicates removed across shards, splits drawn from each row's id."""
    from planforge.dataset.splits import parse_splits
    from planforge.generator.merge import MergeConfig, merge_shards

    found = merge_shards(MergeConfig(list(shards), out_dir, parse_splits(splits), seed=seed, overwrite=overwrite))
    dropped = ", ".join(f"{v:,} {k}" for k, v in found.duplicates.items()) or "none"
    say(
        f"wrote {out_dir}: {found.rows:,} rows ({', '.join(f'{k} {v:,}' for k, v in found.splits.items())}) from "
        f"{len(found.shards)} shards; duplicates across shards removed: {dropped}"
    )
