"""A Bloom filter over 64-bit fingerprints, vectorised with NumPy.

The fingerprints of every protected record are added once; each training fingerprint is
then tested in bulk. A Bloom filter never misses a member and wrongly admits a non-member
with probability ``error_rate``, so it only selects *candidates*: the scan re-checks each
one exactly against the protected data before anything is reported.

Written here rather than taken from a library because the scan needs bulk operations on
arrays of millions of precomputed hashes; the Bloom libraries on PyPI add and test one
Python object at a time. Bit positions come from double hashing (Kirsch and Mitzenmacher)
of the two 32-bit halves of the fingerprint remixed by splitmix64.
"""

from __future__ import annotations

import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class BloomFilter:
    def __init__(self, capacity: int, error_rate: float = 1e-4) -> None:
        capacity = max(capacity, 1)
        bits = math.ceil(-capacity * math.log(error_rate) / (math.log(2) ** 2))
        self.bits = max(64, 1 << math.ceil(math.log2(bits)))  # a power of two: positions by masking
        self.hashes = max(1, round(self.bits / capacity * math.log(2)))
        self.capacity = capacity
        self.error_rate = error_rate
        self._array = np.zeros(self.bits // 8, dtype=np.uint8)
        self._mask = np.uint64(self.bits - 1)
        self.added = 0

    @property
    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def _positions(self, hashes: np.ndarray, step: int) -> np.ndarray:
        mixed = _mix(hashes.astype(np.uint64, copy=False))
        first = mixed & np.uint64(0xFFFFFFFF)
        second = (mixed >> np.uint64(32)) | np.uint64(1)
        with np.errstate(over="ignore"):
            return (first + np.uint64(step) * second) & self._mask

    def add(self, hashes: np.ndarray) -> None:
        for step in range(self.hashes):
            positions = self._positions(hashes, step)
            np.bitwise_or.at(
                self._array,
                (positions >> np.uint64(3)).astype(np.int64),
                (np.uint8(1) << (positions & np.uint64(7)).astype(np.uint8)),
            )
        self.added += len(hashes)

    def __contains__(self, value: int) -> bool:
        return bool(self.contains(np.asarray([value], dtype=np.uint64))[0])

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """For each fingerprint: may it have been added? (False means certainly not.)"""
        result = np.ones(len(hashes), dtype=bool)
        for step in range(self.hashes):
            positions = self._positions(hashes, step)
            bytes_ = self._array[(positions >> np.uint64(3)).astype(np.int64)]
            result &= (bytes_ >> (positions & np.uint64(7)).astype(np.uint8)) & np.uint8(1) == 1
        return result


class ScalableBloomFilter:
    """Bloom filters that grow as members arrive (Almeida et al.): each new stage doubles the
    capacity and halves the error rate, so the overall false-positive rate stays below
    ``error_rate`` and no member count has to be known in advance."""

    def __init__(self, initial_capacity: int = 1 << 20, error_rate: float = 1e-4) -> None:
        self.error_rate = error_rate
        self._next_capacity = initial_capacity
        self.stages: list[BloomFilter] = []

    @property
    def nbytes(self) -> int:
        return sum(stage.nbytes for stage in self.stages)

    @property
    def added(self) -> int:
        return sum(stage.added for stage in self.stages)

    def add(self, hashes: np.ndarray) -> None:
        start = 0
        while start < len(hashes):
            if not self.stages or self.stages[-1].added >= self.stages[-1].capacity:
                rate = self.error_rate / (2 ** (len(self.stages) + 1))
                self.stages.append(BloomFilter(self._next_capacity, rate))
                self._next_capacity *= 2
            stage = self.stages[-1]
            room = stage.capacity - stage.added
            stage.add(hashes[start : start + room])
            start += room

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        result = np.zeros(len(hashes), dtype=bool)
        for stage in self.stages:
            result |= stage.contains(hashes)
        return result
