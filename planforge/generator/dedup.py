"""Duplicate requests: exact (normalized text) and near (Jaccard similarity of character shingles at or
above a threshold). datasketch's MinHash LSH finds the candidates; the exact Jaccard decides."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import xxhash
from datasketch import MinHash, MinHashLSH

SHINGLE = 5
NUM_PERM = 64
# LSH finds candidates at a lower similarity than the threshold, so pairs just above it are not missed;
# each candidate is then checked against the threshold with the exact Jaccard of the two shingle sets.
CANDIDATE_MARGIN = 0.2
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()


def shingles(normalized: str, size: int = SHINGLE) -> set[str]:
    if len(normalized) <= size:
        return {normalized}
    return {normalized[i : i + size] for i in range(len(normalized) - size + 1)}


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two requests' shingle sets (for tests and audits)."""
    x, y = shingles(normalize(a)), shingles(normalize(b))
    return len(x & y) / len(x | y) if x | y else 1.0


@dataclass(frozen=True)
class DuplicateCheck:
    key: str  # the normalized text
    kind: str | None  # "exact", "near" or None (new)
    minhash: MinHash | None


class Deduplicator:
    def __init__(self, threshold: float = 0.85, num_perm: int = NUM_PERM, seed: int = 1):
        self.threshold = threshold
        self.num_perm = num_perm
        self._seen: set[str] = set()
        self._lsh = MinHashLSH(threshold=max(0.1, threshold - CANDIDATE_MARGIN), num_perm=num_perm)
        # xxh32 instead of datasketch's default sha1: a tenth of the hashing time, same quality for shingles.
        template = MinHash(num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)
        # permutations are drawn once, then reused
        self._permutations, self._scheme = template.permutations, template.scheme

    def minhash(self, normalized: str, shingle_set: set[str] | None = None) -> MinHash:
        m = MinHash(
            num_perm=self.num_perm,
            permutations=self._permutations,
            scheme=self._scheme,
            hashfunc=xxhash.xxh32_intdigest,
        )
        m.update_batch([s.encode() for s in (shingle_set or shingles(normalized))])
        return m

    def check(self, text: str) -> DuplicateCheck:
        """Is ``text`` a duplicate of an added request? Keep the result to :meth:`add` it cheaply."""
        key = normalize(text)
        if key in self._seen:
            return DuplicateCheck(key, "exact", None)
        mine = shingles(key)
        m = self.minhash(key, mine)
        for other in self._lsh.query(m):
            theirs = shingles(other)
            if len(mine & theirs) >= self.threshold * len(mine | theirs):
                return DuplicateCheck(key, "near", m)
        return DuplicateCheck(key, None, m)

    def add(self, check: DuplicateCheck) -> None:
        if check.key in self._seen:
            return
        m = check.minhash if check.minhash is not None else self.minhash(check.key)
        self._seen.add(check.key)
        self._lsh.insert(check.key, m)

    def add_text(self, text: str) -> None:
        self.add(self.check(text))

    def __len__(self) -> int:
        return len(self._seen)
