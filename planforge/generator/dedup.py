"""Duplicate requests: exact (normalized text) and near (Jaccard similarity of character shingles at or
above a threshold). MinHash LSH finds the candidates; the exact Jaccard of the two shingle sets decides.

The MinHash is numpy's, not datasketch's: datasketch builds one Python object per request and imports scipy
(a second of start-up in every process), while here a reply's requests are hashed together in one array
operation, and each request keeps its shingle hashes (a small sorted array) so a candidate is compared
without recomputing anything. :func:`fingerprint` is pure (it runs in the worker processes);
:class:`Deduplicator` holds the index, and its order of checks decides which of two near-duplicates is kept."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

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


@lru_cache(maxsize=4)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-shift hash functions ((a * x + b) mod 2**64) >> 32, a odd: one MinHash permutation each."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


_SHINGLE_MIX = np.random.default_rng(0).integers(1, 2**63, size=SHINGLE, dtype=np.uint64) | np.uint64(1)


def shingle_hashes(normalized: str) -> np.ndarray:
    """The 32-bit hashes of a text's character shingles, sorted and unique."""
    return _shingle_hashes([normalized])[0]


def _shingle_hashes(keys: Sequence[str]) -> list[np.ndarray]:
    """Each text's shingle hashes, all texts in one pass: every window of code points is hashed by a random
    linear map modulo 2**64 (its high bits); windows that cross from one text into the next are dropped."""
    padded = [k + "\0" * (SHINGLE - len(k)) if len(k) < SHINGLE else k for k in keys]
    points = np.frombuffer("".join(padded).encode("utf-32-le"), np.uint32).astype(np.uint64)
    lengths = np.fromiter(map(len, padded), np.int64, len(padded))
    ends = np.cumsum(lengths)
    count = len(points) - SHINGLE + 1
    with np.errstate(over="ignore"):
        mixed = points[:count] * _SHINGLE_MIX[0]
        for j in range(1, SHINGLE):
            mixed += points[j : j + count] * _SHINGLE_MIX[j]
    owner = np.repeat(np.arange(len(padded), dtype=np.uint64), lengths)[:count]
    keep = np.arange(count) + SHINGLE <= ends[owner.astype(np.int64)]
    tagged = np.unique((owner[keep] << np.uint64(32)) | (mixed[keep] >> np.uint64(32)))
    cuts = np.searchsorted(tagged >> np.uint64(32), np.arange(1, len(padded), dtype=np.uint64))
    return [part.astype(np.uint32) for part in np.split(tagged, cuts)]


@dataclass(frozen=True)
class Fingerprint:
    """What dedup needs of one request: its normalized text, shingle hashes (sorted, unique) and MinHash."""

    key: str
    hashes: np.ndarray  # uint32
    signature: np.ndarray  # uint32, NUM_PERM values


