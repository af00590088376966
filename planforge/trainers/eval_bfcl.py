"""``gen eval bfcl``: a planner scored on the Berkeley Function Calling Leaderboard's AST categories.

The model sees planforge's own prompt (:func:`planforge.trainers.bfcl.bfcl_prompt`: the planner instructions and
the request, the BFCL functions given the way its chat template wants them), so a model trained with planforge is
evaluated in the format it learned; its answer is read as LLMCompiler text or JSON calls and checked by
:mod:`planforge.trainers.bfcl`'s checker, which agrees with bfcl-eval's own on its data. Metrics: per category
``{"accuracy", "correct", "n"}``, BFCL's summary groups and ``overall``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from planforge.console import progress
from planforge.dataset.provenance import read_run_config, write_training_record
from planforge.errors import ConfigError
from planforge.llms.output import clean_output
from planforge.llms.planners import PlannerPrompt
from planforge.trainers.bfcl import CATEGORIES, BFCLItem, bfcl_prompt, load_bfcl, score_bfcl
from planforge.trainers.eval_bfcl_config import EvalBFCLConfig
from planforge.trainers.evaluate import read_predictions


def _categories(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in CATEGORIES]
    if unknown:
        raise ConfigError(f"--categories: unknown {', '.join(unknown)} (known: {', '.join(CATEGORIES)})")
    return names


def eval_bfcl(cfg: EvalBFCLConfig) -> dict[str, Any]:
    """Score ``cfg``'s answerer; returns the metrics (and writes files under ``cfg.out`` when set)."""
    answerers = [bool(cfg.predictions), bool(cfg.model or cfg.adapter)]
    if all(answerers):
        raise ConfigError("give either --model/--adapter (with --base-url for an endpoint) or --predictions, not both")
    if not any(answerers):
        raise ConfigError("give --model (a local model, or with --base-url an endpoint's) or --predictions FILE")
    items = load_bfcl(
        _categories(cfg.categories), limit=cfg.limit, data_dir=Path(cfg.data_dir) if cfg.data_dir else None
    )
    started = time.perf_counter()
    info: dict[str, Any] = {}
    if cfg.predictions:
        predictions: dict[str, Any] = read_predictions(cfg.predictions)
        info["predictions"] = cfg.predictions
    else:
        texts = generate(items, cfg, info)
        predictions = {item.id: text for item, text in zip(items, texts, strict=True)}
        info["generation_seconds"] = round(time.perf_counter() - started, 2)
    scored = score_bfcl(items, predictions)
    metrics = {
        "categories": scored["categories"],
        "summary": scored["summary"],
        "overall": scored["overall"],
        "items": len(items),
        **info,
    }
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "predictions.jsonl").open("w", encoding="utf-8") as handle:
            for verdict in scored["items"]:
                record = {**verdict, "plan": predictions.get(verdict["id"])}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        write_training_record(out, command="eval bfcl", config=cfg, metrics=metrics, fingerprints={})
    return metrics


def generate(items: list[BFCLItem], cfg: EvalBFCLConfig, info: dict[str, Any]) -> list[str]:
    """Every item's answer from the local model or the endpoint, cleaned as ``gen eval plans`` cleans them."""
    prompts = [PlannerPrompt(bfcl_prompt(item), item.tools) for item in items]
    planner = _planner(cfg, info)
    with progress() as bar:
        task = bar.add_task(f"answering {len(prompts)} BFCL items", total=len(prompts), info="")
        texts = planner.generate(prompts, lambda n: bar.advance(task, n))
    info["unanswered"] = sum(t is None for t in texts)
    return [clean_output(t) if t else "" for t in texts]


def _planner(cfg: EvalBFCLConfig, info: dict[str, Any]) -> Any:
    from planforge.llms.endpoint import EndpointOptions

    endpoint = EndpointOptions(
        model=cfg.model,
        base_url=cfg.base_url,
        api_key_env=cfg.api_key_env,
        concurrency=cfg.concurrency,
        use_cache=False,
    )
    if cfg.base_url:
        from planforge.llms.planners import EndpointPlanner

        endpoint.check()
        info["model"] = f"openai:{cfg.model}"
        return EndpointPlanner(endpoint, max_tokens=cfg.max_new_tokens)
    import torch

    from planforge.llms.planners import LocalPlanner

    model = cfg.model
    if cfg.adapter:
        from planforge.llms.local import base_model_of

        model = model or base_model_of(cfg.adapter) or (read_run_config(cfg.adapter) or {}).get("model")
        if not model:
            raise ConfigError(f"{cfg.adapter}: cannot tell the base model; pass --model")
    torch.manual_seed(cfg.seed)
    info["model"], info["adapter"] = model, cfg.adapter
    return LocalPlanner(
        model, adapter=cfg.adapter, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, dtype=cfg.dtype
    )


def bfcl_table(metrics: dict[str, Any]) -> Any:
    """Per-category accuracy, then BFCL's summary groups and the overall figure."""
    from rich.table import Table

    table = Table(title=f"gen eval bfcl: {metrics['items']:,} items", title_justify="left")
    table.add_column("category")
    table.add_column("accuracy", justify="right")
    table.add_column("correct / n", justify="right")
    for name, figures in metrics["categories"].items():
        table.add_row(name, f"{100 * figures['accuracy']:.1f}%", f"{figures['correct']:,} / {figures['n']:,}")
    table.add_section()
    for name, value in metrics["summary"].items():
        if value is not None:
            table.add_row(f"{name} (summary)", f"{100 * value:.1f}%", "")
    if metrics["overall"] is not None:
        table.add_row("[bold]overall[/]", f"[bold]{100 * metrics['overall']:.1f}%[/]", "")
    return table
