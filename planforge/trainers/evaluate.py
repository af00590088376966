"""Plan evaluation: scoring as pure functions, greedy generation, and the ``gen eval plans`` run.

A predicted plan is LLMCompiler text (or JSON). It is judged by :func:`planforge.validators.judge` (a plan that
cannot be read is invalid with code ``syntax``) against the functions the model was shown, with the recipe's rules,
and compared with the reference:

* **success**: DAG isomorphism with the reference, nodes matched by function name (TinyAgent's metric,
  :func:`planforge.validators.plans_equivalent`), whether or not the arguments validate;
* **strict success**: success and valid;
* **argument success**: success, and under the pairing of calls the isomorphism gives, every key argument of the
  recipe equal and free text equal once normalized (or not compared: ``free_text="ignore"``)
  (:func:`planforge.validators.match_arguments`); TinyAgent's metric scores a plan that emails the wrong person
  on the wrong day as a success, this one does not;
* **validity**: no validator error;
* **relevance accuracy**: a plan where the reference has calls, no call where it has none (a no-call example:
  an empty reference plan, written ``join()`` alone, or ``meta.no_call``); on a no-call example the empty plan
  is the right answer, so it is a success and valid, and a plan with calls is an ``unexpected_call`` error
  (:func:`planforge.validators.judge` with ``no_call``);
* **tool recall / precision**: over the set of functions used, summed over the split (micro averages);
* **errors by code**: the number of plans with at least one error of each validator code.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planforge.dataset.disk import limit_rows, load_dataset_of_kind, pick_split
from planforge.dataset.features import PLANS
from planforge.dataset.provenance import fingerprint, write_json, write_training_record
from planforge.dataset.rows import ToolCache, row_plan
from planforge.errors import ConfigError, InputError
from planforge.plan import Plan
from planforge.recipes.loader import recipe_key_arguments, recipe_rules
from planforge.tools import ToolSet
from planforge.trainers.evaluate_config import EvalPlansConfig
from planforge.trainers.prompts import PLAN_COLUMNS_EVAL, plan_requests, resolve_views
from planforge.validators import FREE_TEXT_MODES, KeyArguments, Rule, judge

# --------------------------------------------------------------------------------------------------
# scoring (pure)


@dataclass(frozen=True)
class PlanScore:
    """The verdict on one predicted plan."""

    id: str
    prediction: str
    parsed: bool
    valid: bool
    success: bool
    error_codes: tuple[str, ...]
    errors: tuple[dict[str, Any], ...]
    tools_true_positive: int
    tools_predicted: int
    tools_expected: int
    argument_success: bool = False
    argument_share: float = 0.0  # of the compared arguments, the share that agree (0 when not isomorphic)
    argument_mismatches: tuple[str, ...] = ()
    call_expected: bool = True  # the reference has calls (False: a no-call example)
    call_predicted: bool = True  # the prediction has calls (or could not be read)

    @property
    def strict_success(self) -> bool:
        return self.success and self.valid

    @property
    def relevant(self) -> bool:
        """A plan when one is needed, no call when none is."""
        return self.call_expected == self.call_predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prediction": self.prediction,
            "valid": self.valid,
            "success": self.success,
            "argument_success": self.argument_success,
            "argument_mismatches": list(self.argument_mismatches),
            "no_call_expected": not self.call_expected,
            "errors": list(self.errors),
            "tool_recall": self.tools_true_positive / self.tools_expected if self.tools_expected else 1.0,
        }


def _recipe_rules(row: Mapping[str, Any]) -> tuple[Rule, ...]:
    """The rules of the recipe a row came from (none when it cannot be loaded)."""
    return recipe_rules((row.get("meta") or {}).get("recipe") or "")


def row_key_arguments(row: Mapping[str, Any], free_text: str = "normalized") -> KeyArguments:
    """The key arguments of the recipe a row came from (every argument, when it declares none)."""
    return KeyArguments.of(recipe_key_arguments((row.get("meta") or {}).get("recipe") or ""), free_text)


def row_no_call(row: Mapping[str, Any], reference: Plan) -> bool:
    """A no-call example: marked so in ``meta.no_call``, or its reference plan has no call."""
    return bool((row.get("meta") or {}).get("no_call")) or not reference.calls


def score_plan(
    prediction: str | Plan,
    reference: Plan,
    tools: ToolSet,
    *,
    require_join: bool = True,
    example_id: str = "",
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
    key_arguments: KeyArguments | None = None,
    no_call: bool = False,
) -> PlanScore:
    """Score one prediction against its reference plan; ``tools``: the functions the model was shown;
    ``rules`` and ``context``: the recipe's rules and the example's request and "now" (validity counts them);
    ``key_arguments``: the recipe's (every argument is key when None); ``no_call``: the right answer is no call
    (also when ``reference`` has none)."""
    text = prediction if isinstance(prediction, str) else ""
    keys = key_arguments if key_arguments is not None else KeyArguments()
    call_expected = not no_call and bool(reference.calls)
    verdict = judge(
        prediction,
        tools,
        reference=reference,
        rules=rules,
        context=context,
        require_join=require_join,
        key_arguments=keys,
        no_call=not call_expected,  # the empty plan is this example's answer, a call an error
    )
    call_predicted = verdict.plan is None or bool(verdict.plan.calls)
    errors = verdict.errors
    arguments = verdict.arguments
    success = bool(verdict.equivalent) if call_expected else not call_predicted
    overlap = verdict.overlap
    expected = len(set(reference.function_names()))
    return PlanScore(
        example_id,
        text,
        verdict.parsed,
        not errors,
        success,
        tuple(dict.fromkeys(e.code.value for e in errors)),
        tuple(e.to_dict() for e in errors),
        overlap.true_positives if overlap else 0,
        overlap.predicted if overlap else 0,
        overlap.expected if overlap else expected,
        argument_success=bool(arguments and arguments.success) if call_expected else success,
        argument_share=(arguments.share if arguments else 0.0) if call_expected else float(success),
        argument_mismatches=arguments.mismatches if arguments and call_expected else (),
        call_expected=call_expected,
        call_predicted=call_predicted,
    )


def summarize(scores: Sequence[PlanScore]) -> dict[str, Any]:
    """Split-level metrics (rates in [0, 1]); see the module doc."""
    n = len(scores)
    codes: Counter[str] = Counter()
    for score in scores:
        codes.update(score.error_codes)
    tp = sum(s.tools_true_positive for s in scores)
    predicted = sum(s.tools_predicted for s in scores)
    expected = sum(s.tools_expected for s in scores)

    def rate(count: int) -> float:
        return count / n if n else 0.0

    no_call = [s for s in scores if not s.call_expected]
    return {
        "examples": n,
        "success_rate": rate(sum(s.success for s in scores)),
        "strict_success_rate": rate(sum(s.strict_success for s in scores)),
        "argument_success_rate": rate(sum(s.argument_success for s in scores)),
        "validity_rate": rate(sum(s.valid for s in scores)),
        "relevance_accuracy": rate(sum(s.relevant for s in scores)),
        "no_call_examples": len(no_call),
        "no_call_accuracy": sum(not s.call_predicted for s in no_call) / len(no_call) if no_call else None,
        "parse_rate": rate(sum(s.parsed for s in scores)),
        "tool_recall": tp / expected if expected else 1.0,
        "tool_precision": tp / predicted if predicted else float(expected == 0),
        "errors_by_code": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


# --------------------------------------------------------------------------------------------------
# the run


def read_predictions(path: str | Path) -> dict[str, str]:
    """``{"id", "plan"}`` per line (``prediction``, ``output``, ``completion`` or ``text`` are read too; a
    JSON plan may be given as a list)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such predictions file")
    found: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise InputError(f"{path}:{line_no}: not a JSON object") from None
        if not isinstance(row, dict) or "id" not in row:
            raise InputError(f"{path}:{line_no}: expected an object with an 'id' key")
        for key in ("plan", "prediction", "output", "completion", "text"):
            if key in row:
                value = row[key]
                found[str(row["id"])] = value if isinstance(value, str) else json.dumps(value)
                break
        else:
            raise InputError(f"{path}:{line_no}: no 'plan' (or 'prediction') key")
    return found


