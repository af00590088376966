"""One ``gen run recipe`` job: choose the teacher, run, write the dataset and run.json.

The CLI parses flags into :class:`TeacherOptions` and :class:`RunConfig` and calls :func:`run_job`."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge import __version__
from planforge.generator.cache import ResponseCache, default_cache_dir
from planforge.generator.pricing import price_for
from planforge.generator.run import RunConfig, RunResult, RunStats, generate
from planforge.generator.teachers.base import Teacher
from planforge.generator.writer import write_dataset, write_run_json
from planforge.recipes.loader import Recipe
from planforge.secrets import scrub_text, scrub_url


class JobError(ValueError):
    """A job that cannot start (no key for the endpoint, a bad flag...)."""


@dataclass
class TeacherOptions:
    kind: str = "auto"  # auto | openai | template
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 32
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_retries: int = 6
    timeout: float = 120.0
    cache_dir: Path | None = None
    use_cache: bool = True

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def resolved_kind(self) -> str:
        """auto: openai when an endpoint or a key is configured, else the offline template teacher."""
        if self.kind != "auto":
            return self.kind
        return "openai" if (self.resolved_base_url() or self.api_key()) else "template"


DEFAULT_MODEL = "gpt-4o-mini"


def build_teacher(recipe: Recipe, options: TeacherOptions, seed: int) -> Teacher:
    kind = options.resolved_kind()
    if kind == "template":
        from planforge.generator.teachers.template import TemplateError, TemplateTeacher, load_templates

        if recipe.templates_path is None:
            raise JobError(f"recipe {recipe.name!r} has no templates for the offline teacher; use --teacher openai")
        try:
            book = load_templates(recipe.templates_path, set(recipe.tools))
            return TemplateTeacher(book, set(recipe.tools), recipe.sampling["max_targets"], seed)
        except TemplateError as exc:
            raise JobError(str(exc)) from None
    if kind != "openai":
        raise JobError(f"--teacher must be auto, openai or template, not {kind!r}")
    from planforge.generator.teachers.openai_teacher import OpenAITeacher

    base_url = options.resolved_base_url()
    if base_url and scrub_url(base_url) != base_url:
        raise JobError(f"the base URL {scrub_url(base_url)} carries credentials: put the key in {options.api_key_env}")
    api_key = options.api_key()
    if api_key is None and base_url is None:
        raise JobError(f"no API key: set {options.api_key_env} (or --base-url for a local endpoint)")
    cache = None
    if options.use_cache:
        cache = ResponseCache(options.cache_dir or default_cache_dir())
    return OpenAITeacher(
        recipe,
        model=options.model or DEFAULT_MODEL,
        base_url=base_url,
        api_key=api_key or "",
        concurrency=options.concurrency,
        requests_per_minute=options.requests_per_minute,
        tokens_per_minute=options.tokens_per_minute,
        max_retries=options.max_retries,
        timeout=options.timeout,
        cache=cache,
    )


def resolve_price(recipe: Recipe, model: str, override: tuple[float, float] | None) -> tuple[float, float] | None:
    return override if override is not None else price_for(model, recipe.pricing)


def run_job(
    config: RunConfig,
    teacher: Teacher,
    splits: dict[str, float],
    *,
    base_url: str | None = None,
    on_progress: Callable[[RunStats], None] | None = None,
) -> tuple[RunResult, dict[str, Any]]:
    """Run, then write the DatasetDict and run.json into ``config.out``. Returns the result and run.json."""
    config.out.mkdir(parents=True, exist_ok=True)

    async def main() -> RunResult:
        try:
            return await generate(config, teacher, on_progress=on_progress)
        finally:
            await teacher.aclose()
            cache = getattr(teacher, "cache", None)
            if cache is not None:
                cache.close()

    result = asyncio.run(main())
    sizes = write_dataset(config.out, result.stats.accepted, splits, config.seed)
    record = run_record(config, teacher, result, sizes, splits, base_url)
    write_run_json(config.out, record)
    return result, record


def run_record(
    config: RunConfig,
    teacher: Teacher,
    result: RunResult,
    sizes: dict[str, int],
    splits: dict[str, float],
    base_url: str | None,
) -> dict[str, Any]:
    stats = result.stats.to_dict()
    recipe = config.recipe
    return {
        "planforge_version": __version__,
        "requested": config.num_examples,
        "responses": stats["responses"],
        "parsed": stats["parsed"],
        "valid": stats["valid"],
        "accepted": stats["accepted"],
        "rejected": stats["rejected"],
        "duplicates": {"exact": stats["duplicates_exact"], "near": stats["duplicates_near"]},
        "tokens": {"prompt": stats["prompt_tokens"], "completion": stats["completion_tokens"]},
        "cost_usd": stats["cost_usd"],
        "wall_seconds": round(result.wall_seconds, 3),
        "teacher": teacher.name,
        "model": teacher.model,
        "base_url": scrub_url(base_url) if base_url else None,
        "recipe": {
            "name": recipe.name,
            "version": recipe.version,
            "hash": recipe.content_hash,
            "path": str(recipe.path),
        },
        "seed": config.seed,
        "splits": sizes,
        "split_settings": splits,
        "near_duplicate_threshold": config.near_duplicate_threshold,
        "price_per_mtok": list(config.price) if config.price else None,
        "stop_reason": result.stop_reason,
        "resumed": result.resumed,
        "teacher_calls": result.teacher_calls,
        "stats": stats,
        "argv": [scrub_text(a) for a in sys.argv],
    }
