"""The offline teacher: writes requests and gold plans from the recipe's request grammar.

The grammar (the recipe's ``templates.yaml``, see :mod:`.grammar`) is compositional: a *shape* says what is asked
(which asks, how many people, which output feeds which ask) and so fixes the plan's structure; frames draw the
content (names, files, times); the writer says that content in words through typed slots, so every request it
can make is English and says exactly what its plan does. The teacher declares its shapes to the sampler
(``shapes``), which aims each request at one of them. It answers in the same JSON wire format as an LLM
teacher, so its examples go through exactly the same parsing and validation.

For a no-call request (``TeacherRequest.no_call``) it writes requests none of the offered functions serves, with
the empty plan: half of them asks of the grammar whose functions were not offered ("email Sid" with no mail
function shown), the rest questions, chit-chat and requests for things no function does (:mod:`.no_call`)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from planforge.generator.teachers.base import Shape, ShapeCatalog, TeacherReply, TeacherRequest
from planforge.generator.teachers.grammar.book import GRAMMAR_SCHEMA, Book, GrammarError, load_book
from planforge.generator.teachers.grammar.frames import build_plan, draw_frames
from planforge.generator.teachers.grammar.noise import add_noise
from planforge.generator.teachers.grammar.realize import Writer
from planforge.generator.teachers.grammar.shapes import ShapeSpec, enumerate_shapes, shape_functions, unit_steps
from planforge.generator.teachers.no_call import EMPTY_PLAN, compose_no_call
from planforge.plan import parse_plan
from planforge.structures import structure_key

TEMPLATES_SCHEMA = GRAMMAR_SCHEMA
TemplateError = GrammarError
_CATALOG_NOW = datetime(2026, 3, 9, 10, 0)  # any "now": a shape's structure does not depend on its dates
UNOFFERED_SHARE = 0.5  # of a no-call request's examples, those asking for functions that were not offered


def load_templates(path: Path, known_functions: set[str]) -> Book:
    """The recipe's grammar file, checked (raises TemplateError naming the file and the field)."""
    book = load_book(Path(path))
    if not any(shape_functions(s) <= known_functions for s in _specs(4)):
        raise TemplateError(f"{path}: the grammar writes none of the recipe's functions")
    return book


@lru_cache(maxsize=8)
def _specs(max_functions: int) -> tuple[ShapeSpec, ...]:
    return tuple(enumerate_shapes(max_functions))


def stratum(spec: ShapeSpec) -> str:
    """The sampler's group for a shape: its step count, and whether it joins two unrelated asks."""
    steps = sum(unit_steps(u) for u in spec.units)
    return f"{steps} calls" + (", two asks" if len(spec.units) > 1 else "")


def _catalog(book: Book, specs: Iterable[ShapeSpec]) -> ShapeCatalog:
    shapes = []
    for spec in specs:
        rng = random.Random(spec.id)
        plan, _ = build_plan(spec, draw_frames(spec, book.lexicon, rng, _CATALOG_NOW))
        shapes.append(Shape(spec.id, shape_functions(spec), structure_key(parse_plan(plan)), stratum(spec)))
    strata = {s.stratum for s in shapes}
    mix = {}
    for name in strata:
        steps = int(name.split()[0])
        share = book.mix_calls.get(steps, 0.0)
        both = {f"{steps} calls", f"{steps} calls, two asks"} <= strata
        if both:
            share *= book.two_asks if "two asks" in name else 1 - book.two_asks
        mix[name] = share
    return ShapeCatalog(tuple(shapes), mix)