def eval_plans(cfg: EvalPlansConfig) -> dict[str, Any]:
    """Score plans on a dataset split; returns the metrics (and writes files under ``cfg.out`` when set)."""
    if (cfg.model or cfg.adapter) and cfg.predictions:
        raise ConfigError("give either --model/--adapter or --predictions, not both")
    if not (cfg.model or cfg.adapter or cfg.predictions):
        raise ConfigError("give --model (and optionally --adapter) to generate, or --predictions FILE")
    if cfg.free_text not in FREE_TEXT_MODES:
        raise ConfigError(f"--free-text must be one of {', '.join(FREE_TEXT_MODES)}, not {cfg.free_text!r}")
    ds = load_dataset_of_kind(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_EVAL)
    split = limit_rows(pick_split(ds, cfg.split, cfg.data), cfg.max_examples)
    rows = split.to_list()
    tool_cache = ToolCache(cfg.data)
    offered = [tool_cache.get(row["tools"]) for row in rows]
    references = [row_plan(row) for row in rows]
    started = time.perf_counter()
    info: dict[str, Any] = {}

    if cfg.predictions:
        predicted = read_predictions(cfg.predictions)
        missing = [row["id"] for row in rows if row["id"] not in predicted]
        if missing:
            raise ConfigError(
                f"{cfg.predictions}: no prediction for {len(missing)} of {len(rows)} {cfg.split} examples "
                f"(first: {missing[0]})"
            )
        texts = [predicted[row["id"]] for row in rows]
        shown = offered
    else:
        model_spec = cfg.model
        if cfg.adapter:
            from planforge.llms.local import base_model_of

            model_spec = model_spec or base_model_of(cfg.adapter)
            if not model_spec:
                raise ConfigError(f"{cfg.adapter}: cannot tell the base model; pass --model")
        # the prompts the adapter was trained on (its classifier, its demonstrations) unless told otherwise
        views = resolve_views(cfg, run=cfg.adapter, data=cfg.data, use_run=cfg.use_run_toolrag)
        requests = plan_requests(rows, tool_cache)
        prompts, found = views.prompts([replace(r, needed=()) for r in requests], add_needed=False)
        shown = [p.tools for p in prompts]
        if cfg.toolrag:
            info["toolrag"] = str(cfg.toolrag)
        info.update(found)
        texts, prompt_tokens = generate_from_model(model_spec, cfg.adapter, prompts, cfg)
        info["prompt_tokens_mean"] = sum(prompt_tokens) / max(len(prompt_tokens), 1)
        info["model"] = model_spec
        info["adapter"] = cfg.adapter
        info["generation_seconds"] = time.perf_counter() - started

    scores = [
        score_plan(
            text,
            ref,
            tools,
            require_join=cfg.require_join,
            example_id=row["id"],
            rules=_recipe_rules(row),
            context={"query": row["query"], "now": (row.get("meta") or {}).get("now")},
            key_arguments=row_key_arguments(row, cfg.free_text),
            no_call=row_no_call(row, ref),
        )
        for text, ref, tools, row in zip(texts, references, shown, rows, strict=True)
    ]
    metrics = {**summarize(scores), "split": cfg.split, **info}
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        write_predictions(out / "predictions.jsonl", scores)
        prints = fingerprint(ds, cfg.data)
        write_training_record(out, command="eval plans", config=cfg, metrics=metrics, fingerprints=prints)
    return metrics


def generate_from_model(
    model_spec: str, adapter: str | None, prompts: list, cfg: EvalPlansConfig
) -> tuple[list[str], list[int]]:
    """Greedy plans for the prompts, and each prompt's length in tokens as the model read it."""
    import torch

    from planforge.llms.planners import LocalPlanner

    torch.manual_seed(cfg.seed)
    planner = LocalPlanner(
        model_spec, adapter=adapter, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, dtype=cfg.dtype
    )
    from planforge.console import progress

    with progress() as bar:
        task = bar.add_task("generating plans", total=len(prompts), info="")
        texts = planner.generate(prompts, lambda n: bar.advance(task, n))
    return [t or "" for t in texts], planner.prompt_tokens


def write_predictions(path: Path, scores: Iterable[PlanScore]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for score in scores:
            fh.write(json.dumps(score.to_dict(), ensure_ascii=False) + "\n")


__all__ = ["EvalPlansConfig", "PlanScore", "eval_plans", "read_predictions", "score_plan", "summarize", "write_json"]
