"""GRPO from the SFT adapter, the validators as the reward: plan success after RL against SFT alone.

The hybrid SFT-then-RL cycle of the TinyLLM study: the SFT adapter of ``benchmarks/trainers_sft.py`` is the starting
policy, and each step samples ``--num-generations`` plans per request and rewards them by the validators (parses,
valid, isomorphic to the reference, share of agreeing key arguments). Not run in CI; on a GPU give it the real
schedule, on CPU a short run (the figures say which device ran).

    python benchmarks/trainers_grpo.py --sft /tmp/bench_sft/adapter [--data /tmp/mac_ds] [--max-steps 200]

"SFT alone" is read from ``SFT/../eval_after/metrics.json`` when the SFT benchmark left it there for the same test
examples, else measured. The GRPO adapter, the evaluation and ``figures.json`` go under ``--out``.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft", required=True, help="the SFT LoRA adapter directory (trainers_sft.py's OUT/adapter)")
    parser.add_argument("--data", default="/tmp/mac_ds", help="plans dataset (built when missing)")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--model", default=None, help="base model (default: SmolLM2-135M-Instruct GGUF)")
    parser.add_argument("--out", default="/tmp/bench_grpo")
    parser.add_argument("--train-examples", type=int, default=None, help="cap on the training requests")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--batch-size", type=int, default=8, help="sampled plans per step")
    parser.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps (less memory)")
    parser.add_argument("--num-generations", type=int, default=8, help="plans sampled per request")
    parser.add_argument("--max-completion-length", type=int, default=192)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--beta", type=float, default=0.0, help="KL coefficient against the SFT adapter")
    parser.add_argument("--free-text", default="normalized", help="normalized | ignore (reward and evaluation)")
    parser.add_argument("--test-examples", type=int, default=None)
    parser.add_argument("--eval-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)

    from planforge.trainers.evaluate import EvalPlansConfig, eval_plans
    from planforge.trainers.grpo import GRPORunConfig, run_grpo

    data = ensure_dataset(args.data, args.n)
    model = args.model or smollm2()
    out = Path(args.out)
    sft = Path(args.sft)
    timings = {}

    def evaluate(adapter: Path, where: Path) -> dict:
        return eval_plans(
            EvalPlansConfig(
                data=str(data),
                model=model,
                adapter=str(adapter),
                max_examples=args.test_examples,
                batch_size=args.eval_batch_size,
                max_new_tokens=args.max_new_tokens,
                free_text=args.free_text,
                seed=args.seed,
                out=str(where),
            )
        )

    sft_alone = reusable_metrics(sft.parent / "eval_after" / "metrics.json", args.test_examples)
    if sft_alone is None:
        started = time.perf_counter()
        sft_alone = evaluate(sft, out / "eval_sft")
        timings["eval_sft_seconds"] = time.perf_counter() - started

    train = run_grpo(
        GRPORunConfig(
            data=str(data),
            model=model,
            adapter=str(sft),
            out=str(out / "adapter"),
            epochs=args.epochs,
            max_steps=args.max_steps,
            batch_size=args.batch_size,
            grad_accum=args.grad_accum,
            num_generations=args.num_generations,
            max_completion_length=args.max_completion_length,
            temperature=args.temperature,
            lr=args.lr,
            beta=args.beta,
            free_text=args.free_text,
            seed=args.seed,
            max_examples=args.train_examples,
        )
    )
    timings["train_seconds"] = train["train_seconds"]

    started = time.perf_counter()
    after = evaluate(out / "adapter", out / "eval_after")
    timings["eval_after_seconds"] = time.perf_counter() - started

    import torch

    curve = {k: v for k, v in train.items() if k.startswith(("reward", "completion_tokens"))}
    figures = {
        "model": model,
        "sft_adapter": str(sft),
        "train_requests": train["train_examples"],
        "train_steps": train["train_steps"],
        "num_generations": train["num_generations"],
        "sampled_plans": train["train_steps"] * args.batch_size * args.grad_accum,
        "reward_weights": train["reward_weights"],
        "reward_curve": curve,
        "test_examples": after["examples"],
        "sft_alone": plan_figures(sft_alone),
        "sft_then_grpo": plan_figures(after),
        "change_points": points(after, sft_alone),
        **{k: round(v, 1) for k, v in timings.items()},
        "seconds_per_step": timings["train_seconds"] / max(train["train_steps"], 1),
        "torch_threads": torch.get_num_threads(),
        **machine(),
    }
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print_figures("GRPO benchmark (mac_assistant test split)", figures)


if __name__ == "__main__":
    main()
