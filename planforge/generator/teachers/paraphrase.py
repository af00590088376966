"""Paraphrase mode (``gen run --mode paraphrase``): a teacher LLM rewrites known requests; the plans stay known.

Each request of the run takes one *seed*, a request with its valid plan: written by the template teacher for the
request's shape (the default), or a row of a plans dataset (``--from-dataset DIR``, whose request, functions and
"now" the request then takes). The LLM is shown the seed request, its "now" and its plan, and asked for ``k``
natural rewrites (``examples_per_request``) that ask for exactly the same thing. Every rewrite is proposed with
the seed's plan, so every plan is valid by construction, and goes through the run's parse and validators like any
other proposal; first the assessor's screen (:class:`RewriteScreen`) rejects, as ``literal_missing``, a rewrite
that drops a literal the plan needs (:mod:`planforge.generator.literals`). The prompts are short: no function
documentation, no few-shot examples, no rules."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planforge.errors import ConfigError, PlanSyntaxError
from planforge.generator.diversity import Diversity
from planforge.generator.literals import missing_literals, needed_literals
from planforge.generator.teachers.base import ShapeCatalog, TeacherReply, TeacherRequest
from planforge.llms.base import ChatClient, ClientStats
from planforge.llms.layers import attach_journal
from planforge.plan import parse_plan, to_calls
from planforge.recipes.loader import Recipe
from planforge.tools import ToolSet

LITERAL_MISSING = "literal_missing"

REWRITES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rewrites"],
    "properties": {"rewrites": {"type": "array", "items": {"type": "string"}}},
}

SYSTEM_PROMPT = """\
You rewrite requests that people make to their computer assistant. A rewrite asks for exactly the same thing, \
so the same plan still answers it: keep every name, email address, phone number, number, title, file and note \
name, quoted text and date or time (a day may be said another way that names the same day, such as "tomorrow" \
or "on Friday"). Change the wording, word order, length and tone; sound like a real person typing or speaking. \
Answer with JSON only: {"rewrites": ["...", "..."]}."""

USER_PROMPT = """\
Request: {query}
Now: {now}
Its plan:
{plan}

Write {k} different rewrites of the request.{who}"""

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)


@dataclass(frozen=True)
class Seed:
    """A request with its valid plan (LLMCompiler text)."""

    query: str
    plan: str


# --------------------------------------------------------------------------------------------------
# where seeds come from


class TemplateSeeds:
    """Seeds the template teacher writes: one request and plan of the request's shape, per request."""

    name = "template"

    def __init__(self, template: Any):
        self.template = template
        self.shapes: ShapeCatalog | None = template.shapes

    def seed(self, request: TeacherRequest) -> Seed:
        reply = self.template.reply(replace(request, num_examples=1))
        example = json.loads(reply.content)["examples"][0]
        return Seed(example["query"], example["plan"])

    def sampler(self, tools: ToolSet, sampling: dict[str, Any], seed: int) -> OneSeedSampler:
        return OneSeedSampler(tools, sampling, seed, self)


class OneSeedSampler:
    """The run's function sampler, aimed at the template teacher's shapes, drawing one shape per request: every
    rewrite of a request keeps its one seed's plan, so all of them are offered that seed's functions."""

    def __init__(self, tools: ToolSet, sampling: dict[str, Any], seed: int, seeds: TemplateSeeds):
        from planforge.generator.sampler import FunctionSampler

        self.rewrites = int(sampling["examples_per_request"])
        self.inner = FunctionSampler.for_teacher(tools, {**sampling, "examples_per_request": 1}, seed, seeds)

    @property
    def next_seq(self) -> int:
        return self.inner.next_seq

    def draw(self) -> TeacherRequest:
        return replace(self.inner.draw(), num_examples=self.rewrites, example_tools=())

    def skip_to(self, seq: int) -> None:
        self.inner.skip_to(seq)


