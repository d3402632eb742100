"""A rule's whole violation, and the places to fix it.

The violation of a path rule is every edge that lies on *some* route from its sources to
its sinks (gate nodes removed): the edges whose tail the sources reach and whose head
reaches a sink, found by one search forward from the sources and one backward from the
sinks. The (source, sink) pairs it connects come from searches inside that subgraph.

Findings are grouped at a minimum edge cut between the sources and the sinks of the
violation subgraph (``scipy.sparse.csgraph.maximum_flow``, unit capacity per edge). Of the
minimum cuts, the one nearest the sources is taken: the nodes a maximum flow's residual
graph still reaches from the sources are the same whatever maximum flow the solver found,
so the choice is deterministic; and it is where the protected data first takes a way to
training that every one of its routes shares (the edges nearest training are often the
legitimate last steps of a pipeline, a PII scrub writing the SFT set, that every clean route
uses too). Cut edges that carry the same sources to the same sinks are one root cause (an
export job's declared read and its role's permitted read): they make one finding, whose
edges to cut are listed, the declared first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from audit.graph.compiled import UNREACHED, BoolArray, CompiledGraph, IntArray
from audit.graph.containment import containment_hops
from audit.graph.kinds import KIND_NAMES
from audit.graph.model import DataGraph
from audit.graph.rules import Violation, witness

MAX_PAIRS = 200_000  # (source, sink) pairs kept per rule; past that the count says how many


def edge_id(source: str, kind: str, target: str) -> str:
    """A stable id for an edge, from its two ends and its kind."""
    digest = hashlib.sha256("\x1f".join((source, kind, target)).encode()).hexdigest()[:12]
    return f"E-{digest}"


@dataclass(frozen=True)
class RouteEdge:
    id: str
    source: str  # node keys
    kind: str
    target: str
    declared: bool  # on a route made of declared edges only


@dataclass(frozen=True)
class Cut:
    """One edge of the minimum cut, with what crosses it."""

    edge: RouteEdge
    eid: int  # the graph's edge number (for its evidence)
    sources: tuple[str, ...]  # node keys, nearest first
    sinks: tuple[str, ...]
    violation: Violation  # a witness path through the edge


@dataclass
class RuleViolation:
    """Every route of one rule: its edges, the pairs they connect, and the cut."""

    edges: list[RouteEdge] = field(default_factory=list)
    pairs: list[tuple[str, str, bool]] = field(default_factory=list)  # (source, sink, declared)
    pair_count: int = 0
    cuts: list[Cut] = field(default_factory=list)  # one per root cause: the first of its cut edges
    also_cut: dict[str, list[RouteEdge]] = field(default_factory=dict)  # the root cause's other cut edges


def rule_violation(
    graph: DataGraph, sources: IntArray, sinks: IntArray, blocked: BoolArray | None = None
) -> RuleViolation:
    """The whole violation of a rule from ``sources`` to ``sinks`` (compiled numbers),
    ``blocked`` nodes (gates) never passed."""
    compiled = graph.compiled
    result = RuleViolation()
    if not len(sources) or not len(sinks):
        return result
    size = compiled.size
    closed = np.zeros(size, dtype=np.bool_) if blocked is None else blocked
    on_all = _route_edges(compiled, sources, sinks, closed)
    if not on_all.any():
        return result
    eids = np.flatnonzero(on_all)
    keys, kinds = compiled.nodes, graph.frozen.kind
    src, dst = compiled.src, compiled.dst
    # every declared route lies inside the violation: its edges are found there, not in the graph
    sub = _Subgraph.of(src[eids], dst[eids], eids, compiled.declared[eids])
    sources_here = sub.local(sources)
    sinks_here = sub.local(sinks)
    ahead, _ = sub.search(np.flatnonzero(sources_here).tolist(), reverse=False, declared_only=True)
    behind, _ = sub.search(np.flatnonzero(sinks_here).tolist(), reverse=True, declared_only=True)
    forward = np.zeros(sub.size, dtype=np.bool_)
    forward[ahead] = True
    backward = np.zeros(sub.size, dtype=np.bool_)
    backward[behind] = True
    on_declared = np.zeros(len(on_all), dtype=np.bool_)
    on_declared[eids] = sub.declared & forward[sub.src] & backward[sub.dst]
    sub = _Subgraph(sub.nodes, sub.src, sub.dst, sub.eids, on_declared[eids])
    result.edges = sorted(
        (
            RouteEdge(edge_id(keys[u], KIND_NAMES[k], keys[v]), keys[u], KIND_NAMES[k], keys[v], bool(on_declared[e]))
            for e, u, v, k in zip(
                eids.tolist(), src[eids].tolist(), dst[eids].tolist(), kinds[eids].tolist(), strict=True
            )
        ),
        key=lambda edge: (edge.source, edge.target, edge.kind),
    )
    result.pairs, result.pair_count = _pairs(sub, sources_here, sinks_here, keys)
    cuts = [
        _cut(graph, sub, eid, sources_here, sinks_here, bool(on_declared[eid]))
        for eid in _min_cut(sub, sources_here, sinks_here)
    ]
    groups: dict[tuple[frozenset[str], frozenset[str]], list[Cut]] = {}
    for cut in cuts:
        groups.setdefault((frozenset(cut.sources), frozenset(cut.sinks)), []).append(cut)
    for members in groups.values():
        # the edge a finding is named by: declared first, then one stated directly (not moved
        # by containment from a container's statement), then by name
        members.sort(
            key=lambda cut: (
                not cut.edge.declared,
                containment_hops(graph, cut.eid) is not None,
                cut.edge.source,
                cut.edge.target,
                cut.edge.kind,
            )
        )
        result.cuts.append(members[0])
        result.also_cut[members[0].edge.id] = [m.edge for m in members[1:]]
    result.cuts.sort(key=lambda cut: (cut.edge.source, cut.edge.target, cut.edge.kind))
    return result


def _route_edges(compiled: CompiledGraph, sources: IntArray, sinks: IntArray, closed: BoolArray) -> BoolArray:
    """Per edge: does it lie on a route from a source to a sink (blocked nodes not passed)?"""
    size = compiled.size
    ahead = compiled.bfs(sources, blocked=closed)
    behind = compiled.bfs(sinks, reverse=True, blocked=closed)
    forward = ahead.parent[:size] != UNREACHED
    backward = behind.parent[:size] != UNREACHED
    # a blocked node is a dead end: no route leaves it (a root of either search included)
    forward &= ~closed
    backward &= ~closed
    on: BoolArray = forward[compiled.src] & backward[compiled.dst]
    return on


@dataclass(frozen=True)
class _Subgraph:
    """The violation's edges, its nodes numbered 0..n-1 (``nodes`` gives each one's
    compiled number), so every search inside it costs its own size, not the graph's."""

    nodes: IntArray
    src: IntArray  # local numbers
    dst: IntArray
    eids: IntArray  # the graph's edge number of each subgraph edge
    declared: BoolArray

    @classmethod
    def of(cls, src: IntArray, dst: IntArray, eids: IntArray, declared: BoolArray) -> _Subgraph:
        nodes, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
        count = len(src)
        return cls(nodes, inverse[:count].astype(np.int64), inverse[count:].astype(np.int64), eids, declared)

    @property
    def size(self) -> int:
        return len(self.nodes)

    def local(self, compiled_numbers: IntArray) -> BoolArray:
        """Per local node: is it one of these compiled nodes?"""
        return np.isin(self.nodes, compiled_numbers)

    def matrix(self, *, reverse: bool = False, declared_only: bool = False, root: Sequence[int] = ()) -> csr_array:
        """The adjacency, with a virtual node (number ``size``) joined to ``root``."""
        keep = self.declared if declared_only else np.ones(len(self.src), dtype=np.bool_)
        rows, cols = (self.dst, self.src) if reverse else (self.src, self.dst)
        extra = np.asarray(list(root), dtype=np.int64)
        rows = np.concatenate([rows[keep], np.full(len(extra), self.size, dtype=np.int64)])
        cols = np.concatenate([cols[keep], extra])
        matrix = csr_array((np.ones(len(rows)), (rows, cols)), shape=(self.size + 1, self.size + 1))
        matrix.sum_duplicates()
        return matrix

    def search(self, roots: Sequence[int], *, reverse: bool, declared_only: bool = False) -> tuple[IntArray, IntArray]:
        """(nodes reached, nearest first; predecessors) of a search from ``roots`` at once."""
        matrix = self.matrix(reverse=reverse, declared_only=declared_only, root=roots)
        order, parent = breadth_first_order(matrix, self.size, directed=True, return_predecessors=True)
        return order[1:].astype(np.int64), parent.astype(np.int64)


