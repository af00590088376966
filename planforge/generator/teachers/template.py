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
from planforge.generator.teachers.grammar.shapes import (
    ShapeSpec,
    Unit,
    all_units,
    enumerate_shapes,
    shape_functions,
    shape_weight,
    unit_steps,
)
from planforge.generator.teachers.no_call import EMPTY_PLAN, compose_no_call
from planforge.plan import parse_plan
from planforge.structures import Graph, canonical_key, plan_graph

TEMPLATES_SCHEMA = GRAMMAR_SCHEMA
TemplateError = GrammarError
_CATALOG_NOW = datetime(2026, 3, 9, 10, 0)  # any "now": a shape's structure does not depend on its dates
UNOFFERED_SHARE = 0.5  # of a no-call request's examples, those asking for functions that were not offered


def load_templates(path: Path, known_functions: set[str]) -> Book:
    """The recipe's grammar file, checked (raises TemplateError naming the file and the field)."""
    book = load_book(Path(path))
    if not any(shape_functions(ShapeSpec((u,))) <= known_functions for u in all_units()):
        raise TemplateError(f"{path}: the grammar writes none of the recipe's functions")
    return book


@lru_cache(maxsize=8)
def _specs(max_functions: int) -> tuple[ShapeSpec, ...]:
    return tuple(enumerate_shapes(max_functions))


def stratum(spec: ShapeSpec) -> str:
    """The sampler's group for a shape: its step count, and whether it joins two or three unrelated asks."""
    steps = sum(unit_steps(u) for u in spec.units)
    return f"{steps} calls" + {1: "", 2: ", two asks"}.get(len(spec.units), ", three asks")


def _unit_graph(book: Book, unit: Unit) -> tuple[Graph, str]:
    """A unit's plan graph and structure key (a shape's plan is its units' plans side by side: the units share
    no person, file or step)."""
    spec = ShapeSpec((unit,))
    plan, _ = build_plan(spec, draw_frames(spec, book.lexicon, random.Random(spec.id), _CATALOG_NOW))
    graph = plan_graph(parse_plan(plan))
    return graph, canonical_key(*graph)


def _catalog(book: Book, specs: Iterable[ShapeSpec]) -> ShapeCatalog:
    graphs: dict[Unit, tuple[Graph, str]] = {}
    keys: dict[tuple[str, ...], str] = {}  # the units' keys, sorted -> the shape's key
    shapes = []
    for spec in specs:
        parts = [graphs.get(u) or graphs.setdefault(u, _unit_graph(book, u)) for u in spec.units]
        together = tuple(sorted(key for _, key in parts))
        if together not in keys:
            keys[together] = parts[0][1] if len(parts) == 1 else canonical_key(*_side_by_side([g for g, _ in parts]))
        shapes.append(Shape(spec.id, shape_functions(spec), keys[together], stratum(spec), shape_weight(spec)))
    strata = {s.stratum for s in shapes}
    weight = {"": 1 - book.two_asks - book.three_asks, ", two asks": book.two_asks, ", three asks": book.three_asks}
    mix = {}
    for name in strata:
        steps, _, kind = name.partition(" calls")
        present = sum(w for k, w in weight.items() if f"{steps} calls{k}" in strata)
        mix[name] = book.mix_calls.get(int(steps), 0.0) * weight[kind] / present if present else 0.0
    return ShapeCatalog(tuple(shapes), mix)


def _side_by_side(graphs: list[Graph]) -> Graph:
    names: list[str] = []
    edges: list[tuple[int, int]] = []
    for part_names, part_edges in graphs:
        edges += [(u + len(names), v + len(names)) for u, v in part_edges]
        names += part_names
    return tuple(names), tuple(edges)


