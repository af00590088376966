"""The row contract below every stage: features of each dataset kind, rows in and out, disk I/O, provenance.

* :mod:`~planforge.dataset.features` -- the ``datasets.Features`` of plans, pairs and reviewed pairs, :func:`kind_of`;
* :mod:`~planforge.dataset.rows` -- :class:`Example` (an example <-> a plans row), row readers, :class:`ToolCache`;
* :mod:`~planforge.dataset.disk` -- load (and check the kind), save quietly, output folders written atomically;
* :mod:`~planforge.dataset.provenance` -- :class:`RunRecord` (``run.json``) and the training/eval run files.

No stage imports another stage to read a row: they all import this package.
"""

from typing import Any

from planforge.dataset.features import KINDS, PAIRS, PLANS, REVIEWED_PAIRS, kind_of
from planforge.dataset.provenance import RunRecord


def __getattr__(name: str) -> Any:  # the Features objects load lazily (see planforge.dataset.features)
    from planforge.dataset import features

    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(features, name)


__all__ = [
    "KINDS",
    "PAIRS",
    "PAIR_FEATURES",
    "PLANS",
    "PLAN_FEATURES",
    "REVIEWED_FEATURES",
    "REVIEWED_PAIRS",
    "RunRecord",
    "kind_of",
]
