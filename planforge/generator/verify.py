"""The meaning check of a run (``gen run --verify replan|judge``): a second model looks at each valid example.

* ``replan``: the model is asked to plan the request blind, as the dataset's planner prompt shows it (the
  instructions, the example's "now", the offered functions, the request); the example is kept only when the
  two plans are DAG-isomorphic with steps matched by function name
  (:func:`planforge.validators.plans_equivalent`, TinyAgent's success metric). A plan that differs is rejected
  as ``replan_mismatch``; a reply that cannot be read as a plan, or a request that failed, as ``replan_failed``.
  On a no-call example (``meta.no_call``) the blind plan agrees when it calls nothing.
* ``judge``: the model is asked whether the plan does what the request asks; every example is kept, with the
  verdict (``yes`` / ``no``, or ``unknown`` when the request failed or the answer cannot be read) and the
  model's reason in its ``meta`` (``judge_verdict``, ``judge_reason``).

The model is the teacher's unless ``--verify-base-url`` / ``--verify-model`` name another. Counts (examples
checked, agreed, mismatched, failed; judge verdicts; tokens) are summed per request into the run's counters, so
they reach ``run.json`` (``verify``), the summary, the dataset card and the report, and survive ``--resume``.
Examples are checked as their reply is assessed, before dedup: a duplicate is checked too (its reply is cached
on a re-run)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from planforge.errors import LLMError, PlanSyntaxError
from planforge.generator.assess import Assessment, Candidate
from planforge.generator.pricing import cost_usd
from planforge.generator.teachers.base import TeacherRequest
from planforge.llms.base import ChatClient
from planforge.plan import parse_calls, parse_plan
from planforge.prompting import PLANNER_INSTRUCTIONS, prompt_messages, with_function_list
from planforge.validators import plans_equivalent

METHODS = ("replan", "judge")
REPLAN_MISMATCH = "replan_mismatch"
REPLAN_FAILED = "replan_failed"

JUDGE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["verdict", "reason"],
    "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}, "reason": {"type": "string"}},
}

JUDGE_PROMPT = """\
A user asked their assistant: {query}
The current date and time is {now}.
The assistant can call these functions:
{functions}

It made this plan ($K is the output of step K):
{plan}

