"""One ``gen run recipe`` job: settings in, a dataset and its ``run.json`` out.

The CLI turns its flags into :class:`JobSettings`, :func:`prepare_job` checks them and builds the teacher
(every problem a one-line :class:`~planforge.errors.UserError` before anything runs), then either
:func:`estimate` (``--dry-run``: the first prompt and the cost, nothing called) or :func:`run_job`."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge import __version__
from planforge.dataset.disk import LOCK_NAME, OutputLock, finish_swap
from planforge.dataset.provenance import RunRecord
from planforge.dataset.splits import parse_splits
from planforge.errors import ConfigError, OutputError
from planforge.generator.pricing import cost_usd, parse_price, price_for
from planforge.generator.run import RunConfig, RunResult, RunStats, generate, make_sampler
from planforge.generator.shards import parse_shard, shard_target
from planforge.generator.teachers.base import Teacher
from planforge.generator.writer import write_dataset
from planforge.llms.endpoint import EndpointOptions
from planforge.recipes.loader import Recipe, load_recipe
from planforge.secrets import scrub_text

DEFAULT_MODEL = "gpt-4o-mini"
TEACHERS = ("auto", "openai", "template")
MODES = ("free", "paraphrase")
#: the share of proposed examples a dry-run estimate assumes are accepted
ASSUMED_ACCEPTANCE = 0.8
#: completion tokens a dry-run estimate assumes per example
ASSUMED_COMPLETION_TOKENS = 120
#: provider batches a --batch run keeps open at once
BATCHES_IN_FLIGHT = 4


@dataclass
class TeacherOptions:
    kind: str = "auto"  # auto | openai | template
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    temperature: float | None = None  # the LLM teacher's; None: the recipe's teacher.temperature (0.9)
    max_tokens: int | None = None  # completion tokens per request; None: the recipe's teacher.max_tokens (4096)

    def resolved_kind(self) -> str:
        """auto: openai when an endpoint, a key or a model is given, else the offline template teacher."""
        if self.kind != "auto":
            return self.kind
        return "openai" if self.endpoint.configured() or self.endpoint.model else "template"


@dataclass
class JobSettings:
    """What ``gen run recipe`` was asked, as given (checked by :func:`prepare_job`)."""

    recipe: str
    out: Path
    num_examples: int = 1000
    teacher: TeacherOptions = field(default_factory=TeacherOptions)
    seed: int = 0
    splits: str | None = None  # "validation=0.05,test=0.05"; default: the recipe's
    price: str | None = None  # "PROMPT,COMPLETION" USD per 1M tokens; default: the price table
    max_requests: int | None = None
    max_cost: float | None = None
    examples_per_request: int | None = None
    near_duplicate_threshold: float = 0.85
    resume: bool = False
    overwrite: bool = False  # replace a dataset already in ``out`` (without --resume)
    dry_run: bool = False  # nothing is called: no key needed
    shard: str | None = None  # "I/N": make the I-th of N disjoint parts of the run (gen merge joins them)
    workers: int | None = None  # processes assessing replies (None: one per core for the template teacher)
    mode: str = "free"  # free: the teacher writes requests and plans | paraphrase: it rewrites known requests
    from_dataset: Path | None = None  # paraphrase seeds from this plans dataset (default: the template teacher)
    verify: str | None = None  # replan | judge: the meaning check of each valid example
    verify_model: str | None = None  # default: the teacher's model
    verify_base_url: str | None = None  # default: the teacher's endpoint


@dataclass
class Job:
    settings: JobSettings
    recipe: Recipe
    teacher: Teacher
    config: RunConfig
    splits: dict[str, float]
    verifier: Any = None

    @property
    def teacher_kind(self) -> str:
        return self.settings.teacher.resolved_kind()


def build_teacher(
    recipe: Recipe, options: TeacherOptions, seed: int, *, dry_run: bool = False, settings: JobSettings | None = None
) -> Teacher:
    kind = options.resolved_kind()
    mode = settings.mode if settings is not None else "free"
    if kind not in TEACHERS or kind == "auto":
        raise ConfigError(f"--teacher must be auto, openai or template, not {kind!r}")
    if kind == "template":
        from planforge.generator.teachers.template import TemplateTeacher, load_templates

        if recipe.templates_path is None:
            raise ConfigError(f"recipe {recipe.name!r} has no templates for the offline teacher; use --teacher openai")
        book = load_templates(recipe.templates_path, set(recipe.tools))
        return TemplateTeacher(book, set(recipe.tools), seed)
    from planforge.generator.diversity import Diversity
    from planforge.generator.teachers.llm import EXAMPLES_SCHEMA, LLMTeacher
    from planforge.llms.endpoint import connect

    model = options.endpoint.model or DEFAULT_MODEL
    diversity = Diversity.of(recipe.seeds, seed)
    if mode == "paraphrase":
        from planforge.generator.teachers.paraphrase import REWRITES_SCHEMA, ParaphraseTeacher

        seeds = paraphrase_seeds(recipe, settings, seed)  # type: ignore[arg-type]
        client = connect(
            options.endpoint, model, json_schema=REWRITES_SCHEMA, schema_name="rewrites", check=not dry_run
        )
        return ParaphraseTeacher(recipe, client, seeds, diversity=diversity)  # type: ignore[return-value]
    if options.max_tokens is not None and options.max_tokens < 1:
        raise ConfigError(f"--max-tokens must be at least 1, not {options.max_tokens}")
    client = connect(options.endpoint, model, json_schema=EXAMPLES_SCHEMA, schema_name="examples", check=not dry_run)
    return LLMTeacher(
        recipe, client, diversity=diversity, temperature=options.temperature, max_tokens=options.max_tokens
    )


def paraphrase_seeds(recipe: Recipe, settings: JobSettings, seed: int) -> Any:
    """Where paraphrase mode's seed requests and plans come from: a plans dataset, or the template teacher."""
    from planforge.generator.teachers.paraphrase import DatasetSeeds, TemplateSeeds

    if settings.from_dataset is not None:
        return DatasetSeeds.load(Path(settings.from_dataset), recipe, seed)
    if recipe.templates_path is None:
        raise ConfigError(f"recipe {recipe.name!r} has no templates to write paraphrase seeds: give --from-dataset DIR")
    return TemplateSeeds(build_teacher(recipe, TeacherOptions("template"), seed))