def _pairs(
    sub: _Subgraph, source_set: BoolArray, sink_set: BoolArray, keys: Sequence[str]
) -> tuple[list[tuple[str, str, bool]], int]:
    """Every (source, sink) pair a route connects, searched from the smaller side."""
    starts = np.flatnonzero(source_set).tolist()
    ends = np.flatnonzero(sink_set).tolist()
    forward = len(starts) <= len(ends)
    pairs: list[tuple[str, str, bool]] = []
    count = 0
    names = [keys[n] for n in sub.nodes.tolist()]
    wanted = sink_set if forward else source_set
    for start in starts if forward else ends:
        reached, _ = sub.search([start], reverse=not forward)
        by_declared, _ = sub.search([start], reverse=not forward, declared_only=True)
        declared = set(by_declared.tolist())
        for other in reached[wanted[reached]].tolist():
            if other == start:
                continue
            count += 1
            if len(pairs) < MAX_PAIRS:
                source, sink = (start, other) if forward else (other, start)
                pairs.append((names[source], names[sink], other in declared))
    pairs.sort()
    return pairs, count


def _min_cut(sub: _Subgraph, source_set: BoolArray, sink_set: BoolArray) -> list[int]:
    """The graph edge numbers of the minimum cut nearest the sources."""
    count = sub.size
    s_star, t_star = count, count + 1
    tails, heads = sub.src, sub.dst
    loose = tails != heads
    big = len(tails) + 1
    firsts = np.flatnonzero(source_set & ~sink_set)
    lasts = np.flatnonzero(sink_set & ~source_set)
    if not len(firsts) or not len(lasts):
        return []
    rows = np.concatenate([tails[loose], np.full(len(firsts), s_star), lasts])
    cols = np.concatenate([heads[loose], firsts, np.full(len(lasts), t_star)])
    caps = np.concatenate(
        [np.ones(int(loose.sum()), dtype=np.int32), np.full(len(firsts) + len(lasts), big, dtype=np.int32)]
    )
    capacity = csr_array((caps, (rows, cols)), shape=(count + 2, count + 2))
    capacity.sum_duplicates()
    flow = maximum_flow(capacity, s_star, t_star).flow
    residual = csr_array(capacity - flow)
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    # the nodes S* still reaches in the residual graph: the source side of the cut nearest
    # the sources (the same whatever maximum flow the solver found)
    from_source = breadth_first_order(residual, s_star, directed=True, return_predecessors=False)
    source_side = np.zeros(count + 2, dtype=np.bool_)
    source_side[from_source] = True
    crossing = loose & source_side[tails] & ~source_side[heads]
    return sorted(int(e) for e in sub.eids[crossing].tolist())


