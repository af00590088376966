"""Split settings and the seeded split assignment."""

from itertools import combinations

import pytest

from planforge.dataset.splits import assign_splits, parse_splits, split_sizes


def test_splits_settings_and_assignment():
    assert parse_splits("validation=0.1, test=20") == {"validation": 0.1, "test": 20.0}
    with pytest.raises(ValueError, match="unknown split"):
        parse_splits("dev=0.1")
    assert split_sizes(100, {"validation": 0.05, "test": 0.05}) == {"train": 90, "validation": 5, "test": 5}
    assert split_sizes(100, {"validation": 10, "test": 3}) == {"train": 87, "validation": 10, "test": 3}
    parts = assign_splits(50, {"validation": 0.1, "test": 0.1}, seed=0)
    assert sorted(i for p in parts.values() for i in p) == list(range(50))
    assert all(set(a).isdisjoint(b) for a, b in combinations(parts.values(), 2))
    assert parts == assign_splits(50, {"validation": 0.1, "test": 0.1}, seed=0)