def check_modes(settings: JobSettings) -> None:
    """--mode, --from-dataset and --verify: what each needs, as one-line errors."""
    kind = settings.teacher.resolved_kind()
    if settings.mode not in MODES:
        raise ConfigError(f"--mode must be free or paraphrase, not {settings.mode!r}")
    if settings.mode == "paraphrase" and kind == "template":
        raise ConfigError(
            "--mode paraphrase needs a teacher LLM to write the rewrites (--model / --base-url); "
            "the template teacher only writes its seeds"
        )
    if settings.from_dataset is not None:
        if settings.mode != "paraphrase":
            raise ConfigError("--from-dataset gives paraphrase seeds: it needs --mode paraphrase")
        if not Path(settings.from_dataset).is_dir():
            raise ConfigError(f"--from-dataset {settings.from_dataset}: no such dataset folder")
    if settings.verify is None:
        if settings.verify_model or settings.verify_base_url:
            raise ConfigError(
                "--verify-model / --verify-base-url name the model of --verify: give --verify replan|judge"
            )
        return
    from planforge.generator.verify import METHODS

    if settings.verify not in METHODS:
        raise ConfigError(f"--verify must be replan or judge, not {settings.verify!r}")
    if kind == "template" and not settings.verify_model:
        raise ConfigError(
            f"--verify {settings.verify} needs a model endpoint: give --verify-model (and --verify-base-url); "
            "the template teacher has none"
        )