def fingerprints(texts: Sequence[str], num_perm: int = NUM_PERM, seed: int = 1) -> list[Fingerprint]:
    """The fingerprints of several requests, hashed in one array operation (pure)."""
    if not texts:
        return []
    keys = [normalize(t) for t in texts]
    hashes = _shingle_hashes(keys)
    a, b = _permutations(num_perm, seed)
    stacked = np.concatenate(hashes).astype(np.uint64)
    with np.errstate(over="ignore"):  # the multiply-shift family works modulo 2**64 on purpose
        permuted = ((stacked[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
    starts = np.cumsum([0] + [len(h) for h in hashes[:-1]])
    signatures = np.minimum.reduceat(permuted, starts, axis=0)
    return [Fingerprint(k, h, s) for k, h, s in zip(keys, hashes, signatures, strict=True)]


def fingerprint(text: str) -> Fingerprint:
    return fingerprints([text])[0]


def _band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows per band that minimize false positives plus false negatives around ``threshold`` (the
    optimization datasketch's MinHashLSH does, integrated numerically)."""
    best, params = float("inf"), (1, num_perm)
    grid_fp = np.linspace(0.0, threshold, 64)
    grid_fn = np.linspace(threshold, 1.0, 64)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = np.trapezoid(1 - (1 - grid_fp**rows) ** bands, grid_fp)
            fn = np.trapezoid((1 - grid_fn**rows) ** bands, grid_fn)
            if fp + fn < best:
                best, params = fp + fn, (bands, rows)
    return params


@dataclass(frozen=True)
class DuplicateCheck:
    key: str  # the normalized text
    kind: str | None  # "exact", "near" or None (new)
    fingerprint: Fingerprint | None


class Deduplicator:
    """The index of accepted requests: a sorted array of LSH band keys (plus a small buffer of recent ones,
    merged in as it grows), so 200,000 requests take tens of MB rather than a dict entry per band."""

    def __init__(self, threshold: float = 0.85, num_perm: int = NUM_PERM, seed: int = 1):
        self.threshold = threshold
        self.num_perm = num_perm
        self.seed = seed
        self._bands, self._rows = _band_params(max(0.1, threshold - CANDIDATE_MARGIN), num_perm)
        mix = np.random.default_rng(seed + 1).integers(1, 2**63, size=self._rows, dtype=np.uint64)
        self._mix = mix | np.uint64(1)
        self._band_salt = np.arange(self._bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        self._seen: set[str] = set()
        # by id (grown by doubling): each accepted request's shingle hashes, flat, and its MinHash
        self._flat = np.empty(1 << 16, np.uint32)
        self._bounds = np.zeros(1025, np.int64)  # id i's hashes are _flat[_bounds[i]:_bounds[i + 1]]
        self._signatures = np.empty((1024, num_perm), np.uint32)
        self._count = 0
        self._keys = np.empty(0, np.uint64)
        self._ids = np.empty(0, np.int32)
        self._recent: dict[int, list[int]] = {}

    def _band_keys(self, signature: np.ndarray) -> np.ndarray:
        used = signature[: self._bands * self._rows].astype(np.uint64).reshape(self._bands, self._rows)
        with np.errstate(over="ignore"):
            return (used * self._mix[None, :]).sum(axis=1, dtype=np.uint64) ^ self._band_salt

    def _candidates(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        for key in keys.tolist():
            found.update(self._recent.get(key, ()))
        if len(self._keys):
            lo = np.searchsorted(self._keys, keys, "left")
            hi = np.searchsorted(self._keys, keys, "right")
            for start, end in zip(lo.tolist(), hi.tolist(), strict=True):
                if end > start:
                    found.update(self._ids[start:end].tolist())
        return found

    def check(self, text_or_fingerprint: str | Fingerprint) -> DuplicateCheck:
        """Is it a duplicate of an added request? Keep the result to :meth:`add` it cheaply."""
        found = text_or_fingerprint if isinstance(text_or_fingerprint, Fingerprint) else None
        key = found.key if found is not None else normalize(text_or_fingerprint)  # type: ignore[arg-type]
        if key in self._seen:
            return DuplicateCheck(key, "exact", found)
        found = found if found is not None else fingerprint(key)
        candidates = np.fromiter(self._candidates(self._band_keys(found.signature)), np.int64)
        if len(candidates) > 1:  # the MinHash estimate screens them; the exact Jaccard decides
            agree = (self._signatures[candidates] == found.signature).mean(axis=1)
            candidates = candidates[agree >= self.threshold - CANDIDATE_MARGIN]
        if len(candidates):
            starts, ends = self._bounds[candidates], self._bounds[candidates + 1]
            sizes = ends - starts
            theirs = np.concatenate([self._flat[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)])
            hits = np.isin(theirs, found.hashes)
            shared = np.add.reduceat(hits, np.cumsum(sizes) - sizes)
            if np.any(shared >= self.threshold * (len(found.hashes) + sizes - shared)):
                return DuplicateCheck(key, "near", found)
        return DuplicateCheck(key, None, found)

    def add(self, check: DuplicateCheck) -> None:
        if check.key in self._seen:
            return
        found = check.fingerprint if check.fingerprint is not None else fingerprint(check.key)
        self._seen.add(check.key)
        new_id = self._count
        if new_id == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.empty_like(self._signatures)])
            self._bounds = np.concatenate([self._bounds, np.zeros(len(self._bounds) - 1, np.int64)])
        start = self._bounds[new_id]
        end = start + len(found.hashes)
        while end > len(self._flat):
            self._flat = np.concatenate([self._flat, np.empty_like(self._flat)])
        self._flat[start:end] = found.hashes
        self._bounds[new_id + 1] = end
        self._signatures[new_id] = found.signature
        self._count += 1
        for key in self._band_keys(found.signature).tolist():
            self._recent.setdefault(key, []).append(new_id)
        if len(self._recent) > max(4096, len(self._keys) // 4):
            self._merge()

    def _merge(self) -> None:
        keys = np.fromiter((k for k, ids in self._recent.items() for _ in ids), np.uint64)
        ids = np.fromiter((i for ids in self._recent.values() for i in ids), np.int32)
        keys, ids = np.concatenate([self._keys, keys]), np.concatenate([self._ids, ids])
        order = np.argsort(keys, kind="stable")
        self._keys, self._ids = keys[order], ids[order]
        self._recent = {}

    def add_text(self, text: str) -> None:
        self.add(self.check(text))

    def __len__(self) -> int:
        return len(self._seen)