Does the plan do what the request asks, with the right values, nothing missing and nothing extra? Answer with \
JSON only: {{"verdict": "yes" or "no", "reason": "one short sentence"}}."""


@dataclass
class Verifier:
    """Checks the candidates of an assessed reply with ``client``; ``price`` (USD per 1M tokens) costs its calls."""

    method: str
    client: ChatClient
    price: tuple[float, float] | None = None
    max_tokens: int = 1024

    @property
    def model(self) -> str:
        return self.client.model

    @property
    def endpoint(self) -> str | None:
        return self.client.endpoint

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "model": self.model, "base_url": self.endpoint}

    async def screen(self, request: TeacherRequest, outcome: Assessment) -> Assessment:
        """The assessment with the candidates the check keeps (each with its verdict in ``meta`` for judge) and
        its counts added to the counters."""
        if not outcome.candidates:
            return outcome
        checks = await asyncio.gather(*(self._check(request, c) for c in outcome.candidates))
        counts: Counter[str] = Counter()
        rejected: Counter[str] = Counter(outcome.counters.get("rejected") or {})
        kept: list[Candidate] = []
        cost = 0.0
        for candidate, (result, meta, tokens) in zip(outcome.candidates, checks, strict=True):
            counts["checked"] += 1
            counts[result] += 1
            counts["prompt_tokens"] += tokens[0]
            counts["completion_tokens"] += tokens[1]
            cost += cost_usd(self.price, *tokens)
            if result in (REPLAN_MISMATCH, REPLAN_FAILED):
                rejected[result] += 1
                continue
            counts["kept"] += 1
            kept.append(_with_meta(candidate, meta) if meta else candidate)
        counters = dict(outcome.counters)
        counters["verify"] = dict(counts)
        counters["cost_usd"] = counters.get("cost_usd", 0.0) + cost
        if rejected:
            counters["rejected"] = dict(rejected)
        return Assessment(counters, kept)

    async def _check(self, request: TeacherRequest, candidate: Candidate) -> tuple[str, dict, tuple[int, int]]:
        """(result, meta fields, (prompt, completion) tokens). Results: agreed | replan_mismatch | replan_failed
        for replan; yes | no | unknown for judge."""
        _, query, text, calls, *_ = candidate.record
        params = {"temperature": 0.0, "max_tokens": self.max_tokens}
        try:
            if self.method == "replan":
                messages = with_function_list(
                    prompt_messages(query, now=request.now, instructions=PLANNER_INSTRUCTIONS), request.tools
                )
            else:
                functions = "\n".join(f"- {spec.name}: {spec.description}".rstrip(": ") for spec in request.tools.specs)
                messages = [
                    {
                        "role": "user",
                        "content": JUDGE_PROMPT.format(query=query, now=request.now, functions=functions, plan=text),
                    }
                ]
            reply = await self.client.chat(messages, params)
        except LLMError as error:
            if error.fatal:
                raise
            reason = " ".join(str(error).split())[:300]
            if self.method == "replan":
                return REPLAN_FAILED, {}, (0, 0)
            return "unknown", {"judge_verdict": "unknown", "judge_reason": reason}, (0, 0)
        tokens = (0, 0) if reply.cached else (reply.prompt_tokens, reply.completion_tokens)
        if self.method == "replan":
            return _compare(reply.content, calls, request), {}, tokens
        verdict, reason = read_verdict(reply.content)
        return verdict, {"judge_verdict": verdict, "judge_reason": reason}, tokens


def _compare(content: str, calls: str, request: TeacherRequest) -> str:
    from planforge.llms.output import clean_output

    order = request.tools.param_order
    try:
        predicted = parse_plan(clean_output(content or ""), param_order=order)
        reference = parse_calls(json.loads(calls))
    except (PlanSyntaxError, ValueError):
        return REPLAN_FAILED
    if request.no_call:  # no offered function serves the request: the empty plan is the one that agrees
        return REPLAN_MISMATCH if predicted.function_names() else "agreed"
    if not predicted.function_names():
        return REPLAN_FAILED
    return "agreed" if plans_equivalent(predicted, reference) else REPLAN_MISMATCH


def read_verdict(content: str) -> tuple[str, str]:
    """(yes | no | unknown, reason) from a judge's reply: its JSON, else a leading yes/no."""
    text = (content or "").strip()
    data: Any = None
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            data = None
    if isinstance(data, dict):
        verdict = str(data.get("verdict", "")).strip().lower()
        reason = " ".join(str(data.get("reason", "")).split())
        if verdict in ("yes", "no"):
            return verdict, reason
    first = text.split(None, 1)[0].strip(".,:;!").lower() if text else ""
    if first in ("yes", "no"):
        return first, " ".join(text.split(None, 1)[1:]).strip()
    return "unknown", " ".join(text.split())[:300]


def _with_meta(candidate: Candidate, meta: dict[str, Any]) -> Candidate:
    record = candidate.record
    own = dict(record[6]) if len(record) > 6 and isinstance(record[6], dict) else {}
    own.update(meta)
    return replace(candidate, record=(*record[:6], own))


def verify_summary(stats: dict[str, Any], verifier: Verifier | None) -> dict[str, Any] | None:
    """What ``run.json`` says of the check (``verify``): the method, model and endpoint, and the counts."""
    if verifier is None:
        return None
    counts = dict(stats.get("verify") or {})
    return {**verifier.describe(), **{k: counts.get(k, 0) for k in _COUNTS[verifier.method]}}


_COUNTS = {
    "replan": ("checked", "agreed", REPLAN_MISMATCH, REPLAN_FAILED, "kept", "prompt_tokens", "completion_tokens"),
    "judge": ("checked", "yes", "no", "unknown", "kept", "prompt_tokens", "completion_tokens"),
}
