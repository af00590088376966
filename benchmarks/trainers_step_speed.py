"""Raw LoRA training speed of SmolLM2-135M on CPU: tokens/s of one forward + backward, all layers against the last 15.

Why ``gen train sft --lora-layers``: nothing below the lowest adapter needs a gradient, so the backward pass stops
there. The loss is on the last 72 positions only (a plan's length), as ``gen train sft`` computes it on CPU.

    python benchmarks/trainers_step_speed.py [--batch 8] [--length 470] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

from trainers_common import set_threads, smollm2

LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=470, help="tokens per sequence (ToolRAG prompt + plan)")
    parser.add_argument("--plan-tokens", type=int, default=72)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    set_threads(args.threads)

    import torch
    from peft import LoraConfig, get_peft_model

    from planforge.llms.local import load_causal_lm

    base, _ = load_causal_lm(smollm2(), dtype="float32")
    layers = base.config.num_hidden_layers
    ids = torch.randint(0, base.config.vocab_size - 1, (args.batch, args.length))
    k = args.plan_tokens
    for name, first in (("all layers", 0), (f"last {layers // 2} layers", layers - layers // 2)):
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
        seconds = []
        for _ in range(2):  # the first step warms up the allocator
            started = time.perf_counter()
            hidden = model.base_model.model.model(input_ids=ids).last_hidden_state[:, -k - 1 : -1]
            logits = model.base_model.model.lm_head(hidden)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, -k:].reshape(-1))
            loss.backward()
            seconds.append(time.perf_counter() - started)
        speed = args.batch * args.length / seconds[-1]
        print(f"{name}: {seconds[-1]:.1f} s per step, {speed:.0f} tokens/s", flush=True)
        base = model.unload()


if __name__ == "__main__":
    main()