def build_verifier(recipe: Recipe, settings: JobSettings, teacher: Teacher) -> Any:
    """The --verify model's client: the teacher's endpoint and model unless --verify-base-url / --verify-model."""
    if settings.verify is None:
        return None
    from planforge.generator.verify import JUDGE_SCHEMA, Verifier
    from planforge.llms.endpoint import connect

    base = settings.teacher.endpoint
    options = dataclasses.replace(
        base,
        model=settings.verify_model or (teacher.model if teacher.endpoint is not None else None),
        base_url=settings.verify_base_url or base.base_url,
        endpoints=() if settings.verify_base_url else base.endpoints,
        batch=False,
    )
    model = options.model or DEFAULT_MODEL
    if not settings.dry_run and not options.configured():
        raise ConfigError(
            f"--verify {settings.verify} needs a model endpoint: set {options.api_key_env} or --verify-base-url"
        )
    schema = JUDGE_SCHEMA if settings.verify == "judge" else None
    client = connect(options, model, json_schema=schema, schema_name="verdict", check=not settings.dry_run)
    return Verifier(settings.verify, client, price_for(model, recipe.pricing))


def job_kind(settings: JobSettings) -> str:
    return settings.teacher.resolved_kind()


def check_settings(settings: JobSettings) -> None:
    """What must hold before anything is loaded or called: honest teacher settings and a usable --out."""
    teacher = settings.teacher
    if teacher.kind != "template" and not teacher.endpoint.configured() and not settings.dry_run:
        asked = [f"--model {teacher.endpoint.model}"] if teacher.endpoint.model else []
        asked += ["--max-cost"] if settings.max_cost is not None else []
        asked += ["--teacher openai"] if teacher.kind == "openai" and not asked else []
        if asked:
            raise ConfigError(
                f"no API key: set {teacher.endpoint.api_key_env} or --base-url: {' and '.join(asked)} asks for a "
                "teacher LLM (--teacher template builds data offline)"
            )
    out = settings.out
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")
    if settings.resume and settings.overwrite:
        raise ConfigError("--resume continues the run in --out, --overwrite starts it over: pass one of them")
    OutputLock(out).check()
    holds_a_run = out.is_dir() and any(entry.name != LOCK_NAME for entry in out.iterdir())
    if holds_a_run and not settings.resume and not settings.overwrite and not settings.dry_run:
        raise OutputError(f"{out} already holds a run: pass --resume to continue it or --overwrite to start over")


def prepare_job(settings: JobSettings) -> Job:
    """Load the recipe, check every setting and build the teacher. Raises a one-line UserError."""
    check_settings(settings)
    check_modes(settings)
    recipe = load_recipe(settings.recipe)
    splits = parse_splits(settings.splits) if settings.splits else dict(recipe.splits)
    override = parse_price(settings.price) if settings.price else None
    teacher = build_teacher(recipe, settings.teacher, settings.seed, dry_run=settings.dry_run, settings=settings)
    verifier = build_verifier(recipe, settings, teacher)
    concurrency = settings.teacher.endpoint.total_concurrency()
    shard = parse_shard(settings.shard) if settings.shard else None
    config = RunConfig(
        recipe=recipe,
        out=settings.out,
        num_examples=shard_target(settings.num_examples, *shard) if shard else settings.num_examples,
        shard=shard,
        workers=settings.workers,
        seed=settings.seed,
        max_requests=settings.max_requests,
        max_cost=settings.max_cost,
        near_duplicate_threshold=settings.near_duplicate_threshold,
        examples_per_request=settings.examples_per_request,
        resume=settings.resume,
        window=max(2 * concurrency, 8),
        price=override if override is not None else price_for(teacher.model, recipe.pricing),
        variant=run_variant(settings, verifier),
        verifier=verifier,
    )
    endpoint = settings.teacher.endpoint
    if endpoint.batch and job_kind(settings) == "openai":
        # a batch fills from the requests in flight: as many as BATCHES_IN_FLIGHT batches need, no more
        config.window = max(8, min(config.expected_requests(), endpoint.batch_size * BATCHES_IN_FLIGHT))
        config.lookahead = max(config.lookahead, config.window)
    return Job(settings, recipe, teacher, config, splits, verifier)


