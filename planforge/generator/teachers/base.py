"""The teacher interface: one request (offered functions, targets, "now") in, one raw reply out.

A teacher that can write plans of given shapes on request (the offline template teacher) declares them as a
:class:`ShapeCatalog` in its ``shapes`` attribute; the sampler then aims each request at one shape, weighted
towards structures that are rare so far, and names it in ``TeacherRequest.shape``. A teacher without the
attribute (an LLM, which writes whatever the targets ask) gets function sets from the recipe's co-use graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from planforge.tools import ToolSet


@dataclass(frozen=True)
class Shape:
    """One kind of plan a teacher writes on request."""

    id: str  # what TeacherRequest.shape says to ask for it
    functions: frozenset[str]
    structure: str  # planforge.structures key of the plans it makes
    stratum: str  # the group of shapes whose share of requests the catalog fixes (e.g. "3 calls")


@dataclass(frozen=True)
class ShapeCatalog:
    """The shapes a teacher can write and the share of requests each stratum should get."""

    shapes: tuple[Shape, ...]
    mix: Mapping[str, float]  # stratum -> weight (normalized by the sampler); strata without shapes are skipped


@dataclass(frozen=True)
class TeacherRequest:
    seq: int  # 0-based position in the run; replies are consumed in this order
    targets: tuple[str, ...]  # functions the examples should use
    tools: ToolSet  # offered: targets + distractors, shuffled
    now: str  # the fixed "now" that relative dates resolve against
    num_examples: int
    shape: str | None = None  # Shape.id, for a teacher that declared shapes; None: any plan using the targets

    @property
    def request_id(self) -> str:
        return f"r{self.seq:07d}"


@dataclass(frozen=True)
class TeacherReply:
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class TeacherError(RuntimeError):
    """A request that failed after retries. ``fatal`` errors (bad key, unknown model, unreachable
    server) stop the run; others are counted and the run goes on."""

    def __init__(self, message: str, *, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


class Teacher(Protocol):
    """What the run calls. Optionally also ``shapes: ShapeCatalog | None`` (see the module docstring); read it
    with :func:`shapes_of`, which gives None for a teacher that does not declare it."""

    name: str
    model: str

    async def complete(self, request: TeacherRequest) -> TeacherReply: ...

    def render(self, request: TeacherRequest) -> str:
        """The prompt as text (for --dry-run)."""
        ...

    async def aclose(self) -> None: ...


def shapes_of(teacher: Any) -> ShapeCatalog | None:
    """The teacher's declared shapes, or None when it writes any plan the targets ask for."""
    catalog = getattr(teacher, "shapes", None)
    return catalog if isinstance(catalog, ShapeCatalog) else None
