"""Retrieved in-context examples at inference: what K demonstrations cost in prompt tokens and change in success.

The same model (an SFT adapter, or the base model) is evaluated on the same test requests twice: with the prompts
it was trained on, then with ``--icl-examples K`` demonstrations added to the system turn (the K nearest training
examples by MiniLM embedding whose plans use only the functions shown; TinyAgent's retrieved examples). Training
with the demonstrations too is ``benchmarks/trainers_sft.py --icl-examples K``. Not run in CI.

    python benchmarks/trainers_icl.py --adapter /tmp/bench_sft/adapter [--k 2] [--test-examples 30]

"Without" is read from ``ADAPTER/../eval_after/metrics.json`` when the SFT benchmark left it there for the same test
examples, else measured. Both evaluations and ``figures.json`` go under ``--out``.
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
    parser.add_argument("--adapter", default=None, help="a LoRA adapter (default: the base model alone)")
    parser.add_argument("--data", default="/tmp/mac_ds", help="plans dataset (built when missing)")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--model", default=None, help="base model (default: SmolLM2-135M-Instruct GGUF)")
    parser.add_argument("--toolrag", default=None, help="ToolRAG classifier (default: the adapter's)")
    parser.add_argument("--k", type=int, default=2, help="demonstrations per prompt")
    parser.add_argument("--out", default="/tmp/bench_icl")
    parser.add_argument("--test-examples", type=int, default=None)
    parser.add_argument("--eval-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)

    from planforge.trainers.evaluate import EvalPlansConfig, eval_plans

    data = ensure_dataset(args.data, args.n)
    model = args.model or smollm2()
    out = Path(args.out)
    adapter = Path(args.adapter) if args.adapter else None
    timings = {}

    def evaluate(k: int, where: Path) -> dict:
        return eval_plans(
            EvalPlansConfig(
                data=str(data),
                model=model,
                adapter=str(adapter) if adapter else None,
                toolrag=args.toolrag,
                icl_examples=k,
                max_examples=args.test_examples,
                batch_size=args.eval_batch_size,
                max_new_tokens=args.max_new_tokens,
                seed=args.seed,
                out=str(where),
            )
        )

    without = reusable_metrics(adapter.parent / "eval_after" / "metrics.json", args.test_examples) if adapter else None
    if without is not None and without.get("icl_examples"):
        without = None  # that evaluation had demonstrations already
    if without is None:
        started = time.perf_counter()
        without = evaluate(0, out / "eval_without")
        timings["eval_without_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    with_icl = evaluate(args.k, out / f"eval_k{args.k}")
    timings["eval_with_seconds"] = time.perf_counter() - started

    tokens = (without.get("prompt_tokens_mean"), with_icl.get("prompt_tokens_mean"))
    figures = {
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "demonstrations": args.k,
        "demonstrations_shown_mean": with_icl.get("icl_mean_shown"),
        "test_examples": with_icl["examples"],
        "prompt_tokens_mean": {"without": tokens[0], "with": tokens[1]},
        "prompt_token_cost": round(tokens[1] - tokens[0], 1) if None not in tokens else None,
        "without": plan_figures(without),
        "with": plan_figures(with_icl),
        "change_points": points(with_icl, without),
        **{k: round(v, 1) for k, v in timings.items()},
        **machine(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print_figures(f"In-context examples at inference (K={args.k}, mac_assistant test split)", figures)


if __name__ == "__main__":
    main()