class TemplateTeacher:
    """Offline teacher over a grammar :class:`Book`. Deterministic for a given request and seed."""

    name = "template"
    model = "template"
    endpoint = None
    stats = None

    def __init__(self, book: Book, offered: set[str], max_functions: int, seed: int):
        self.book = book
        self.seed = seed
        self.specs = {s.id: s for s in _specs(max_functions) if shape_functions(s) <= offered}
        if not self.specs:
            raise TemplateError("the grammar covers none of the recipe's functions")
        self.shapes = _catalog(book, self.specs.values())
        # the shapes by the functions they call: what a no-call request can ask for without them
        self._by_functions: dict[frozenset[str], list[ShapeSpec]] = {}
        for spec in self.specs.values():
            self._by_functions.setdefault(shape_functions(spec), []).append(spec)

    def render(self, request: TeacherRequest) -> str:
        what = request.shape or ", ".join(request.targets)
        return f"(template teacher: writes {request.num_examples} requests and plans of the shape {what})"

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        return self.reply(request)

    def reply(self, request: TeacherRequest) -> TeacherReply:
        rng = random.Random(f"{self.seed}:template:{request.seq}")
        now = datetime.fromisoformat(request.now)
        if request.no_call:
            unoffered = self.unoffered(request)
            examples = [self.compose_no_call(request, rng, now, unoffered) for _ in range(request.num_examples)]
            return TeacherReply(json.dumps({"examples": examples}, ensure_ascii=False))
        fixed = self.specs.get(request.shape) if request.shape else None
        matching = [fixed] if fixed else self._matching(request)
        examples = [self.compose(rng.choice(matching), rng, now) for _ in range(request.num_examples)]
        return TeacherReply(json.dumps({"examples": examples}, ensure_ascii=False))

    async def aclose(self) -> None:
        return None

    def _matching(self, request: TeacherRequest) -> list[ShapeSpec]:
        """Shapes for a request that names functions only: those using the offered functions that share the
        most with the targets (all of them when one can)."""
        targets, offered = set(request.targets), set(request.tools)
        usable = [s for s in self.specs.values() if shape_functions(s) <= offered]
        exact = [s for s in usable if shape_functions(s) == targets]
        if exact:
            return exact
        best = max(len(shape_functions(s) & targets) for s in usable)
        return [s for s in usable if len(shape_functions(s) & targets) == best]

    def unoffered(self, request: TeacherRequest) -> list[frozenset[str]]:
        """The function sets of the shapes that use none of the offered functions, in a fixed order."""
        offered = set(request.tools)
        return [functions for functions in self._by_functions if not functions & offered]

    def compose_no_call(
        self,
        request: TeacherRequest,
        rng: random.Random,
        now: datetime,
        unoffered: list[frozenset[str]] | None = None,
    ) -> dict[str, str]:
        """One request none of the offered functions serves, with the empty plan: a grammar request whose
        functions were all left out of the offer, or a question, chit-chat or an ask no function does.
        ``unoffered``: :meth:`unoffered` of the request, when the caller has it."""
        unoffered = self.unoffered(request) if unoffered is None else unoffered
        if unoffered and rng.random() < UNOFFERED_SHARE:
            # mostly one missing ask ("email Sid"), not four: the size is drawn first, weighted towards small ones,
            # then a shape of that size (each equally likely)
            sizes = sorted({len(functions) for functions in unoffered})
            size = rng.choices(sizes, [1 / n for n in sizes])[0]
            sets = [functions for functions in unoffered if len(functions) == size]
            functions = rng.choices(sets, [len(self._by_functions[f]) for f in sets])[0]
            spec = rng.choice(self._by_functions[functions])
            return {**self.compose(spec, rng, now), "plan": EMPTY_PLAN}
        lexicon = self.book.lexicon
        people = [p.name for p in lexicon.people if not p.literal] or ["Sid"]
        places = [p.name for p in lexicon.places] or ["the office"]
        example = compose_no_call(rng, people=people, places=places)
        return {"query": example["query"], "plan": example["plan"]}

    def compose(self, spec: ShapeSpec, rng: random.Random, now: datetime) -> dict[str, str]:
        """One request and its plan (LLMCompiler text) for a shape."""
        frames = draw_frames(spec, self.book.lexicon, rng, now)
        query = Writer(self.book, rng).request(spec, frames)
        plan, literals = build_plan(spec, frames)
        if rng.random() < self.book.noise_rate:
            query = add_noise(query, literals, rng, self.book.abbreviations)
        return {"query": query, "plan": plan}
