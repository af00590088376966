"""CPU settings of the torch trainers."""

from __future__ import annotations


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads (``None``: leave torch's default, one per core)."""
    if threads is None:
        return
    from planforge.errors import ConfigError

    if threads < 1:
        raise ConfigError("--threads must be at least 1")
    import torch

    torch.set_num_threads(threads)
