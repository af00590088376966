"""Formats other projects publish, in and out of planforge's plans rows.

* :mod:`~planforge.interchange.exporting` -- ``gen export``: a plans dataset to OpenAI fine-tuning JSONL,
  ShareGPT (LLaMA-Factory), Hermes, xLAM or BFCL files, one record per example;
* :mod:`~planforge.interchange.importing` -- ``gen import``: those files (and Glaive's) to a plans dataset, every
  plan validated by the same validators as generated ones (invalid records counted by code, kept out);
* one module per format (``openai``, ``sharegpt``, ``hermes``, ``xlam``, ``bfcl``, ``glaive``), each a pair of
  pure functions ``export_row(row, index)`` / ``import_record(record, index)``; :mod:`~.calls` holds what they
  share (a plan as flat calls with ``"$K"`` strings for dataflow).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``EXPORTERS`` and ``IMPORTERS`` (format name -> module) load the format modules when first asked for, so
    that importing the package (every ``gen`` start-up does, for its commands) stays light."""
    if name not in ("EXPORTERS", "IMPORTERS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from planforge.interchange import bfcl, glaive, hermes, openai, sharegpt, xlam

    found = {
        "EXPORTERS": {m.NAME: m for m in (openai, sharegpt, hermes, xlam, bfcl)},
        "IMPORTERS": {m.NAME: m for m in (openai, sharegpt, hermes, glaive, xlam, bfcl)},
    }
    globals().update(found)
    return found[name]
