"""Inter-annotator agreement and majority votes.

The statistics come from libraries rather than hand-written formulas:

* Cohen's kappa (two annotators over the items both labelled): ``sklearn.metrics.cohen_kappa_score``;
* Krippendorff's alpha, nominal (any number of annotators, each item labelled by any subset of them, which is
  what Argilla's task distribution produces): the ``krippendorff`` package;
* :func:`majority` -- the label more than half of the votes give (ties and pluralities resolve to nothing).

A statistic is ``None`` where it is undefined: no shared items, or every label the same (chance agreement 1).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any


def _defined(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators' labels for the same items (position i of ``a`` and ``b``)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs labels for the same items ({len(a)} != {len(b)})")
    if not a or len(set(a) | set(b)) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    names = {label: i for i, label in enumerate(dict.fromkeys([*a, *b]))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined cases come back as nan, handled below
        return _defined(cohen_kappa_score([names[x] for x in a], [names[y] for y in b]))


def krippendorff_alpha(labels: Mapping[Hashable, Mapping[str, Hashable]]) -> float | None:
    """Krippendorff's alpha (nominal) over ``{item: {annotator: label}}``; items with one label carry no
    information about agreement and are left out by the statistic itself."""
    users = sorted({u for by_user in labels.values() for u in by_user})
    values = {label: float(i) for i, label in enumerate(dict.fromkeys(v for b in labels.values() for v in b.values()))}
    if len(users) < 2 or len(values) < 2:
        return None
    import krippendorff
    import numpy as np

    data = np.full((len(users), len(labels)), np.nan)
    for column, by_user in enumerate(labels.values()):
        for row, user in enumerate(users):
            if user in by_user:
                data[row, column] = values[by_user[user]]
    if not (np.sum(~np.isnan(data), axis=0) >= 2).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _defined(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


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
    method: str  # cohen_kappa | krippendorff_alpha | none
    value: float | None
    percent: float | None  # share of annotator pairs on shared items that gave the same label
    items: int  # items labelled by two annotators or more
    annotators: int
    pairwise: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "value": None if self.value is None else round(self.value, 4),
            "percent_agreement": None if self.percent is None else round(self.percent, 4),
            "items": self.items,
            "annotators": self.annotators,
            "pairwise_cohen": self.pairwise,
        }


def agreement(labels: Mapping[str, Mapping[str, Hashable]]) -> Agreement:
    """Agreement over ``{item: {annotator: label}}``: Cohen's kappa when exactly two annotators labelled
    shared items, Krippendorff's alpha when more did; pairwise Cohen for every annotator pair either way."""
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
        kappa = cohen_kappa([shared[i][u] for i in shared], [shared[i][v] for i in shared])
        return Agreement("cohen_kappa", kappa, percent, len(shared), 2, pairwise)
    return Agreement("krippendorff_alpha", krippendorff_alpha(shared), percent, len(shared), len(users), pairwise)