@dataclass(frozen=True)
class SeedRow:
    query: str
    plan: str
    offered: tuple[str, ...]
    targets: tuple[str, ...]
    now: str
    no_call: bool = False  # no offered function serves the request: its plan is join() alone


class DatasetSeeds:
    """Seeds from a plans dataset: every row whose functions the recipe has, in an order shuffled by the seed
    (reshuffled each time the rows run out)."""

    shapes = None

    def __init__(self, rows: Sequence[SeedRow], seed: int, name: str):
        if not rows:
            raise ConfigError(f"--from-dataset {name}: no row uses only the recipe's functions")
        self.rows = list(rows)
        self.seed_value = seed
        self.name = name

    @classmethod
    def load(cls, folder: Path, recipe: Recipe, seed: int) -> DatasetSeeds:
        from planforge.dataset.disk import load_dataset_of_kind
        from planforge.dataset.features import PLANS
        from planforge.dataset.rows import ToolCache, iter_rows, row_now, row_plan
        from planforge.prompting import plan_text

        data = load_dataset_of_kind(folder, kind=PLANS)
        cache = ToolCache(str(folder))
        rows = []
        for split in data.values():
            for row in iter_rows(split, ("query", "tools", "plan", "meta")):
                offered = tuple(spec.name for spec in cache.get(row["tools"]).specs)
                now = row_now(row)
                if not now or not all(name in recipe.tools for name in offered):
                    continue
                plan = row_plan(row).bind(recipe.tools.param_order)
                targets = tuple(dict.fromkeys(plan.function_names()))
                no_call = bool((row.get("meta") or {}).get("no_call")) or not targets
                rows.append(SeedRow(row["query"], plan_text(plan, recipe.tools), offered, targets, now, no_call))
        return cls(rows, seed, str(folder))

    def row(self, seq: int) -> SeedRow:
        block, position = divmod(seq, len(self.rows))
        order = random.Random(f"{self.seed_value}:seeds:{block}").sample(range(len(self.rows)), len(self.rows))
        return self.rows[order[position]]

    def seed(self, request: TeacherRequest) -> Seed:
        found = self.row(request.seq)
        return Seed(found.query, found.plan)

    def sampler(self, tools: ToolSet, sampling: dict[str, Any], seed: int) -> SeedSampler:
        return SeedSampler(self, tools, int(sampling["examples_per_request"]))


class SeedSampler:
    """The run's requests when seeds come from a dataset: request ``k`` takes the functions, targets and "now"
    of seed row ``k`` (the run's own function sampling does not apply)."""

    def __init__(self, seeds: DatasetSeeds, tools: ToolSet, rewrites: int):
        self.seeds, self.tools, self.rewrites = seeds, tools, rewrites
        self.next_seq = 0

    def draw(self) -> TeacherRequest:
        found = self.seeds.row(self.next_seq)
        request = TeacherRequest(
            self.next_seq,
            found.targets,
            self.tools.subset(list(found.offered)),
            found.now,
            self.rewrites,
            no_call=found.no_call,
        )
        self.next_seq += 1
        return request

    def skip_to(self, seq: int) -> None:
        self.next_seq = max(self.next_seq, seq)


# --------------------------------------------------------------------------------------------------
# the teacher


def read_rewrites(content: Any) -> list[str] | None:
    """The rewrites of a reply: ``{"rewrites": [...]}`` (bare, fenced or in prose), a bare list, or
    ``{"examples": [{"query": ...}]}``; ``None`` when it holds none."""
    if not isinstance(content, str) or not content.strip():
        return None
    data = None
    candidates = [content, *_FENCE.findall(content)]
    start, end = content.find("{"), content.rfind("}")
    if 0 <= start < end:
        candidates.append(content[start : end + 1])
    for text in candidates:
        try:
            data = json.loads(text)
            break
        except (ValueError, RecursionError):
            continue
    if isinstance(data, dict):
        data = data.get("rewrites", data.get("examples"))
    if not isinstance(data, list):
        return None
    out = []
    for item in data:
        if isinstance(item, dict):
            item = item.get("query") or item.get("rewrite")
        if isinstance(item, str) and item.strip():
            out.append(" ".join(item.split()))
    return out or None


