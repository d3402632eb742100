"""The frozen graph's edge indexes: one edge per (source, target, kind), and every node's
edges out and in, in (neighbour, kind) order, whatever order the edges were added in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.graph.model import KINDS, DataGraph, EdgeKind, Evidence, NodeData


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


class _Grant:
    """A proof many edges share, citing statements (as an IAM grant does)."""

    def __init__(self, *statements: dict[str, Any]) -> None:
        self.group = self
        self._statements = list(statements)

    def statements(self) -> list[dict[str, Any]]:
        return self._statements

    def evidence(self) -> tuple[Evidence, ...]:
        return ()


class _Declared:
    def evidence_at(self, graph: DataGraph, eid: int) -> tuple[Evidence, ...]:
        return ()


def test_edges_citing_judges_each_proof_once_and_every_proof_of_a_merged_edge() -> None:
    wild, narrow = {"Resource": "*"}, {"Resource": "arn:aws:s3:::b/*"}
    judged: list[dict[str, Any]] = []

    def wanted(statement: Mapping[str, Any]) -> bool:
        judged.append(dict(statement))
        return statement.get("Resource") == "*"

    shared, other, declared = _Grant(wild), _Grant(narrow), _Declared()
    quoted = (Evidence(kind="iam-statement", location="x", detail="d", statement=wild),)
    graph = DataGraph(cast(Any, None))
    graph.add_nodes([(f"n{i}", NodeData("store", f"n{i}")) for i in range(8)])
    read = KINDS.index(EdgeKind.CAN_READ)
    graph.add_numbered_edges(
        [0, 1, 2, 3, 4, 5, 6, 6, 7, 7],
        [1, 2, 3, 4, 5, 6, 7, 7, 0, 0],
        [read] * 10,
        [shared, shared, other, declared, quoted, other, other, shared, other, declared],  # type: ignore[list-item]
    )
    # edges 0-1 share the wildcard grant, 4 quotes it; 6 (n6->n7) is stated twice, once by it
    assert graph.edges_citing([7, 6, 5, 4, 3, 2, 1, 0], wanted) == [6, 4, 1, 0]
    # each statement judged once: the grants' two, and the copy the quoted evidence holds
    assert sorted(map(str, judged)) == sorted(map(str, [narrow, wild, wild]))