class TemplateTeacher:
    """Offline teacher over a grammar :class:`Book`. Deterministic for a given request and seed."""

    name = "template"
    model = "template"
    endpoint = None
    stats = None

    def __init__(self, book: Book, offered: set[str], seed: int = 0, max_functions: int | None = None):
        self.book = book
        self.seed = seed
        limit = book.max_functions if max_functions is None else max_functions
        self.specs = {s.id: s for s in _specs(limit) if shape_functions(s) <= offered}
        if not self.specs:
            raise TemplateError("the grammar covers none of the recipe's functions")
        self._by_functions: dict[frozenset[str], list[ShapeSpec]] = {}
        for spec in self.specs.values():
            self._by_functions.setdefault(shape_functions(spec), []).append(spec)
        self.shapes = _catalog(book, self.specs.values())
        self._unoffered_by_offer: dict[frozenset[str], dict[int, list[ShapeSpec]]] = {}

    def render(self, request: TeacherRequest) -> str:
        if request.no_call:
            return f"(template teacher: writes {request.num_examples} requests no offered function serves, plan join())"
        what = "; ".join(request.shapes) if request.shapes else ", ".join(request.targets)
        return f"(template teacher: writes {request.num_examples} requests and plans of the shapes {what})"

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        return self.reply(request)

    def reply(self, request: TeacherRequest) -> TeacherReply:
        rng = random.Random(f"{self.seed}:template:{request.seq}")
        now = datetime.fromisoformat(request.now)
        if request.no_call:
            examples = [self.compose_no_call(request, rng, now) for _ in range(request.num_examples)]
            return TeacherReply(json.dumps({"examples": examples}, ensure_ascii=False))
        fixed = [self.specs[s] for s in request.shapes if s in self.specs]
        if fixed:
            specs = [fixed[i % len(fixed)] for i in range(request.num_examples)]
        else:
            matching = self._matching(request)
            specs = [rng.choice(matching) for _ in range(request.num_examples)]
        examples = [self.compose(spec, rng, now) for spec in specs]
        return TeacherReply(json.dumps({"examples": examples}, ensure_ascii=False))

    async def aclose(self) -> None:
        return None

    def _matching(self, request: TeacherRequest) -> list[ShapeSpec]:
        """Shapes for a request that names functions only: those using the offered functions that share the
        most with the targets (all of them when one can)."""
        targets, offered = frozenset(request.targets), set(request.tools)
        if targets in self._by_functions and targets <= offered:
            return self._by_functions[targets]
        usable = {f: specs for f, specs in self._by_functions.items() if f <= offered}
        best = max(len(f & targets) for f in usable)
        return [s for f, specs in usable.items() if len(f & targets) == best for s in specs]

    def compose_no_call(self, request: TeacherRequest, rng: random.Random, now: datetime) -> dict[str, str]:
        """One request none of the offered functions serves, with the empty plan: a grammar request whose
        functions were all left out of the offer, or a question, chit-chat or an ask no function does."""
        by_size = self._unoffered(frozenset(request.tools))
        if by_size and rng.random() < UNOFFERED_SHARE:
            # mostly one missing ask ("email Sid"), not four: the size is drawn first, weighted towards small ones
            sizes = sorted(by_size)
            size = rng.choices(sizes, [1 / n for n in sizes])[0]
            spec = rng.choice(by_size[size])
            return {**self.compose(spec, rng, now), "plan": EMPTY_PLAN}
        lexicon = self.book.lexicon
        people = [p.name for p in lexicon.people if not p.literal] or ["Sid"]
        places = [p.name for p in lexicon.places] or ["the office"]
        example = compose_no_call(rng, people=people, places=places)
        return {"query": example["query"], "plan": example["plan"]}

    def _unoffered(self, offered: frozenset[str]) -> dict[int, list[ShapeSpec]]:
        """The shapes using none of ``offered``, by their number of functions (once per offered set)."""
        found = self._unoffered_by_offer.get(offered)
        if found is None:
            found = {}
            for spec in self.specs.values():
                functions = shape_functions(spec)
                if not functions & offered:
                    found.setdefault(len(functions), []).append(spec)
            if len(self._unoffered_by_offer) < 4096:
                self._unoffered_by_offer[offered] = found
        return found

    def compose(self, spec: ShapeSpec, rng: random.Random, now: datetime) -> dict[str, str]:
        """One request and its plan (LLMCompiler text) for a shape."""
        frames = draw_frames(spec, self.book.lexicon, rng, now)
        query = Writer(self.book, rng).request(spec, frames)
        plan, literals = build_plan(spec, frames)
        if rng.random() < self.book.noise_rate:
            query = add_noise(query, literals, rng, self.book.abbreviations)
        return {"query": query, "plan": plan}
