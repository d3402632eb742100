"""The frozen graph's edge indexes: one edge per (source, target, kind), and every node's
edges out and in, in (neighbour, kind) order, whatever order the edges were added in."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.graph.model import KINDS, DataGraph, NodeData


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda size: st.tuples(
            st.just(size),
            st.lists(
                st.tuples(st.integers(0, size - 1), st.integers(0, size - 1), st.integers(0, len(KINDS) - 1)),
                max_size=40,
            ),
        )
    )
)
def test_edges_are_merged_and_indexed_by_neighbour_then_kind(case: tuple[int, list[tuple[int, int, int]]]) -> None:
    size, added = case
    graph = DataGraph(cast(Any, None))
    graph.add_nodes([(f"n{i}", NodeData("store", f"n{i}")) for i in range(size)])
    graph.add_edges([(f"n{u}", f"n{v}", KINDS[k], (), False) for u, v, k in added])
    frozen = graph.frozen

    triples = [(int(u), int(v), int(k)) for u, v, k in zip(frozen.src, frozen.dst, frozen.kind, strict=True)]
    assert sorted(triples) == sorted(set(added))  # each stated edge once
    for node in range(size):
        out = [triples[int(e)] for e in frozen.out_edges(node)]
        assert out == sorted(t for t in set(added) if t[0] == node)
        into = [triples[int(e)] for e in frozen.in_edges(node)]
        assert into == sorted((t for t in set(added) if t[1] == node), key=lambda t: (t[0], t[2]))


def test_numbered_edges_need_one_of_everything_per_edge() -> None:
    graph = DataGraph(cast(Any, None))
    graph.add_nodes([(f"n{i}", NodeData("store", f"n{i}")) for i in range(2)])
    with pytest.raises(ValueError, match="per edge"):
        graph.add_numbered_edges([0, 1], [1], [0, 0], [(), ()])  # type: ignore[list-item]
    graph.add_numbered_edges([0, 1], [1, 0], [0, 6], [(), ()], [False, True])  # type: ignore[list-item]
    assert [
        (int(u), int(v), bool(c))
        for u, v, c in zip(graph.frozen.src, graph.frozen.dst, graph.frozen.conditional, strict=True)
    ] == [
        (0, 1, False),
        (1, 0, True),
    ]
