"""Plan evaluation: scoring as pure functions, greedy generation, and the ``gen eval plans`` run.

A predicted plan is LLMCompiler text (or JSON). It is read with
:func:`planforge.generator.records.parse_row_plan` (a :class:`PlanSyntaxError` makes it invalid with code
``syntax``), checked with :func:`planforge.validators.validate` against the functions the model was shown, and
compared with the reference:

* **success**: DAG isomorphism with the reference, nodes matched by function name (TinyAgent's metric,
  :func:`planforge.validators.plans_equivalent`), whether or not the arguments validate;
* **strict success**: success and valid;
* **validity**: no validator error;
* **tool recall / precision**: over the set of functions used, summed over the split (micro averages);
* **errors by code**: the number of plans with at least one error of each validator code.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.generator.records import parse_row_plan, row_plan
from planforge.plan import END_OF_PLAN, Plan, PlanSyntaxError
from planforge.tools import ToolSet
from planforge.trainers import TrainerConfigError
from planforge.trainers.data import (
    PLAN_COLUMNS_EVAL,
    PLANS,
    ToolCache,
    fingerprint,
    limit,
    load_dataset_dir,
    pick_split,
    read_run_config,
    row_prompt,
    write_json,
    write_run_files,
)
from planforge.validators import ErrorCode, Rule, plans_equivalent, tool_overlap, validate

# The planner's stop condition: the ``N. join()`` line (and an optional <END_OF_PLAN>) closes a plan.
_JOIN_LINE = re.compile(r"^\s*\d+\s*\.\s*join\s*\(\s*\)\s*(?:<END_OF_PLAN>)?[ \t]*$", re.M)
STOP_STRINGS = ("join()", END_OF_PLAN)


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

    @property
    def strict_success(self) -> bool:
        return self.success and self.valid

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prediction": self.prediction,
            "valid": self.valid,
            "success": self.success,
            "errors": list(self.errors),
            "tool_recall": self.tools_true_positive / self.tools_expected if self.tools_expected else 1.0,
        }


def clean_prediction(text: str) -> str:
    """Cut a generated plan after its first ``N. join()`` line (the planner's stop condition), keeping an
    ``<END_OF_PLAN>`` that follows it; strip surrounding whitespace. Text without a join line is kept whole."""
    match = _JOIN_LINE.search(text)
    if match is not None:
        rest = text[match.end() :]
        text = text[: match.end()]
        if rest.lstrip().startswith(END_OF_PLAN):
            text += "\n" + END_OF_PLAN
    return text.strip()


@functools.cache
def _bundled_recipe_rules(name: str) -> tuple[Rule, ...]:
    from planforge.recipes.loader import RecipeError, bundled_recipe_names, load_recipe

    if name not in bundled_recipe_names():
        return ()
    try:
        return tuple(load_recipe(name).rule_functions())
    except RecipeError:
        return ()


def _recipe_rules(row: Mapping[str, Any]) -> tuple[Rule, ...]:
    """The rules of the bundled recipe a row came from (none for other recipes)."""
    return _bundled_recipe_rules((row.get("meta") or {}).get("recipe") or "")


def score_plan(
    prediction: str | Plan,
    reference: Plan,
    tools: ToolSet,
    *,
    require_join: bool = True,
    example_id: str = "",
    rules: Sequence[Rule] = (),
    context: Mapping[str, Any] | None = None,
) -> PlanScore:
    """Score one prediction against its reference plan; ``tools``: the functions the model was shown;
    ``rules`` and ``context``: the recipe's rules and the example's request and "now" (validity counts them)."""
    text = prediction if isinstance(prediction, str) else ""
    try:
        plan = parse_row_plan(prediction, tools) if isinstance(prediction, str) else prediction
    except PlanSyntaxError as exc:
        error = {"code": ErrorCode.SYNTAX.value, "step": exc.step, "message": str(exc)}
        return PlanScore(
            example_id,
            text,
            False,
            False,
            False,
            (ErrorCode.SYNTAX.value,),
            (error,),
            0,
            0,
            len(set(reference.function_names())),
        )
    errors = validate(plan, tools, require_join=require_join, rules=rules, context=context)
    codes = tuple(dict.fromkeys(e.code.value for e in errors))
    overlap = tool_overlap(plan, reference)
    return PlanScore(
        example_id,
        text,
        True,
        not errors,
        plans_equivalent(plan, reference),
        codes,
        tuple(e.to_dict() for e in errors),
        overlap.true_positives,
        overlap.predicted,
        overlap.expected,
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

    return {
        "examples": n,
        "success_rate": rate(sum(s.success for s in scores)),
        "strict_success_rate": rate(sum(s.strict_success for s in scores)),
        "validity_rate": rate(sum(s.valid for s in scores)),
        "parse_rate": rate(sum(s.parsed for s in scores)),
        "tool_recall": tp / expected if expected else 1.0,
        "tool_precision": tp / predicted if predicted else float(expected == 0),
        "errors_by_code": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


# --------------------------------------------------------------------------------------------------
# generation


def render_prompts(tokenizer: Any, prompts: Sequence[list[dict[str, str]]]) -> list[str]:
    return [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]


def generate_plans(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[list[dict[str, str]]],
    *,
    max_new_tokens: int = 320,
    batch_size: int = 8,
    show_progress: bool = True,
    description: str = "generating plans",
) -> list[str]:
    """Greedy completions of chat prompts (system + user messages), cut at the plan's ``join()``.

    Prompts are batched by length (left padding) and the outputs returned in the input order."""
    import torch

    from planforge.trainers.report import progress

    texts = render_prompts(tokenizer, prompts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    outputs: list[str] = [""] * len(texts)
    saved_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    model.eval()
    device = next(model.parameters()).device
    try:
        with progress() as bar:
            task = bar.add_task(description, total=len(texts), info="", visible=show_progress)
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                enc = tokenizer(
                    [texts[i] for i in chunk], return_tensors="pt", padding=True, add_special_tokens=False
                ).to(device)
                with torch.inference_mode():
                    out = model.generate(
                        **enc,
                        do_sample=False,
                        max_new_tokens=max_new_tokens,
                        stop_strings=list(STOP_STRINGS),
                        tokenizer=tokenizer,
                        pad_token_id=tokenizer.pad_token_id,
                        temperature=None,
                        top_p=None,
                        top_k=None,
                    )
                new = out[:, enc["input_ids"].shape[1] :]
                for i, row in zip(chunk, new, strict=True):
                    outputs[i] = clean_prediction(tokenizer.decode(row, skip_special_tokens=True))
                bar.advance(task, len(chunk))
    finally:
        tokenizer.padding_side = saved_side
    return outputs


# --------------------------------------------------------------------------------------------------
# the run


@dataclass
class EvalPlansConfig:
    """``gen eval plans``: a model (+ adapter) generates, or ``predictions`` are read from a JSONL file."""

    data: str
    model: str | None = None
    adapter: str | None = None
    predictions: str | None = None
    split: str = "test"
    toolrag: str | None = None
    use_run_toolrag: bool = True  # reuse the classifier an adapter was trained with
    max_examples: int | None = None
    batch_size: int = 8
    max_new_tokens: int = 320
    require_join: bool = True
    seed: int = 42
    out: str | None = None
    dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)


def read_predictions(path: str | Path) -> dict[str, str]:
    """``{"id", "plan"}`` per line (``prediction``, ``output``, ``completion`` or ``text`` are read too; a
    JSON plan may be given as a list)."""
    path = Path(path)
    if not path.is_file():
        raise TrainerConfigError(f"{path}: no such predictions file")
    found: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise TrainerConfigError(f"{path}:{line_no}: not a JSON object") from None
        if not isinstance(row, dict) or "id" not in row:
            raise TrainerConfigError(f"{path}:{line_no}: expected an object with an 'id' key")
        for key in ("plan", "prediction", "output", "completion", "text"):
            if key in row:
                value = row[key]
                found[str(row["id"])] = value if isinstance(value, str) else json.dumps(value)
                break
        else:
            raise TrainerConfigError(f"{path}:{line_no}: no 'plan' (or 'prediction') key")
    return found


def eval_plans(cfg: EvalPlansConfig) -> dict[str, Any]:
    """Score plans on a dataset split; returns the metrics (and writes files under ``cfg.out`` when set)."""
    if (cfg.model or cfg.adapter) and cfg.predictions:
        raise TrainerConfigError("give either --model/--adapter or --predictions, not both")
    if not (cfg.model or cfg.adapter or cfg.predictions):
        raise TrainerConfigError("give --model (and optionally --adapter) to generate, or --predictions FILE")
    ds = load_dataset_dir(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_EVAL)
    split = limit(pick_split(ds, cfg.split, cfg.data), cfg.max_examples)
    rows = split.to_list()
    tool_cache = ToolCache()
    offered = [tool_cache(row["tools"], cfg.data) for row in rows]
    references = [row_plan(row) for row in rows]
    started = time.perf_counter()
    info: dict[str, Any] = {}

    if cfg.predictions:
        predicted = read_predictions(cfg.predictions)
        missing = [row["id"] for row in rows if row["id"] not in predicted]
        if missing:
            raise TrainerConfigError(
                f"{cfg.predictions}: no prediction for {len(missing)} of {len(rows)} {cfg.split} examples "
                f"(first: {missing[0]})"
            )
        texts = [predicted[row["id"]] for row in rows]
        shown = offered
    else:
        model_spec = cfg.model
        toolrag_dir = cfg.toolrag
        if cfg.adapter:
            from planforge.trainers.models import base_model_of

            run = read_run_config(cfg.adapter) or {}
            model_spec = model_spec or base_model_of(cfg.adapter)
            if not model_spec:
                raise TrainerConfigError(f"{cfg.adapter}: cannot tell the base model; pass --model")
            if toolrag_dir is None and cfg.use_run_toolrag:
                toolrag_dir = (run.get("config") or {}).get("toolrag")
        shown = offered
        if toolrag_dir:
            from planforge.trainers.toolrag import ToolRAGClassifier

            classifier = ToolRAGClassifier.load(toolrag_dir)
            selections = classifier.select([row["query"] for row in rows])
            shown = [classifier.tools.subset(names) for names in selections]
            info["toolrag"] = str(toolrag_dir)
            info["toolrag_mean_selected"] = sum(len(s) for s in selections) / max(len(selections), 1)
        prompts = [
            row_prompt(row, tools, shown=view if toolrag_dir else None)
            for row, tools, view in zip(rows, offered, shown, strict=True)
        ]
        texts = generate_from_model(model_spec, cfg.adapter, prompts, cfg)
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
        )
        for text, ref, tools, row in zip(texts, references, shown, rows, strict=True)
    ]
    metrics = {**summarize(scores), "split": cfg.split, **info}
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        write_predictions(out / "predictions.jsonl", scores)
        write_run_files(out, command="eval plans", config=cfg, metrics=metrics, fingerprints=fingerprint(ds, cfg.data))
    return metrics


def generate_from_model(model_spec: str, adapter: str | None, prompts: list, cfg: EvalPlansConfig) -> list[str]:
    import torch

    from planforge.trainers.models import load_adapter, load_causal_lm

    torch.manual_seed(cfg.seed)
    model, tokenizer = load_causal_lm(model_spec, dtype=cfg.dtype)
    if adapter:
        model = load_adapter(model, adapter)
        adapter_tok = Path(adapter) / "tokenizer_config.json"
        if adapter_tok.is_file():  # the tokenizer saved with the adapter (same vocabulary, its chat template)
            from planforge.trainers.models import load_tokenizer

            tokenizer = load_tokenizer(str(adapter))
    return generate_plans(model, tokenizer, prompts, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size)


def write_predictions(path: Path, scores: Iterable[PlanScore]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for score in scores:
            fh.write(json.dumps(score.to_dict(), ensure_ascii=False) + "\n")


__all__ = [
    "EvalPlansConfig",
    "PlanScore",
    "clean_prediction",
    "eval_plans",
    "generate_plans",
    "read_predictions",
    "score_plan",
    "summarize",
    "write_json",
]
