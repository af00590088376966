"""Inter-annotator agreement and majority votes (pure).

* :func:`cohen_kappa` -- two annotators over the items both labelled;
* :func:`fleiss_kappa` -- any number of annotators, items with two labels or more (the number of labels may vary
  per item: observed agreement per item is averaged, chance agreement comes from the pooled label shares);
* :func:`majority` -- the label more than half of the votes give (ties and pluralities resolve to nothing).

A kappa is ``None`` where it is undefined: no items, or chance agreement of 1 (everyone always used one label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators' labels for the same items (position i of ``a`` and ``b``)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs labels for the same items ({len(a)} != {len(b)})")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(items: Iterable[Mapping[Hashable, int]]) -> float | None:
    """Fleiss' kappa from per-item label counts (``{label: how many annotators gave it}``); items with fewer
    than two labels are ignored."""
    rows = [Counter({k: v for k, v in item.items() if v}) for item in items]
    rows = [r for r in rows if sum(r.values()) >= 2]
    if not rows:
        return None
    per_item = []
    totals: Counter = Counter()
    for row in rows:
        n = sum(row.values())
        per_item.append(sum(c * (c - 1) for c in row.values()) / (n * (n - 1)))
        totals.update(row)
    observed = sum(per_item) / len(per_item)
    all_labels = sum(totals.values())
    expected = sum((c / all_labels) ** 2 for c in totals.values())
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def majority(votes: Iterable[Hashable]) -> tuple[Hashable | None, int]:
    """``(label, count)`` when one label has more than half of the votes, else ``(None, top count)``."""
    counts = Counter(votes)
    if not counts:
        return None, 0
    label, count = counts.most_common(1)[0]
    total = sum(counts.values())
    return (label, count) if count * 2 > total else (None, count)


@dataclass(frozen=True)
class Agreement:
    method: str  # cohen | fleiss | none
    kappa: float | None
    percent: float | None  # share of annotator pairs on shared items that gave the same label
    items: int  # items labelled by two annotators or more
    annotators: int
    pairwise: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kappa": None if self.kappa is None else round(self.kappa, 4),
            "percent_agreement": None if self.percent is None else round(self.percent, 4),
            "items": self.items,
            "annotators": self.annotators,
            "pairwise_cohen": self.pairwise,
        }


def agreement(labels: Mapping[str, Mapping[str, Hashable]]) -> Agreement:
    """Agreement over ``{item: {annotator: label}}``: Cohen's kappa when exactly two annotators labelled
    shared items, Fleiss' kappa when more did; pairwise Cohen for every annotator pair either way."""
    shared = {item: by_user for item, by_user in labels.items() if len(by_user) >= 2}
    users = sorted({u for by_user in shared.values() for u in by_user})
    pairwise: dict[str, Any] = {}
    agree = pairs = 0
    for u, v in combinations(users, 2):
        common = [item for item, by_user in shared.items() if u in by_user and v in by_user]
        if not common:
            continue
        a = [shared[i][u] for i in common]
        b = [shared[i][v] for i in common]
        kappa = cohen_kappa(a, b)
        pairwise[f"{u} / {v}"] = {"items": len(common), "kappa": None if kappa is None else round(kappa, 4)}
        agree += sum(x == y for x, y in zip(a, b, strict=True))
        pairs += len(common)
    percent = agree / pairs if pairs else None
    if not shared:
        return Agreement("none", None, None, 0, len(users), pairwise)
    if len(users) == 2:
        u, v = users
        a = [shared[i][u] for i in shared]
        b = [shared[i][v] for i in shared]
        return Agreement("cohen", cohen_kappa(a, b), percent, len(shared), 2, pairwise)
    kappa = fleiss_kappa(Counter(by_user.values()) for by_user in shared.values())
    return Agreement("fleiss", kappa, percent, len(shared), len(users), pairwise)
