"""Small random traversal cases, for tests that hold a search to a reference."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from audit.graph.compiled import BoolArray, CompiledGraph

# (size, edges as (source, target, declared), roots, blocked nodes, reverse, declared_only)
TraversalCase = tuple[int, list[tuple[int, int, bool]], list[int], set[int], bool, bool]


@st.composite
def traversal_cases(draw: st.DrawFn) -> TraversalCase:
    size = draw(st.integers(1, 12))
    node = st.integers(0, size - 1)
    edges = draw(st.lists(st.tuples(node, node, st.booleans()), max_size=30))
    roots = draw(st.lists(node, min_size=1, max_size=3, unique=True))
    blocked = draw(st.sets(node, max_size=size))
    return size, edges, roots, blocked, draw(st.booleans()), draw(st.booleans())


def compile_case(case: TraversalCase) -> tuple[CompiledGraph, BoolArray | None]:
    """The case's graph compiled (nodes n00, n01...), and its blocked nodes as a mask
    (None when no node is blocked)."""
    size, edges, _, blocked, _, _ = case
    src = np.array([u for u, _, _ in edges], dtype=np.int64)
    dst = np.array([v for _, v, _ in edges], dtype=np.int64)
    declared = np.array([d for _, _, d in edges], dtype=np.bool_)
    mask = np.zeros(size, dtype=np.bool_)
    mask[list(blocked)] = True
    return CompiledGraph([f"n{i:02d}" for i in range(size)], src, dst, declared), mask if blocked else None
