"""The compiled graph's traversals against networkx on random graphs: every filter
(direction, declared edges only, blocked nodes) reaches what networkx reaches, at the
same distances."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings

from audit.graph.compiled import UNREACHED, CompiledGraph
from tests.support.graphs import TraversalCase, compile_case, traversal_cases


@settings(max_examples=300, deadline=None)
@given(traversal_cases())
def test_bfs_reaches_what_networkx_reaches_at_the_same_distance(
    case: TraversalCase,
) -> None:
    size, edges, roots, blocked, reverse, declared_only = case
    compiled, mask = compile_case(case)
    tree = compiled.bfs(roots, reverse=reverse, declared_only=declared_only, blocked=mask)

    expected = nx.DiGraph()
    expected.add_nodes_from(range(size))
    expected.add_node("root")
    expected.add_edges_from(("root", r) for r in roots)
    for u, v, is_declared in edges:  # a blocked node is never entered, nor left (roots may be entered)
        if (is_declared or not declared_only) and u not in blocked and v not in blocked:
            expected.add_edge(*((v, u) if reverse else (u, v)))
    distance = nx.single_source_shortest_path_length(expected, "root")
    reached = {n for n in distance if n != "root"}
    assert {int(n) for n in tree.order[1:]} == reached
    assert {n for n in range(size) if tree.reached(n)} == reached
    assert all(tree.parent[n] == UNREACHED for n in set(range(size)) - reached)
    for n in reached:
        chain = tree.chain(n)
        assert len(chain) == distance[n], "a shortest path"
        assert chain[-1] in roots
        for u, v in zip(chain[1:], chain[:-1], strict=True):  # each step is an edge kept
            assert expected.has_edge(u, v)


def test_rows_are_sorted_by_node_then_neighbour_whatever_the_edge_order() -> None:
    """The order a search meets neighbours in (and so the witness paths it picks) follows
    the node numbers, never the order the edges were added in."""
    rng = np.random.default_rng(3)
    src, dst = rng.integers(0, 300, 5_000), rng.integers(0, 300, 5_000)
    declared = rng.random(5_000) < 0.5
    compiled = CompiledGraph([f"n{i:03d}" for i in range(300)], src, dst, declared)
    shuffled = rng.permutation(5_000)
    again = CompiledGraph(compiled.nodes, src[shuffled], dst[shuffled], declared[shuffled])
    for reverse in (False, True):
        tails, heads = (dst, src) if reverse else (src, dst)
        expected = np.lexsort((heads, tails))
        for graph in (compiled, again):
            matrix = graph.matrix([], reverse=reverse)
            assert np.array_equal(matrix.indices[: len(src)], heads[expected])
            assert np.array_equal(np.diff(matrix.indptr)[:300], np.bincount(tails, minlength=300))


def test_matrices_are_in_the_type_csgraph_searches_in() -> None:
    """csgraph searches float64 matrices; handed any other type, it first copies the whole
    matrix (sorting and summing its duplicate entries), at many times the cost of a search
    that reaches only part of the graph."""
    src, dst = np.array([0, 1, 1, 2]), np.array([1, 2, 2, 0])
    compiled = CompiledGraph(["a", "b", "c"], src, dst, np.array([True, False, True, True]))
    for matrix in (
        compiled.matrix([0]),
        compiled.matrix([2], reverse=True, declared_only=True, blocked=np.array([False, True, False])),
        compiled.adjacency(),
    ):
        assert matrix.dtype == np.float64
        assert matrix.indices.dtype == matrix.indptr.dtype == np.int32


def test_the_adjacency_holds_each_pair_once() -> None:
    """Two edges (of two kinds) from a to b are one entry: scipy's strongly connected
    components loop for ever on a matrix with an entry held twice."""
    src, dst = np.array([0, 0, 1, 2, 2]), np.array([1, 1, 2, 0, 0])
    compiled = CompiledGraph(["a", "b", "c"], src, dst, np.ones(5, dtype=np.bool_))
    matrix = compiled.adjacency()
    assert matrix.nnz == 3
    assert sorted(zip(*matrix.nonzero(), strict=True)) == [(0, 1), (1, 2), (2, 0)]
    assert np.array_equal(compiled.matrix([]).indices[:5], [1, 1, 2, 0, 0]), "the searches' arrays are untouched"
