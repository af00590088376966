"""The teacher interface: one request (offered functions, targets, "now") in, one raw reply out.

A reply is a :class:`~planforge.llms.ChatReply` (content, token counts, whether it came from the cache), so the
template teacher and an LLM teacher feed the run loop the same way. A teacher that can write plans of given
shapes on request (the offline template teacher) declares them as a :class:`ShapeCatalog` in ``shapes``; the
sampler then aims each example of a request at one shape, weighted towards structures that are rare so far,
and names them in ``TeacherRequest.shapes``, each with its own offered functions. A teacher without shapes (an
LLM, which writes whatever the targets ask) gets one function set per request from the recipe's co-use graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from planforge.errors import LLMError
from planforge.llms.base import ChatReply, ClientStats
from planforge.tools import ToolSet

TeacherReply = ChatReply
TeacherError = LLMError  # a request that failed after retries; ``fatal`` ones stop the run


@dataclass(frozen=True)
class Shape:
    """One kind of plan a teacher writes on request."""

    id: str  # what TeacherRequest.shapes says to ask for it
    functions: frozenset[str]
    structure: str  # planforge.structures key of the plans it makes
    stratum: str  # the group of shapes whose share of requests the catalog fixes (e.g. "3 calls")
    weight: float = 1.0  # how often people ask this, relative to the other shapes of its stratum


@dataclass(frozen=True)
class ShapeCatalog:
    """The shapes a teacher can write and the share of requests each stratum should get."""

    shapes: tuple[Shape, ...]
    mix: Mapping[str, float]  # stratum -> weight (normalized by the sampler); strata without shapes are skipped


@dataclass(frozen=True)
class TeacherRequest:
    seq: int  # 0-based position in the run; replies are consumed in this order
    targets: tuple[str, ...]  # functions the examples should use
    tools: ToolSet  # offered: targets + distractors, shuffled (the first example's, where each has its own)
    now: str  # the fixed "now" that relative dates resolve against
    num_examples: int
    # for a teacher that declared shapes: Shape.id per example (the first uses exactly the targets) and the
    # functions offered with each; empty: every example uses the targets and is offered ``tools``
    shapes: tuple[str, ...] = ()
    example_tools: tuple[ToolSet, ...] = ()
    #: requests none of the offered functions serves (relevance detection): no targets, the plan is ``join()``
    #: alone, and the examples are marked ``meta.no_call``
    no_call: bool = False

    def tools_for(self, example: int) -> ToolSet:
        """The functions offered with one example of the reply (its position in the reply)."""
        return self.example_tools[example] if example < len(self.example_tools) else self.tools

    @property
    def request_id(self) -> str:
        return f"r{self.seq:07d}"


class Teacher(Protocol):
    name: str  # what run.json records: "template", "openai"
    model: str
    endpoint: str | None  # the base URL without credentials; None for an offline teacher
    #: What the client did (calls, cache hits, structured output); None for an offline teacher.
    stats: ClientStats | None
    #: The plan shapes the teacher writes on request; None: any plan the targets ask for.
    shapes: ShapeCatalog | None

    async def complete(self, request: TeacherRequest) -> TeacherReply: ...

    def render(self, request: TeacherRequest) -> str:
        """The prompt as text (for --dry-run)."""
        ...

    async def aclose(self) -> None: ...


def shapes_of(teacher: Teacher) -> ShapeCatalog | None:
    """The teacher's declared shapes (None when it writes any plan the targets ask for)."""
    return teacher.shapes
