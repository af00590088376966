"""CPU settings of the torch trainers.

torch runs its CPU kernels on libgomp's OpenMP threads (one per core by default), whose waiters spin before they
sleep. On cores other jobs share, a spinning thread holds a core that the thread it waits for needs. On 2 such
cores (load average 6-13), a raw LoRA step of SmolLM2-135M took 2.2-2.7 times as long, and 2.5 times the CPU
seconds, with spinning waiters as with sleeping ones (``OMP_WAIT_POLICY=PASSIVE``;
``benchmarks/trainers_threads.py``). libgomp reads the variable once, when torch is imported, so the CLI calls
:func:`prefer_sleeping_threads` before that; a policy the caller set wins."""

from __future__ import annotations

import os
import sys

#: libgomp's wait policy that planforge sets when the caller set none.
WAIT_POLICY = "PASSIVE"


def prefer_sleeping_threads() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set a policy. ``False``, and nothing set, once torch is
    imported: libgomp has read the variable then."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    return True


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads (``None``: leave torch's default, one per core)."""
    if threads is None:
        return
    from planforge.errors import ConfigError

    if threads < 1:
        raise ConfigError("--threads must be at least 1")
    import torch

    torch.set_num_threads(threads)
