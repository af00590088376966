"""The teacher interface: one request (offered functions, targets, "now") in, one raw reply out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from planforge.tools import ToolSet


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
    name: str
    model: str

    async def complete(self, request: TeacherRequest) -> TeacherReply: ...

    def render(self, request: TeacherRequest) -> str:
        """The prompt as text (for --dry-run)."""
        ...

    async def aclose(self) -> None: ...
