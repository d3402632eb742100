"""The Bloom filters: never a false negative, false positives near the configured rate."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.content.bloom import BloomFilter, ScalableBloomFilter


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=500))
def test_every_member_is_found(values: list[int]) -> None:
    members = np.asarray(values, dtype=np.uint64)
    bloom = BloomFilter(len(values), 1e-3)
    bloom.add(members)
    assert bloom.contains(members).all()
    assert values[0] in bloom


def test_false_positive_rate_is_near_the_target() -> None:
    rng = np.random.default_rng(1)
    members = rng.integers(0, 2**63, size=200_000, dtype=np.uint64)
    others = rng.integers(2**63, 2**64 - 1, size=400_000, dtype=np.uint64)
    bloom = BloomFilter(len(members), 1e-3)
    bloom.add(members)
    rate = bloom.contains(others).mean()
    assert rate < 2e-3, rate
    assert bloom.nbytes < len(members) * 8, "smaller than the fingerprints themselves"


def test_scalable_filter_grows_and_keeps_its_members() -> None:
    rng = np.random.default_rng(2)
    bloom = ScalableBloomFilter(initial_capacity=1000, error_rate=1e-3)
    batches = [rng.integers(0, 2**64 - 1, size=1500, dtype=np.uint64) for _ in range(5)]
    for batch in batches:
        bloom.add(batch)
    assert len(bloom.stages) >= 3
    assert bloom.added == 7500
    for batch in batches:
        assert bloom.contains(batch).all()
    strangers = rng.integers(0, 2**64 - 1, size=100_000, dtype=np.uint64)
    assert bloom.contains(strangers).mean() < 2e-3
