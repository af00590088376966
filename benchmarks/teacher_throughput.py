"""Orchestration throughput of the openai teacher against a local OpenAI-compatible server.

Starts ``tests/support/openai_server.py`` as a separate process answering every request after a fixed
latency, then drives the real run loop (sampler, teacher, parse, validate, dedup, checkpoint) for a
fixed number of requests at each concurrency. Reports requests/s as a share of the ideal
concurrency / latency, and the client's CPU time per request. Targets: >= 0.9 of ideal, < 2 ms CPU.

    python benchmarks/teacher_throughput.py [--requests 2000] [--latency 0.2] [--concurrency 64 256]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planforge.generator.run import RunConfig, generate  # noqa: E402
from planforge.generator.teachers.llm import EXAMPLES_SCHEMA, LLMTeacher  # noqa: E402
from planforge.llms.endpoint import EndpointOptions, connect  # noqa: E402
from planforge.recipes.loader import load_recipe  # noqa: E402


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", "--port", "0", "--latency", str(latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise SystemExit(f"server did not start: {line!r}")
    return process, line.split()[1]


async def measure(base_url: str, concurrency: int, requests: int) -> tuple[float, float]:
    recipe = load_recipe("mac_assistant")
    options = EndpointOptions(base_url=base_url, concurrency=concurrency, max_retries=0, use_cache=False)
    teacher = LLMTeacher(recipe, connect(options, "bench", json_schema=EXAMPLES_SCHEMA, schema_name="examples"))
    with tempfile.TemporaryDirectory() as out:
        config = RunConfig(
            recipe=recipe, out=Path(out), num_examples=10**9, max_requests=requests, window=2 * concurrency
        )
        cpu, wall = time.process_time(), time.perf_counter()
        result = await generate(config, teacher)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await teacher.aclose()
    assert result.stats.requests == requests and result.stats.failed_requests == 0, result.stats
    return requests / wall, cpu / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    server, base_url = start_server(args.latency)
    try:
        for concurrency in args.concurrency:
            asyncio.run(measure(base_url, concurrency, min(200, args.requests)))  # warm up
            rate, cpu = asyncio.run(measure(base_url, concurrency, args.requests))
            ideal = concurrency / args.latency
            print(
                f"concurrency {concurrency:4d}: {rate:7.1f} req/s = {rate / ideal:5.2f} of ideal {ideal:.0f}; "
                f"client CPU {cpu * 1000:.2f} ms/request"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