def _cut(graph: DataGraph, sub: _Subgraph, eid: int, source_set: BoolArray, sink_set: BoolArray, declared: bool) -> Cut:
    """The finding one cut edge makes: what crosses it, and a witness path through it."""
    compiled = graph.compiled
    keys = compiled.nodes
    position = int(np.flatnonzero(sub.eids == eid)[0])
    u, v = int(sub.src[position]), int(sub.dst[position])
    behind, back = sub.search([u], reverse=True, declared_only=declared)
    ahead_order, ahead = sub.search([v], reverse=False, declared_only=declared)
    sources = [n for n in behind.tolist() if source_set[n]]
    sinks = [n for n in ahead_order.tolist() if sink_set[n]]
    root = sub.size
    upstream = _chain(back, sources[0], root)  # the nearest source ... u
    downstream = _chain(ahead, sinks[0], root)[::-1]  # v ... the nearest sink
    names = [keys[n] for n in sub.nodes.tolist()]
    nodes = [names[n] for n in (*upstream, *downstream)]
    kind = KIND_NAMES[int(graph.frozen.kind[eid])]
    edge = RouteEdge(edge_id(names[u], kind, names[v]), names[u], kind, names[v], declared)
    hops = witness(graph, nodes, declared_only=declared)
    violation = Violation(nodes[0], nodes[-1], "declared" if declared else "potential", hops)
    return Cut(edge, eid, tuple(names[n] for n in sources), tuple(names[n] for n in sinks), violation)


def _chain(parent: IntArray, node: int, root: int) -> list[int]:
    """From ``node`` back to the search's start, inclusive (the virtual root left out)."""
    chain = [node]
    while int(parent[chain[-1]]) not in (root, UNREACHED):
        chain.append(int(parent[chain[-1]]))
    return chain
