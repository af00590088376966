"""Train/validation/test splits: how they are written on the command line and how examples are assigned to them.

Shares (below 1) are of the total, numbers of 1 or more are counts, train gets the rest; the assignment is a seeded
permutation, so the same seed gives the same splits (``gen run`` and ``gen import`` both split this way)."""

from __future__ import annotations

import random
from collections.abc import Mapping

from planforge.errors import ConfigError

SPLIT_NAMES = ("train", "validation", "test")


def parse_splits(text: str) -> dict[str, float]:
    """``"validation=0.05,test=0.05"`` or ``"validation=100,test=100"`` -> shares or counts by split."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in ("validation", "test"):
            raise ConfigError(f"--splits: unknown split {name!r} (give validation=… and test=…; train gets the rest)")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--splits: {part!r} is not NAME=NUMBER") from None
        if out[name] < 0:
            raise ConfigError(f"--splits: {name} must not be negative")
    return out


def split_sizes(total: int, splits: Mapping[str, float]) -> dict[str, int]:
    """Shares (< 1) are of the total; numbers >= 1 are counts. Train gets the rest."""
    sizes = {}
    for name in ("validation", "test"):
        value = splits.get(name, 0.0)
        sizes[name] = int(value) if value >= 1 else round(total * value)
    if sizes["validation"] + sizes["test"] > total:
        scale = total / (sizes["validation"] + sizes["test"])
        sizes = {k: int(v * scale) for k, v in sizes.items()}
    sizes["train"] = total - sizes["validation"] - sizes["test"]
    return {name: sizes[name] for name in SPLIT_NAMES}


def assign_splits(total: int, splits: Mapping[str, float], seed: int) -> dict[str, list[int]]:
    order = list(range(total))
    random.Random(f"{seed}:splits").shuffle(order)
    sizes = split_sizes(total, splits)
    out, start = {}, 0
    for name in ("validation", "test", "train"):
        out[name] = order[start : start + sizes[name]]
        start += sizes[name]
    return {name: out[name] for name in SPLIT_NAMES}
