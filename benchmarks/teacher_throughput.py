"""The openai teacher, side by side with a bare-SDK control, against one local OpenAI-compatible server.

Before timing, the script draws the run's first N requests exactly as `gen run` will (same recipe, seed and
sampler), renders each request body as planforge sends it, and files a template-teacher answer for each under
its messages (``tests/support/openai_server.py --replies-file``), so every reply holds five valid examples to
parse, validate, dedup and write. Then, each as its own process, against a fresh server with a fixed latency:

* control: the openai SDK alone on its aiohttp transport, posting the same bodies at the same concurrency with
  ``chat.completions.create`` (and, as a second control, with ``client.post(..., cast_to=dict)``, the call
  planforge makes), keeping the replies and nothing else;
* planforge: ``gen run recipe mac_assistant --teacher openai`` for the same N requests: sampler, prompts,
  transport, parse, validate, dedup, checkpoint and the dataset write, start-up included;
* planforge again with a share of requests whose first attempt fails (half 429 with Retry-After: 1 s, half
  500), to see a run go on while those wait out their retries.

CPU is the process's user + system time (its worker processes included), the stable figure on a shared
machine; the load average is printed with each figure. Runs alternate control / planforge to cancel load drift.
Targets: planforge's CPU per request <= 1.5x the control's; with 10% / 30% faults, a finish within 1.3x / 1.6x
of its clean time.

    python benchmarks/teacher_throughput.py [--requests 2000] [--latency 0.2] [--concurrency 256] [--repeat 2]

``--stages`` says where planforge's CPU goes beyond the control's instead: the per-request work alone, in this
process (``Assessor.assess`` over the same N replies, as the run loop calls it: parse, validate, compact
records, dedup fingerprints; and the fingerprints alone), and the fixed cost of a run (a one-request ``gen run``
against a one-request control, each its own process, and the imports a run adds beyond the SDK's), best of
``--repeat``. ``--code DIR`` times another checkout's planforge (for a before/after in one session).

    python benchmarks/teacher_throughput.py --stages [--requests 2000] [--repeat 5] [--code ../before]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(ROOT))  # tests.support: the server
sys.path.insert(0, str(CODE))  # planforge: this checkout's, or --code's


def draw(requests: int) -> tuple[Any, Any, list[tuple[Any, Any]]]:
    """The teacher and plain client `gen run --teacher openai` builds, and its first N requests, each with a
    template-teacher reply of five valid examples."""
    from planforge.generator.job import TeacherOptions, build_teacher
    from planforge.generator.sampler import FunctionSampler
    from planforge.generator.teachers.llm import EXAMPLES_SCHEMA
    from planforge.generator.teachers.template import TemplateTeacher, load_templates
    from planforge.llms.endpoint import EndpointOptions
    from planforge.llms.openai_client import OpenAIChatClient
    from planforge.recipes.loader import load_recipe

    recipe = load_recipe("mac_assistant")
    # the teacher exactly as `gen run --teacher openai` builds it (diversity seeds, sampling parameters), so the
    # filed replies are found under the messages the run sends
    endpoint = EndpointOptions(model="bench", base_url="http://127.0.0.1:9/v1", use_cache=False)
    teacher = build_teacher(recipe, TeacherOptions("openai", endpoint), 0, dry_run=True)
    client = OpenAIChatClient(
        "bench", base_url="http://127.0.0.1:9/v1", json_schema=EXAMPLES_SCHEMA, schema_name="examples"
    )
    sampler = FunctionSampler.for_teacher(recipe.tools, dict(recipe.sampling), 0, teacher)
    template = TemplateTeacher(
        load_templates(recipe.templates_path, set(recipe.tools)), set(recipe.tools), recipe.sampling["max_targets"], 7
    )
    pairs = []
    for _ in range(requests):
        request = sampler.draw()
        pairs.append((request, template.reply(request)))
    return teacher, client, pairs


def prepare(folder: Path, requests: int) -> tuple[Path, Path]:
    """The replies file for the server and the bodies file for the control."""
    from tests.support.openai_server import messages_key

    teacher, client, pairs = draw(requests)
    replies, bodies = folder / "replies.jsonl", folder / "bodies.jsonl"
    with replies.open("w") as r, bodies.open("w") as b:
        for request, reply in pairs:
            body = client.body(teacher.messages(request), teacher.sampling_params())
            r.write(json.dumps({"key": messages_key(body), "content": reply.content}) + "\n")
            b.write(json.dumps(body) + "\n")
    return replies, bodies


def start_server(replies: Path, latency: float, fault_rate: float) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "tests.support.openai_server", "--port", "0", "--latency", str(latency)]
    command += ["--replies-file", str(replies), "--fault-rate", str(fault_rate)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise SystemExit(f"server did not start: {line!r}")
    return process, line.split()[1]


def timed(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed:\n{result.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def planforge_run(base_url: str, requests: int, concurrency: int, out: Path) -> tuple[float, float, dict]:
    env = {**os.environ, "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": ""}
    command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), "--overwrite"]
    command += ["--teacher", "openai", "--base-url", base_url, "--model", "bench", "--no-cache"]
    command += ["-n", str(10**9), "--max-requests", str(requests), "--concurrency", str(concurrency)]
    wall, cpu = timed(command, env, cwd=CODE)  # `-m planforge` from CODE's folder runs CODE's planforge
    run = json.loads((out / "run.json").read_text())
    assert run["teacher_requests"] == requests and run["failed_requests"] == 0, run["stats"]
    # every reply was the filed one (five valid examples), not the server's default for an unknown request
    if run["valid"] < 4 * requests:
        raise SystemExit(f"only {run['valid']:,} valid examples from {requests:,} requests: the replies were not found")
    return wall, cpu, run


def control_run(base_url: str, bodies: Path, concurrency: int, mode: str) -> tuple[float, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--control", base_url, str(bodies)]
    command += ["--concurrency", str(concurrency), "--mode", mode]
    return timed(command, dict(os.environ))


async def control(base_url: str, bodies: Path, concurrency: int, mode: str) -> None:
    """The bare SDK: post every body, keep the replies' content."""
    import httpx2 as httpx
    import openai

    lines = [json.loads(line) for line in bodies.open()]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = openai.AsyncOpenAI(
        api_key="bench", base_url=base_url, max_retries=6, http_client=openai.DefaultAioHttpClient(limits=limits)
    )
    slots = asyncio.Semaphore(concurrency)
    contents: list[str] = []

    async def one(body: dict) -> None:
        async with slots:
            if mode == "create":
                response = await client.chat.completions.create(**body)
                contents.append(response.choices[0].message.content)
            else:
                response = await client.post("/chat/completions", body=body, cast_to=dict)
                contents.append(response["choices"][0]["message"]["content"])

    await asyncio.gather(*(one(body) for body in lines))
    await client.close()
    assert len(contents) == len(lines)


