"""The CPU settings of the trainers: ``--threads``."""

from __future__ import annotations

import pytest
import torch

from planforge.errors import ConfigError
from planforge.trainers import cpu

pytestmark = pytest.mark.torch


def test_threads(monkeypatch):
    before = torch.get_num_threads()
    cpu.set_threads(None)
    assert torch.get_num_threads() == before
    with pytest.raises(ConfigError, match="at least 1"):
        cpu.set_threads(0)
    asked = []
    monkeypatch.setattr(torch, "set_num_threads", asked.append)
    cpu.set_threads(2)
    assert asked == [2]
