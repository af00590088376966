"""Raw LoRA training speed of SmolLM2-135M on CPU: tokens/s of one forward + backward, all layers against the last 15.

Why ``gen train sft --lora-layers``: nothing below the lowest adapter needs a gradient, so the backward pass stops
there. The loss is on the last 72 positions only (a plan's length), as ``gen train sft`` computes it on CPU. Each
figure is the mean of ``--steps`` steps after a warm-up step, with the process's CPU time (every thread's) and the
machine's 1-minute load average: on a machine other jobs share, compare figures of one run, not wall times of
different runs. Measured with ``--steps 1`` on 2 cores other jobs kept busy (load average 16; torch 2.13,
transformers 5.24, OMP_WAIT_POLICY=PASSIVE, 2 threads), 8 x 470 tokens: all layers 81.2 s per step (29.3 s CPU),
the last 15 layers 47.1 s (18.5 s CPU): all layers cost 1.6 times the CPU seconds.

    python benchmarks/trainers_step_speed.py [--batch 8] [--length 470] [--threads 2] [--layers both]

``--wait-policy default`` leaves libgomp's waiters that spin before they sleep (what torch gets unless
``OMP_WAIT_POLICY`` is set); ``benchmarks/trainers_threads.py`` compares both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from trainers_common import set_threads, smollm2

LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=470, help="tokens per sequence (ToolRAG prompt + plan)")
    parser.add_argument("--plan-tokens", type=int, default=72)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps, after one warm-up step")
    parser.add_argument("--layers", choices=("both", "all", "last"), default="both", help="LoRA on which layers")
    parser.add_argument(
        "--wait-policy",
        choices=("passive", "default"),
        default="passive",
        help="OpenMP waiters sleep (OMP_WAIT_POLICY=PASSIVE, as gen train) or spin first (libgomp's default)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line per configuration")
    args = parser.parse_args()
    # torch is not imported yet, so libgomp will read what is set here
    if args.wait_policy == "passive":
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        os.environ.pop("OMP_WAIT_POLICY", None)
    set_threads(args.threads)

    import torch
    from peft import LoraConfig, get_peft_model

    from planforge.llms.local import load_causal_lm

    base, _ = load_causal_lm(smollm2(), dtype="float32")
    layers = base.config.num_hidden_layers
    ids = torch.randint(0, base.config.vocab_size - 1, (args.batch, args.length))
    k = args.plan_tokens
    configs = [("all layers", 0), (f"last {layers // 2} layers", layers - layers // 2)]
    configs = {"both": configs, "all": configs[:1], "last": configs[1:]}[args.layers]
    for name, first in configs:
        cfg = LoraConfig(
            r=16,
            lora_alpha=32,
            lora_dropout=0.0,
            target_modules=LINEAR,
            task_type="CAUSAL_LM",
            layers_to_transform=list(range(first, layers)),
        )
        model = get_peft_model(base, cfg)
        model.train()
        wall, cpu = [], []
        for _ in range(1 + args.steps):  # the first step warms up the allocator
            started, cpu_started = time.perf_counter(), time.process_time()
            hidden = model.base_model.model.model(input_ids=ids).last_hidden_state[:, -k - 1 : -1]
            logits = model.base_model.model.lm_head(hidden)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, -k:].reshape(-1))
            loss.backward()
            model.zero_grad(set_to_none=True)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        seconds, cpu_seconds = statistics.fmean(wall[1:]), statistics.fmean(cpu[1:])
        speed = args.batch * args.length / seconds
        load = os.getloadavg()[0]
        if args.json:
            figures = {
                "layers": name,
                "seconds_per_step": round(seconds, 2),
                "cpu_seconds_per_step": round(cpu_seconds, 2),
                "tokens_per_second": round(speed, 1),
                "threads": torch.get_num_threads(),
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
                "load_average_1m": round(load, 2),
            }
            print(json.dumps(figures), flush=True)
        else:
            print(
                f"{name}: {seconds:.1f} s per step, {speed:.0f} tokens/s ({cpu_seconds:.1f} s CPU; "
                f"{torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}, "
                f"load average {load:.2f})",
                flush=True,
            )
        base = model.unload()


if __name__ == "__main__":
    main()