class ParaphraseTeacher:
    """Seed -> the LLM's rewrites -> a reply proposing each rewrite with the seed's plan. ``name`` is what
    run.json and each row's ``meta.teacher`` record."""

    name = "paraphrase"

    def __init__(
        self,
        recipe: Recipe,
        client: ChatClient,
        seeds: TemplateSeeds | DatasetSeeds,
        *,
        diversity: Diversity | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ):
        self.recipe = recipe
        self.client = client
        self.seeds = seeds
        self.model = client.model
        self.endpoint = client.endpoint
        self.shapes = seeds.shapes
        self.diversity = diversity
        self.screen = RewriteScreen(diversity)
        self.temperature = recipe.teacher["temperature"] if temperature is None else temperature
        self.max_tokens = max_tokens or recipe.teacher["max_tokens"]

    @property
    def stats(self) -> ClientStats:
        return self.client.stats

    def make_sampler(self, tools: ToolSet, sampling: dict[str, Any], seed: int) -> Any:
        """The run's sampler when the seeds decide the requests (a dataset); ``None``: the usual one."""
        return self.seeds.sampler(tools, sampling, seed)

    def messages(self, request: TeacherRequest, seed: Seed | None = None) -> list[dict[str, str]]:
        seed = seed or self.seeds.seed(request)
        who = f"\n{self.diversity.prompt_line(request.seq)}" if self.diversity is not None else ""
        user = USER_PROMPT.format(query=seed.query, now=request.now, plan=seed.plan, k=request.num_examples, who=who)
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def render(self, request: TeacherRequest) -> str:
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages(request))

    def sampling_params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        seed = self.seeds.seed(request)
        reply = await self.client.chat(self.messages(request, seed), self.sampling_params())
        rewrites = read_rewrites(reply.content)
        if rewrites is None:
            return replace(reply, content="")  # a rejected response, counted as such
        examples = [{"query": r, "plan": seed.plan, "source": seed.query} for r in rewrites[: request.num_examples]]
        return replace(reply, content=json.dumps({"examples": examples}, ensure_ascii=False))

    def attach_journal(self, journal: Any) -> None:
        """Hand the run's batch journal to the client's batch layer, when it has one."""
        attach_journal(self.client, journal)

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass(frozen=True)
class RewriteScreen:
    """The assessor's screen in paraphrase mode: ``literal_missing`` for a rewrite that drops a literal its
    plan needs; each kept example records the request it rewrites (and its persona and scenario)."""

    diversity: Diversity | None = None

    def __call__(
        self, content: str, proposals: Sequence[Any], request: TeacherRequest
    ) -> list[tuple[str | None, dict]]:
        items = json.loads(content)["examples"]
        extra = self.diversity.meta(request.seq) if self.diversity is not None else {}
        needed: dict[tuple[str, str], list] = {}
        out: list[tuple[str | None, dict]] = []
        for proposal, item in zip(proposals, items, strict=True):
            source, plan = item.get("source"), item.get("plan")
            if not isinstance(source, str) or not isinstance(plan, str) or proposal.query is None:
                out.append((None, extra))
                continue
            key = (source, plan)
            if key not in needed:
                try:
                    order = request.tools.param_order
                    calls = to_calls(parse_plan(plan, param_order=order).bind(order))
                except (PlanSyntaxError, ValueError):  # unreadable, or a function not offered: the validators reject it
                    calls = []
                needed[key] = needed_literals(source, calls, request.now)
            missing = missing_literals(proposal.query, needed[key], request.now)
            out.append((LITERAL_MISSING if missing else None, {**extra, "paraphrase_of": source}))
        return out
