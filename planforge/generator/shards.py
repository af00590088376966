"""Deterministic sharding: the requests of a run split into N disjoint parts that N machines make apart.

Request number ``k`` of a run belongs to shard ``k mod N``. A shard draws its requests with the same seed as
the whole run would (each draw is seeded by its request number), so the same seed and shard count always give
the same parts, request ids never collide across shards, and ``gen merge`` (:mod:`.merge`) joins them."""

from __future__ import annotations

from planforge.errors import ConfigError
from planforge.generator.sampler import FunctionSampler
from planforge.generator.teachers.base import TeacherRequest


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (0 <= I < N) -> (I, N)."""
    index, _, count = text.partition("/")
    try:
        found = int(index), int(count)
    except ValueError:
        raise ConfigError(f"--shard must be I/N (e.g. 0/4), not {text!r}") from None
    if not 0 <= found[0] < found[1]:
        raise ConfigError(f"--shard {text}: I must be at least 0 and below N")
    return found


def shard_target(total: int, index: int, count: int) -> int:
    """A shard's share of ``total`` examples (the shares add up to ``total``)."""
    return total // count + (index < total % count)


class ShardSampler:
    """The sampler of one shard: request numbers ``index``, ``index + count``, ... The wrapped sampler draws each
    of them as it numbers its draws; its coverage counts see the shard's own requests."""

    def __init__(self, inner: FunctionSampler, index: int, count: int):
        self.inner = inner
        self.index, self.count = index, count
        self.drawn = 0

    @property
    def next_seq(self) -> int:
        return self.index + self.count * self.drawn

    def draw(self) -> TeacherRequest:
        self.inner.next_seq = self.next_seq
        request = self.inner.draw()
        self.drawn += 1
        return request

    def skip_to(self, seq: int) -> None:
        """Replay draws up to request number ``seq`` (for --resume)."""
        while self.next_seq < seq:
            self.draw()