def run_variant(settings: JobSettings, verifier: Any) -> dict[str, Any]:
    """What sets this run apart beyond the usual settings (empty for a free run without --verify)."""
    out: dict[str, Any] = {}
    if settings.mode != "free":
        out["mode"] = settings.mode
        out["seeds_from"] = str(settings.from_dataset) if settings.from_dataset else "template"
    if verifier is not None:
        out["verify"] = {"method": verifier.method, "model": verifier.model, "base_url": verifier.endpoint}
    return out


@dataclass(frozen=True)
class Estimate:
    """What ``--dry-run`` prints: the first prompt and what the run would cost."""

    prompt: str
    requests: int
    prompt_tokens: int  # per request
    completion_tokens: int  # per request
    cost_usd: float
    priced: bool


def estimate(job: Job) -> Estimate:
    """The first request's prompt and the cost of the run, assuming :data:`ASSUMED_ACCEPTANCE` of the proposed
    examples are accepted and :data:`ASSUMED_COMPLETION_TOKENS` completion tokens per example. Calls nothing."""
    config = job.config
    sampler = make_sampler(config, job.teacher)
    request = sampler.draw()
    prompt = job.teacher.render(request)
    per_request = request.num_examples
    requests = math.ceil(config.num_examples / (per_request * ASSUMED_ACCEPTANCE))
    prompt_tokens = len(prompt) // 4
    completion_tokens = per_request * ASSUMED_COMPLETION_TOKENS
    cost = cost_usd(config.price, prompt_tokens, completion_tokens) * requests
    return Estimate(prompt, requests, prompt_tokens, completion_tokens, cost, config.price is not None)


def run_job(job: Job, *, on_progress: Callable[[RunStats], None] | None = None) -> tuple[RunResult, RunRecord]:
    """Run, then write the DatasetDict and run.json into the output folder. Returns the result and the record.

    The folder is locked for the whole job (a second writer gets a one-line error naming this process); with
    ``overwrite`` its old run is removed first, under the lock."""
    config = job.config
    with OutputLock(config.out):
        finish_swap(config.out)  # a rewrite a crash interrupted: complete it before anything else
        if job.settings.overwrite:
            clear_run(config.out)

        async def main() -> RunResult:
            try:
                return await generate(config, job.teacher, on_progress=on_progress)
            finally:
                await job.teacher.aclose()
                if job.verifier is not None:
                    await job.verifier.client.aclose()

        result = asyncio.run(main())
        written = time.monotonic()
        sizes = write_dataset(config.out, result.stats.accepted, job.splits, config.seed)
        record = run_record(job, result, sizes)
        if sizes:
            record.extra["coverage"] = run_coverage(config.out, sizes)
        record.extra["timings"] = {
            "generate": round(result.wall_seconds, 3),
            "write": round(time.monotonic() - written, 3),
        }
        record.write(config.out)
    return result, record


def run_coverage(out: Path, sizes: dict[str, int]) -> dict[str, Any]:
    """What the written dataset covers (``gen stats``' headline figures), for the summary and ``run.json``."""
    from planforge.dataset.disk import load_saved_dataset
    from planforge.dataset.features import PLANS
    from planforge.dataset.stats import compute_stats, stats_summary

    summary = stats_summary(compute_stats(load_saved_dataset(out), PLANS, sizes), top=0)
    keys = ("distinct_structures", "single_call_share", "parallel_lookup_share", "parallel_step_share", "pair_coverage")
    return {key: summary[key] for key in keys}


