"""How long a hub id takes to fail when the Hugging Face Hub cannot be reached: planforge's one probe against
transformers' own loader (its retries), each a fresh process, on a machine without the Hub.

    python benchmarks/hub_unreachable.py [--model HuggingFaceTB/SmolLM2-135M-Instruct]

The id must not be in the local Hugging Face cache (a cached id loads from it and never asks the Hub). Both rows
include importing torch and transformers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

PLANFORGE = """
from planforge.errors import PlanforgeError
from planforge.llms.local import load_causal_lm
try:
    load_causal_lm({model!r})
except PlanforgeError as exc:
    print("planforge:", exc)
"""

CONTROL = """
from transformers import AutoConfig
try:
    AutoConfig.from_pretrained({model!r})
except Exception as exc:
    print("transformers:", type(exc).__name__, str(exc).splitlines()[0][:160])
"""


def timed(code: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    return time.perf_counter() - started, (done.stdout + done.stderr).strip().splitlines()[-1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct")
    args = parser.parse_args()
    for name, code in (("planforge (one probe)", PLANFORGE), ("transformers alone (its retries)", CONTROL)):
        seconds, last = timed(code.format(model=args.model))
        print(f"{name}: {seconds:.1f} s wall; {last[0] if last else ''}", flush=True)
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
