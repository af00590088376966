"""Tokens per accepted example: ``gen run`` in free mode against ``--mode paraphrase`` (and with ``--verify``).

Both runs ask the same local OpenAI-compatible test server (``tests/support/openai_server.py``), whose stand-in
teacher answers a free-mode prompt with five template-teacher examples and a paraphrase prompt with k rewrites
that keep the request's literals (``tests/support/paraphrase_responder.py``). Token counts are the server's
``usage``: about 4 characters a token of the prompt sent and of the reply written, not a real tokenizer's, and
the stand-in's replies are shorter than a real model's (no thoughts, no prose), so read the ratio between the
modes, not the absolute figures. Costs are those token counts at the price table's prices.

    python benchmarks/paraphrase_tokens.py [-n 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planforge.generator.pricing import PRICES_PER_MTOK, cost_usd  # noqa: E402
from tests.generator.conftest import TemplateResponder  # noqa: E402
from tests.support.openai_server import OpenAIServer  # noqa: E402
from tests.support.paraphrase_responder import ParaphraseResponder  # noqa: E402


def run(url: str, out: Path, n: int, seed: int, *extra: str) -> dict:
    env = {**os.environ, "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": url}
    command = [sys.executable, "-m", "planforge", "run", "recipe", "mac_assistant", "--out", str(out), "-n", str(n),
               "--model", "test-model", "--no-cache", "--seed", str(seed), *extra]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads((out / "run.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    modes = {
        "free": (),
        "paraphrase": ("--mode", "paraphrase"),
        "paraphrase + verify replan": ("--mode", "paraphrase", "--verify", "replan"),
    }
    header = "| mode | requests | proposed | accepted | prompt tokens | completion tokens | tokens / accepted |"
    print(header + " gpt-4o-mini $ / 1,000 accepted | gpt-4-turbo $ / 1,000 accepted |")
    print("|" + "---|" * 9)
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer(ParaphraseResponder(TemplateResponder())) as server:
        for name, extra in modes.items():
            found = run(server.base_url, Path(tmp) / name.replace(" ", "_"), args.n, args.seed, *extra)
            prompt, completion = found["tokens"]["prompt"], found["tokens"]["completion"]
            verify = found.get("verify") or {}
            prompt += verify.get("prompt_tokens", 0)
            completion += verify.get("completion_tokens", 0)
            accepted = found["accepted"]
            per = (prompt + completion) / accepted
            costs = [
                1000 * cost_usd(PRICES_PER_MTOK[m], prompt, completion) / accepted
                for m in ("gpt-4o-mini", "gpt-4-turbo")
            ]
            print(
                f"| {name} | {found['stats']['requests']:,} | {found['proposed']:,} | {accepted:,} | {prompt:,} | "
                f"{completion:,} | {per:,.1f} | ${costs[0]:.3f} | ${costs[1]:.2f} |"
            )


if __name__ == "__main__":
    main()
