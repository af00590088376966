"""The teacher interface: one request (offered functions, targets, "now") in, one raw reply out.

A reply is a :class:`~planforge.llms.ChatReply` (content, token counts, whether it came from the cache), so
the template teacher and an LLM teacher feed the run loop the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from planforge.errors import LLMError
from planforge.llms.base import ChatReply, ClientStats
from planforge.tools import ToolSet

TeacherReply = ChatReply
TeacherError = LLMError  # a request that failed after retries; ``fatal`` ones stop the run


@dataclass(frozen=True)
class TeacherRequest:
    seq: int  # 0-based position in the run; replies are consumed in this order
    targets: tuple[str, ...]  # functions the examples should use
    tools: ToolSet  # offered: targets + distractors, shuffled
    now: str  # the fixed "now" that relative dates resolve against
    num_examples: int

    @property
    def request_id(self) -> str:
        return f"r{self.seq:07d}"


class Teacher(Protocol):
    name: str  # what run.json records: "template", "openai"
    model: str
    endpoint: str | None  # the base URL without credentials; None for an offline teacher
    #: What the client did (calls, cache hits, structured output); None for an offline teacher.
    stats: ClientStats | None
    #: The function sets the teacher can write, for the sampler to choose from; None: any set.
    candidate_targets: Sequence[frozenset[str]] | None

    async def complete(self, request: TeacherRequest) -> TeacherReply: ...

    def render(self, request: TeacherRequest) -> str:
        """The prompt as text (for --dry-run)."""
        ...

    async def aclose(self) -> None: ...
