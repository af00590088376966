"""``gen train sft|dpo|grpo|toolrag`` and ``gen eval plans|toolrag``: each command is its config dataclass.

The options are built from the configs' fields (:func:`planforge.commands.config_command`): one home for every
flag's name, help and default. torch/transformers/trl load inside the runs only, so ``gen --help`` stays fast.
A configuration problem is one line (exit 2), before any training. Each run prints its metrics as a table
(stderr) and as one JSON line (stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from planforge.commands import config_command, new_app
from planforge.console import err, metrics_table
from planforge.trainers.dpo_config import DPORunConfig
from planforge.trainers.eval_bfcl_config import EvalBFCLConfig
from planforge.trainers.evaluate_config import EvalPlansConfig
from planforge.trainers.grpo_config import GRPORunConfig
from planforge.trainers.sft_config import SFTRunConfig
from planforge.trainers.toolrag_config import EvalToolRAGConfig, ToolRAGConfig

train_app = new_app(help="Train models on planforge datasets: SFT, DPO, GRPO and the ToolRAG classifier.")
eval_app = new_app(help="Evaluate planners (plan success rate) and ToolRAG classifiers.")


def _quiet_libraries() -> None:
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, message=".*will be removed in v6.*")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # the loader's "Loading weights" bar; planforge shows its own progress


def _report(title: str, metrics: dict[str, Any], out: str | None) -> dict[str, Any]:
    import os

    if int(os.environ.get("RANK", "0")):  # one report for a run of several processes (accelerate launch)
        return metrics
    err.print(metrics_table(title, metrics))
    if out is not None:
        err.print(f"wrote {out}", highlight=False)
    sys.stdout.write(json.dumps(metrics, default=str) + "\n")
    sys.stdout.flush()
    return metrics


def _leave_process_group(*, wait_for_others: bool) -> None:
    """End a run of several processes (``accelerate launch``) in step: each waits for the others, then destroys
    its process group. A process left to exit with the group alive can abort in its C++ threads' destructors
    ("terminate called without an active exception", SIGABRT), failing a run whose work was done."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is None or not distributed.is_available() or not distributed.is_initialized():
        return
    try:
        if wait_for_others:
            distributed.barrier()
    finally:
        distributed.destroy_process_group()


def _runner(title: str, module: str, function: str, *, torch: bool = True) -> Callable[[Any], dict[str, Any]]:
    """A command body: import the trainer only when the command runs, run it, report its metrics."""

    def run(cfg: Any) -> dict[str, Any]:
        import importlib

        from planforge.trainers.cpu import prefer_sleeping_threads

        prefer_sleeping_threads()  # before torch is imported: libgomp reads OMP_WAIT_POLICY once
        if torch or getattr(cfg, "model", None) or getattr(cfg, "adapter", None):
            _quiet_libraries()
        try:
            metrics = getattr(importlib.import_module(module), function)(cfg)
        except BaseException:
            _leave_process_group(wait_for_others=False)  # the launcher stops the other processes
            raise
        _leave_process_group(wait_for_others=True)
        shown = title.format(out=getattr(cfg, "out", None), split=getattr(cfg, "split", ""))
        return _report(shown, metrics, getattr(cfg, "out", None))

    return run


def _bfcl(cfg: Any) -> dict[str, Any]:
    from planforge.trainers.eval_bfcl import bfcl_table, eval_bfcl

    if cfg.model or cfg.adapter:
        _quiet_libraries()
    metrics = eval_bfcl(cfg)
    err.print(bfcl_table(metrics))
    if cfg.out is not None:
        err.print(f"wrote {cfg.out}", highlight=False)
    sys.stdout.write(json.dumps(metrics, default=str) + "\n")
    sys.stdout.flush()
    return metrics


config_command(
    train_app,
    "sft",
    SFTRunConfig,
    _runner("gen train sft -> {out}", "planforge.trainers.sft", "run_sft"),
    help="Supervised fine-tuning (TRL SFTTrainer): prompt = functions + request, loss on the plan only.",
)
config_command(
    train_app,
    "dpo",
    DPORunConfig,
    _runner("gen train dpo -> {out}", "planforge.trainers.dpo", "run_dpo"),
    help="Direct preference optimisation (TRL DPOTrainer), optionally continuing an SFT adapter.",
)
config_command(
    train_app,
    "grpo",
    GRPORunConfig,
    _runner("gen train grpo -> {out}", "planforge.trainers.grpo", "run_grpo"),
    help="RL with the validators as the reward (TRL GRPOTrainer): parses, valid, isomorphic, arguments agree.",
)
config_command(
    train_app,
    "toolrag",
    ToolRAGConfig,
    _runner("gen train toolrag -> {out}", "planforge.trainers.toolrag", "train_toolrag"),
    help="Train the tool-retrieval classifier (one sigmoid per function) and compare it with embedding top-k.",
)
config_command(
    eval_app,
    "plans",
    EvalPlansConfig,
    _runner("gen eval plans ({split})", "planforge.trainers.evaluate", "eval_plans", torch=False),
    help="Score plans: success rate (DAG isomorphism with the reference), validity, tool recall, errors by code.",
)
config_command(
    eval_app,
    "bfcl",
    EvalBFCLConfig,
    _bfcl,
    help="Score a model, an endpoint or predictions on BFCL's AST categories: per-category accuracy and overall.",
)
config_command(
    eval_app,
    "toolrag",
    EvalToolRAGConfig,
    _runner("gen eval toolrag ({split})", "planforge.trainers.toolrag", "eval_toolrag"),
    help="Recall, precision, functions selected per request, prompt tokens saved and latency of a classifier.",
)


def main() -> None:  # pragma: no cover - for running the sub-apps alone: python -m planforge.trainers.cli
    root = new_app()
    root.add_typer(train_app, name="train")
    root.add_typer(eval_app, name="eval")
    root()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["eval_app", "train_app"]
