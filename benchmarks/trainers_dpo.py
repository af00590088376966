"""DPO from the SFT adapter on pairs from ``gen pairs``: plan success rate after DPO against SFT alone.

The hybrid SFT-then-DPO cycle of the TinyLLM study: the SFT adapter of ``benchmarks/trainers_sft.py`` is both the
starting point and the frozen reference. Not run in CI.

    python benchmarks/trainers_dpo.py --sft /tmp/bench_sft/adapter [--pairs DIR] [--data /tmp/mac_ds] [--threads 2]

Without ``--pairs``, pairs are built first with ``gen pairs DATA`` on the train and validation splits:
``--rejected corruptions`` (typed one-edit corruptions of the chosen plans, no generation pass) or
``--rejected student`` (the default): on-policy negatives, the SFT adapter's own plans sampled ``--samples`` times
at ``--temperature`` on its own prompts, the wrong ones kept (invalid, not isomorphic, or wrong key arguments).
"SFT alone" is read from ``SFT/../eval_after/metrics.json`` when the SFT benchmark left it there for the same test
examples, else measured. Every evaluation reports success, strict success, argument success, validity and
relevance.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from trainers_common import (
    ensure_dataset,
    machine,
    plan_figures,
    points,
    print_figures,
    reusable_metrics,
    set_threads,
    smollm2,
)


def build_pairs(data: Path, out: Path, args: argparse.Namespace, sft: Path) -> Path:
    if (out / "dataset_dict.json").is_file():
        return out
    command_args = [
        "pairs",
        str(data),
        "--out",
        str(out),
        "--rejected",
        args.rejected,
        "--splits",
        "train,validation",
        "--seed",
        str(args.seed),
    ]
    if args.pair_examples:
        command_args += ["--max-examples", str(args.pair_examples)]
    if args.rejected != "corruptions":
        command_args += ["--student", f"adapter:{sft}", "--samples", str(args.samples)]
        command_args += ["--temperature", str(args.temperature), "--per-example", str(args.per_example)]
        command_args += ["--max-new-tokens", str(args.max_new_tokens), "--batch-size", str(args.eval_batch_size)]
    gen = shutil.which("gen")
    command = [gen] if gen else [sys.executable, "-m", "planforge"]
    print("building pairs: gen", " ".join(command_args), flush=True)
    started = time.perf_counter()
    subprocess.run([*command, *command_args], check=True)
    print(f"pairs built in {time.perf_counter() - started:.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft", required=True, help="the SFT LoRA adapter directory (trainers_sft.py's OUT/adapter)")
    parser.add_argument("--data", default="/tmp/mac_ds", help="plans dataset (built when missing)")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--pairs", default=None, help="pairs dataset from `gen pairs` (built when missing)")
    parser.add_argument("--rejected", default="student", help="gen pairs --rejected: student|corruptions|mixed")
    parser.add_argument("--samples", type=int, default=4, help="student plans sampled per example")
    parser.add_argument("--temperature", type=float, default=1.0, help="student sampling temperature")
    parser.add_argument("--per-example", type=int, default=1, help="rejected plans kept per example")
    parser.add_argument("--pair-examples", type=int, default=1000, help="gen pairs --max-examples (per split)")
    parser.add_argument("--model", default=None, help="base model (default: SmolLM2-135M-Instruct GGUF)")
    parser.add_argument("--toolrag", default=None, help="ToolRAG classifier for the prompts (default: the SFT run's)")
    parser.add_argument("--out", default="/tmp/bench_dpo")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps (less memory)")
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--max-examples", type=int, default=None, help="cap on the training pairs")
    parser.add_argument("--test-examples", type=int, default=None)
    parser.add_argument("--eval-pairs", type=int, default=50, help="validation pairs for DPO's reward accuracy")
    parser.add_argument("--eval-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)

    from planforge.trainers.dpo import DPORunConfig, run_dpo
    from planforge.trainers.evaluate import EvalPlansConfig, eval_plans

    data = ensure_dataset(args.data, args.n)
    model = args.model or smollm2()
    out = Path(args.out)
    sft = Path(args.sft)
    timings = {}
    started = time.perf_counter()
    pairs = Path(args.pairs) if args.pairs else build_pairs(data, out / "pairs", args, sft)
    if not args.pairs:
        timings["pairs_seconds"] = time.perf_counter() - started

    sft_alone = reusable_metrics(sft.parent / "eval_after" / "metrics.json", args.test_examples)
    if sft_alone is None:
        started = time.perf_counter()
        sft_alone = eval_plans(
            EvalPlansConfig(
                data=str(data),
                model=model,
                adapter=str(sft),
                toolrag=args.toolrag,
                max_examples=args.test_examples,
                batch_size=args.eval_batch_size,
                max_new_tokens=args.max_new_tokens,
                out=str(out / "eval_sft"),
            )
        )
        timings["eval_sft_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    train = run_dpo(
        DPORunConfig(
            pairs=str(pairs),
            model=model,
            adapter=str(sft),
            toolrag=args.toolrag,
            out=str(out / "adapter"),
            epochs=args.epochs,
            max_steps=args.max_steps,
            batch_size=args.batch_size,
            grad_accum=args.grad_accum,
            lr=args.lr,
            beta=args.beta,
            seed=args.seed,
            max_examples=args.max_examples,
            max_eval_examples=args.eval_pairs,
        )
    )
    timings["train_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    after = eval_plans(
        EvalPlansConfig(
            data=str(data),
            model=model,
            adapter=str(out / "adapter"),
            toolrag=args.toolrag,
            max_examples=args.test_examples,
            batch_size=args.eval_batch_size,
            max_new_tokens=args.max_new_tokens,
            out=str(out / "eval_after"),
        )
    )
    timings["eval_after_seconds"] = time.perf_counter() - started

    import torch

    report = json.loads((pairs / "pairs.json").read_text()) if (pairs / "pairs.json").is_file() else {}
    figures = {
        "model": model,
        "pairs": str(pairs),
        "rejected": report.get("rejected", args.rejected),
        "pairs_by_kind": report.get("by_kind"),
        "student_samples": report.get("student_samples"),
        "student_right": report.get("student_right"),
        "prompts": "toolrag selection" if train.get("toolrag_mean_shown") else "offered functions",
        "train_pairs": train["train_pairs"],
        "train_steps": train["train_steps"],
        "train_loss": train["train_loss"],
        "train_rewards_accuracies_last_log": train.get("train_rewards_accuracies_last_log"),
        "seconds_per_step": timings["train_seconds"] / max(train["train_steps"], 1),
        "eval_rewards_accuracies": train.get("eval_rewards_accuracies"),
        "test_examples": after["examples"],
        "sft_alone": plan_figures(sft_alone),
        "sft_then_dpo": plan_figures(after),
        "change_points": points(after, sft_alone),
        "success_change_points": 100 * (after["success_rate"] - sft_alone["success_rate"]),
        **{k: round(v, 1) for k, v in timings.items()},
        "torch_threads": torch.get_num_threads(),
        **machine(),
    }
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print_figures("DPO benchmark (mac_assistant test split)", figures)


if __name__ == "__main__":
    main()