def clear_run(out: Path) -> None:
    """Remove what a run left in ``out`` (checkpoint, dataset, run.json, report), keeping the lock."""
    import shutil

    for entry in out.iterdir():
        if entry.name == LOCK_NAME:
            continue
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def run_record(job: Job, result: RunResult, sizes: dict[str, int]) -> RunRecord:
    """The run's ``run.json``: every count, the teacher, the recipe and the settings that made the data."""
    config, recipe, teacher = job.config, job.recipe, job.teacher
    stats = result.stats.to_dict()
    modes = mode_record(job, stats)
    verify = modes.pop("verify", None) or {}
    return RunRecord(
        planforge_version=__version__,
        requested=config.num_examples,
        proposed=stats["proposed"],
        responses=stats["responses"],
        parsed=stats["parsed"],
        valid=stats["valid"],
        accepted=stats["accepted"],
        teacher_requests=stats["requests"],
        failed_requests=stats["failed_requests"],
        surplus=stats["surplus"],
        rejected=stats["rejected"],
        duplicates={"exact": stats["duplicates_exact"], "near": stats["duplicates_near"]},
        prompt_tokens=stats["prompt_tokens"],
        completion_tokens=stats["completion_tokens"],
        cost_usd=stats["cost_usd"],
        wall_seconds=round(result.wall_seconds, 3),
        teacher=teacher.name,
        model=teacher.model,
        base_url=teacher.endpoint,
        recipe={"name": recipe.name, "version": recipe.version, "hash": recipe.content_hash, "path": str(recipe.path)},
        seed=config.seed,
        splits=sizes,
        split_settings=job.splits,
        sampling=config.sampling(),
        validators={
            "checks": list(VALIDATOR_FAMILIES),
            "rules": [r.name for r in recipe.rules],
            "require_join": recipe.require_join,
        },
        near_duplicate_threshold=config.near_duplicate_threshold,
        price_per_mtok=list(config.price) if config.price else None,
        stop_reason=result.stop_reason,
        resumed=result.resumed,
        teacher_calls=result.teacher_calls,
        stats=stats,
        verify=verify,
        argv=[scrub_text(a) for a in sys.argv],
        extra={
            "failures": stats["failures"],  # failed requests by reason
            "rejected_replies": stats["rejected_replies"],  # replies without an example, by why
            "truncated_responses": stats["truncated_responses"],  # cut at max_tokens
            **({"teacher_params": teacher.sampling_params()} if hasattr(teacher, "sampling_params") else {}),
            **({"client": teacher.stats.to_dict()} if teacher.stats is not None else {}),
            **({"shard": list(config.shard)} if config.shard else {}),
            **modes,
        },
    )


def mode_record(job: Job, stats: dict[str, Any]) -> dict[str, Any]:
    """run.json's keys for --mode, the recipe's diversity seeds and --verify, and the tokens each accepted
    example cost (a teacher behind an endpoint)."""
    from planforge.generator.verify import verify_summary

    settings, recipe = job.settings, job.recipe
    out: dict[str, Any] = {"mode": settings.mode}
    if settings.mode == "paraphrase":
        out["seeds_from"] = str(settings.from_dataset) if settings.from_dataset else "template"
    if getattr(job.teacher, "diversity", None) is not None:
        out["diversity"] = {k: len(v) for k, v in recipe.seeds.items()}
    verify = verify_summary(stats, job.verifier)
    if verify is not None:
        out["verify"] = verify
    accepted = stats["accepted"]
    if accepted and (job.teacher.endpoint is not None or verify is not None):
        teacher_tokens = stats["prompt_tokens"] + stats["completion_tokens"]
        per = {"teacher": round(teacher_tokens / accepted, 1)}
        if verify is not None:
            verify_tokens = verify["prompt_tokens"] + verify["completion_tokens"]
            per["verify"] = round(verify_tokens / accepted, 1)
            per["total"] = round((teacher_tokens + verify_tokens) / accepted, 1)
        out["tokens_per_accepted"] = per
    return out


#: what every plan is checked for before the recipe's rules (see planforge.validators)
VALIDATOR_FAMILIES = (
    "syntax",
    "empty_plan",
    "unknown_function",
    "arguments",
    "references",
    "cycle",
    "reference_types",
    "join",
)

__all__ = ["Job", "JobSettings", "TeacherOptions", "estimate", "prepare_job", "run_job"]