def cpu_of(work: Any) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def stages(folder: Path, n: int, repeat: int) -> None:
    """Per-request work alone (in this process) and the fixed cost of a run (processes), best of ``repeat``."""
    from planforge.generator.assess import Assessor
    from planforge.generator.dedup import fingerprints
    from planforge.generator.replies import read_reply

    teacher, _, pairs = draw(n)
    assessor = Assessor(teacher.recipe, teacher.name, None, screen=getattr(teacher, "screen", None))
    queries = [[e.query for e in read_reply(reply.content).examples] for _, reply in pairs]
    assess = min(cpu_of(lambda: [assessor.assess(r, reply) for r, reply in pairs]) for _ in range(repeat))
    prints = min(cpu_of(lambda: [fingerprints(q) for q in queries]) for _ in range(repeat))
    print(f"planforge from {CODE}; {n} requests, five examples each; load {load()}")
    print(
        f"per request, in one process: assess {assess / n * 1000:.3f} ms (of which dedup fingerprints "
        f"{prints / n * 1000:.3f} ms)"
    )
    replies, bodies = prepare(folder, 1)
    one = folder / "one.jsonl"
    one.write_text(bodies.read_text().splitlines()[0] + "\n")
    best = {"planforge": float("inf"), "control": float("inf")}
    for _ in range(repeat):
        server, url = start_server(replies, 0.0, 0.0)
        try:
            best["planforge"] = min(best["planforge"], planforge_run(url, 1, 1, folder / "out")[1])
            best["control"] = min(best["control"], control_run(url, one, 1, "create")[1])
        finally:
            server.terminate()
            server.wait()
    print(
        f"a one-request run: gen run {best['planforge']:.2f} s CPU, the SDK control {best['control']:.2f} s "
        f"(the difference is {(best['planforge'] - best['control']) / n * 1000:.2f} ms of each of {n} requests)"
    )
    env = {**os.environ, "PYTHONPATH": str(CODE)}
    imports = {
        "a bare interpreter": "pass",
        "openai (the control's)": "import openai",
        "datasets + pyarrow (the dataset write)": "import datasets, pyarrow",
        "the gen CLI": "import planforge.cli",
        "polars (the coverage summary)": "import polars",
    }
    bare = None
    for label, code in imports.items():
        cpu = min(timed([sys.executable, "-c", code], env, cwd=CODE)[1] for _ in range(repeat))
        bare = cpu if bare is None else bare
        print(
            f"import {label}: {cpu - bare:.2f} s CPU beyond a bare interpreter"
            if code != "pass"
            else f"{label}: {cpu:.2f} s CPU"
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--faults", type=float, nargs="*", default=[0.1, 0.3])
    parser.add_argument("--control", nargs=2, metavar=("BASE_URL", "BODIES"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="create", help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help="where planforge's CPU goes (see the docstring)")
    parser.add_argument("--code", help="time this checkout's planforge instead of this one's")
    args = parser.parse_args()
    if args.control:
        asyncio.run(control(args.control[0], Path(args.control[1]), args.concurrency, args.mode))
        return
    if args.stages:
        with tempfile.TemporaryDirectory() as tmp:
            stages(Path(tmp), args.requests, args.repeat)
        return
    n, c = args.requests, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        replies, bodies = prepare(folder, n)
        print(f"{n} requests, concurrency {c}, server latency {args.latency * 1000:.0f} ms, {os.cpu_count()} cores")
        print("run | wall s | req/s | CPU ms/request | CPU vs control (create / post) | load average")
        clean: list[float] = []
        for _ in range(args.repeat):
            figures = {}
            for name in ("create", "post", "planforge"):
                server, url = start_server(replies, args.latency, 0.0)
                try:
                    if name == "planforge":
                        wall, cpu, run = planforge_run(url, n, c, folder / "out")
                    else:
                        wall, cpu = control_run(url, bodies, c, name)
                finally:
                    server.terminate()
                    server.wait()
                figures[name] = (wall, cpu)
            for name, (wall, cpu) in figures.items():
                ratio = f"{cpu / figures['create'][1]:.2f} / {cpu / figures['post'][1]:.2f}"
                label = {"create": "control: SDK create", "post": "control: SDK post", "planforge": "planforge"}[name]
                print(f"{label} | {wall:.1f} | {n / wall:.0f} | {cpu / n * 1000:.2f} | {ratio} | {load()}")
            clean.append(figures["planforge"][0])
            print(f"planforge accepted {run['accepted']:,} examples of {run['proposed']:,} proposed")
        best = min(clean)
        for rate in args.faults:
            server, url = start_server(replies, args.latency, rate)
            try:
                wall, cpu, run = planforge_run(url, n, c, folder / "out")
            finally:
                server.terminate()
                server.wait()
            print(
                f"planforge, {rate:.0%} of requests fail once | {wall:.1f} | {n / wall:.0f} | {cpu / n * 1000:.2f} | "
                f"finish {wall / best:.2f}x its clean time ({best:.1f} s) | {load()}"
            )


if __name__ == "__main__":
    main()
