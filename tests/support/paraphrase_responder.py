"""A stand-in teacher and checker for ``gen run --mode paraphrase`` and ``--verify``, served by
:class:`tests.support.openai_server.OpenAIServer`.

It answers by the kind of prompt it is sent:

* a paraphrase prompt (``Request: ... Its plan: ... Write k different rewrites``): ``k`` rewrites of the request
  that keep its literals (the plan's quoted values are protected, the words around them reworded); when
  ``drop_every`` is N, the first rewrite of every N-th distinct request (by arrival order of distinct prompts
  counted per request text, so the same requests in every run) drops the plan's first literal the request
  states, and ``dropped`` counts those;
* a blind planner prompt (``--verify replan``): the plan of the request it rewrote, except for rewrites whose
  text starts with ``mismatch_prefix``, answered with the plan less its last call (``mismatched`` counts them);
* a judge prompt (``--verify judge``): ``no`` for requests starting with ``mismatch_prefix``, else ``yes``;
* anything else: the free-mode teacher prompt, answered by ``free`` (a template responder), when given.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from typing import Any

from tests.support.openai_server import Reply

_REQUEST = re.compile(r"^Request: (.*)\nNow: (.*)\nIts plan:\n(.*?)\n\nWrite (\d+) different rewrites", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ISO = re.compile(r"^\d{4}-\d\d-\d\d")

# Each variant: a prefix, a suffix and word swaps (applied outside the protected literals).
VARIANTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("Hey, could you ", "? Thanks a lot", {"please": "", "send": "shoot over", "show me": "pull up"}),
    ("I need a hand with something: ", ". Appreciate it", {"email": "mail", "open": "bring up", "text": "message"}),
    (
        "When you have a moment, ",
        "",
        {"remind me": "make sure I remember", "create": "set up", "then": "and after that"},
    ),
    ("Quick favor - ", ", if that works", {"show": "display", "add": "put", "find": "look up"}),
    ("Okay so, ", ". That's all for now", {"my": "the", "please": "kindly"}),
)


def _plan_literals(plan: str) -> list[str]:
    found = []
    for raw in _QUOTED.findall(plan):
        value = raw.replace('\\"', '"')
        if value and not value.startswith("$") and not _ISO.match(value):
            found.append(value)
    return found


def rewrite(query: str, literals: list[str], variant: int) -> str:
    """``query`` reworded by variant ``variant``, every literal it states kept as written."""
    protected = query
    slots: dict[str, str] = {}
    for i, literal in enumerate(sorted(set(literals), key=len, reverse=True)):
        pattern = re.compile(re.escape(literal), re.I)
        if pattern.search(protected):
            token = f"\x00{i}\x00"
            protected = pattern.sub(lambda m, t=token: slots.setdefault(t, m.group(0)) and t, protected)
    prefix, suffix, swaps = VARIANTS[variant % len(VARIANTS)]
    body = protected.rstrip(".!? ")
    for word, other in swaps.items():
        body = re.sub(rf"(?i)\b{re.escape(word)}\b", other, body)
    body = " ".join(body.split())
    if prefix and body:
        body = body[0].lower() + body[1:] if not body.startswith("\x00") else body
    text = f"{prefix}{body}{suffix}".strip()
    for token, original in slots.items():
        text = text.replace(token, original)
    return text


def drop_literal(query: str, literals: list[str]) -> str | None:
    """``query`` without the first plan literal it states (``None`` when it states none)."""
    for literal in literals:
        pattern = re.compile(rf"(?<!\w){re.escape(literal)}(?!\w)", re.I)
        if len(literal) >= 2 and pattern.search(query):
            return pattern.sub("that thing", query)
    return None


class ParaphraseResponder:
    def __init__(self, free: Any = None, *, drop_every: int = 0, mismatch_prefix: str | None = None):
        self.free = free
        self.drop_every = drop_every
        self.mismatch_prefix = mismatch_prefix
        self.lock = threading.Lock()
        self.plans: dict[str, str] = {}  # rewrite -> the plan it keeps
        self.order: dict[str, int] = {}  # request text -> its place among distinct requests
        self.dropped = 0
        self.mismatched = 0
        self.kinds: Counter[str] = Counter()

    def rewrites_for(self, query: str, plan: str, k: int) -> list[str]:
        literals = _plan_literals(plan)
        with self.lock:
            place = self.order.setdefault(query, len(self.order))
        out = [rewrite(query, literals, i) for i in range(k)]
        if self.drop_every and place % self.drop_every == 0:
            dropped = drop_literal(out[0], literals)
            if dropped is not None:
                out[0] = dropped
                with self.lock:
                    self.dropped += 1
        with self.lock:
            for text in out:
                self.plans.setdefault(" ".join(text.split()), plan)
        return out

    def __call__(self, body: dict, n: int) -> Reply:
        messages = body["messages"]
        system = messages[0]["content"] if messages[0]["role"] == "system" else ""
        user = messages[-1]["content"]
        match = _REQUEST.match(user)
        if system.startswith("You rewrite requests") and match:
            with self.lock:
                self.kinds["paraphrase"] += 1
            rewrites = self.rewrites_for(match.group(1), match.group(3), int(match.group(4)))
            return Reply(json.dumps({"rewrites": rewrites}))
        if user.startswith("A user asked their assistant: "):
            with self.lock:
                self.kinds["judge"] += 1
            query = user.split("\n", 1)[0][len("A user asked their assistant: ") :]
            bad = self.mismatch_prefix is not None and query.startswith(self.mismatch_prefix)
            verdict = {"verdict": "no" if bad else "yes", "reason": "it asks for another thing" if bad else "matches"}
            return Reply(json.dumps(verdict))
        plan = self.plans.get(" ".join(user.split()))
        if plan is not None:
            with self.lock:
                self.kinds["replan"] += 1
            if self.mismatch_prefix is not None and user.startswith(self.mismatch_prefix):
                lines = [line for line in plan.splitlines() if line.strip()]
                calls = [line for line in lines if not line.split(". ", 1)[-1].startswith("join(")]
                # the plan less its last call; a one-call plan: another function's call
                kept = calls[:-1] if len(calls) > 1 else ['1. get_email_address("somebody")']
                with self.lock:
                    self.mismatched += 1
                return Reply("\n".join([*kept, f"{len(kept) + 1}. join()"]))
            return Reply(plan)
        if self.free is not None:
            with self.lock:
                self.kinds["free"] += 1
            return Reply(json.dumps({"examples": self.free.examples(body)}))
        return Reply.error(400, "unexpected prompt", type="invalid_request_error")


def main() -> None:
    """Serve the stand-in on 127.0.0.1 (free mode answered by the template responder) until interrupted:
    ``python -m tests.support.paraphrase_responder [--port 8765] [--drop-every N] [--mismatch-prefix TEXT]``."""
    import argparse
    import time

    from tests.generator.conftest import TemplateResponder
    from tests.support.openai_server import OpenAIServer

    parser = argparse.ArgumentParser(description="A stand-in paraphrase teacher and checker.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--mismatch-prefix", default=None)
    args = parser.parse_args()
    responder = ParaphraseResponder(
        TemplateResponder(), drop_every=args.drop_every, mismatch_prefix=args.mismatch_prefix
    )
    with OpenAIServer(responder, port=args.port) as server:
        print(f"READY {server.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
