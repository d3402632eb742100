"""Graph rules: no-path, only-through (gates) and tenant-isolation.

Each violation carries a shortest witness path and the evidence of every edge on it.
A violation is *declared* when a path made of declared edges alone exists (data does
move that way); otherwise it is *potential* (data is permitted to move that way).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from audit.graph.compiled import UNREACHED, BoolArray, CompiledGraph, IntArray, Traversal
from audit.graph.model import DataGraph, Evidence, NodeType

Kind = Literal["declared", "potential"]


@dataclass(frozen=True)
class Hop:
    """One step of a witness path: the node reached and the edge that reached it."""

    node: str
    node_type: str
    entity: str
    edge: str | None  # None for the first node of a path
    declared: bool
    conditional: bool
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Violation:
    source: str
    target: str
    kind: Kind
    path: tuple[Hop, ...]


def witness(graph: DataGraph, nodes: Sequence[str], *, declared_only: bool) -> tuple[Hop, ...]:
    """Turn a node sequence into hops, choosing for each step the strongest edge:
    declared before potential, unconditional before conditional."""

    def hop(node: str, edge: Mapping[str, Any] | None) -> Hop:
        data = graph.node(node)
        if edge is None:
            return Hop(node, data["node_type"], data["entity"], None, True, False, ())
        return Hop(
            node,
            data["node_type"],
            data["entity"],
            edge["kind"],
            edge["declared"],
            edge["conditional"],
            tuple(edge["evidence"]),
        )

    hops = [hop(nodes[0], None)]
    for u, v in itertools.pairwise(nodes):
        candidates = [d for d in graph.edges_between(u, v) if d["declared"] or not declared_only]
        best = min(candidates, key=lambda d: (not d["declared"], d["conditional"], d["kind"]))
        hops.append(hop(v, best))
    return tuple(hops)


def _violations_to_sinks(
    graph: DataGraph, sources: Sequence[str], sinks: Sequence[str], blocked: BoolArray | None = None
) -> list[Violation]:
    """One violation per source that reaches any sink, with the path to its nearest sink."""
    compiled = graph.compiled
    if not sources or not sinks:
        return []
    sink_ids = [compiled.index[s] for s in sinks]
    source_ids = np.fromiter((compiled.index[s] for s in sources), np.int64, len(sources))
    open_sources = np.ones(len(sources), dtype=np.bool_) if blocked is None else ~blocked[source_ids]
    found: dict[str, Violation] = {}
    for kind, declared_only in (("declared", True), ("potential", False)):
        tree = compiled.bfs(sink_ids, reverse=True, declared_only=declared_only, blocked=blocked)
        reached = open_sources & (tree.parent[source_ids] != UNREACHED)
        for position in np.flatnonzero(reached).tolist():  # only the sources that do reach a sink
            source = sources[position]
            if source in found:
                continue
            path = [compiled.nodes[i] for i in tree.chain(int(source_ids[position]))]
            found[source] = Violation(
                source,
                path[-1],
                kind,  # type: ignore[arg-type]
                witness(graph, path, declared_only=declared_only),
            )
    return [found[s] for s in sources if s in found]


def no_path(graph: DataGraph, sources: Sequence[str], sinks: Sequence[str]) -> list[Violation]:
    """Every source store that reaches a sink."""
    return _violations_to_sinks(graph, sources, sinks)


def only_through(
    graph: DataGraph, sources: Sequence[str], sinks: Sequence[str], gates: Iterable[str]
) -> list[tuple[str, Violation]]:
    """For each gate kind, the sources that reach a sink on a path avoiding every node
    that carries the gate. A source whose data already passed the gate is not an origin."""
    results: list[tuple[str, Violation]] = []
    for gate in gates:
        blocked = _carrying(graph, gate)
        origins = [s for s in sources if gate not in graph.node(s)["passed_gates"]]
        results.extend((gate, v) for v in _violations_to_sinks(graph, origins, sinks, blocked))
    return results


def _carrying(graph: DataGraph, gate: str) -> BoolArray:
    """Per compiled node: does it carry the gate?"""
    carriers: dict[str, list[int]] | None = graph.memo.get("gate-carriers")
    if carriers is None:  # one pass over the nodes for every gate kind: few nodes carry one
        carriers = graph.memo["gate-carriers"] = {}
        for index, gates in enumerate(graph.column("gates")):
            for kind in gates or ():
                carriers.setdefault(kind, []).append(index)
    compiled = graph.compiled
    blocked = np.zeros(compiled.size, dtype=np.bool_)
    blocked[compiled.rank[carriers.get(gate, [])]] = True
    return blocked


@dataclass(frozen=True)
class TenantViolation:
    from_tenant: str
    to_tenant: str
    violation: Violation
    reached: tuple[str, ...]  # every node of the other tenant reached, nearest first


def tenant_isolation(graph: DataGraph) -> list[TenantViolation]:
    """Every ordered pair of tenants where one's data reaches the other's stores or principals.

    Not one traversal per tenant: the graph's strongly connected components are condensed
    to a DAG, and a bitset of the tenants whose stores reach each component is propagated
    along it in topological order (one pass for declared edges, one for all). Only tenants
    whose data does reach another's are then traversed, for their witness paths.
    """
    compiled = graph.compiled
    column = graph.column("tenant")
    tenants = sorted({t for t in column if t is not None})
    if not tenants:
        return []
    number: dict[str | None, int] = {tenant: i for i, tenant in enumerate(tenants)}
    number[None] = -1
    owner = np.empty(compiled.size, dtype=np.int64)  # tenant of a store or principal, else -1
    owner[compiled.rank] = np.fromiter(map(number.__getitem__, column), np.int64, len(column))
    stores = np.zeros(compiled.size, dtype=np.bool_)
    stores[compiled.rank] = graph.type_mask(NodeType.STORE)
    seed = np.where(stores, owner, -1)  # tenant of a store: where its data starts
    pairs: dict[tuple[int, int], str] = {}
    for kind, declared_only in (("declared", True), ("potential", False)):
        bits = _tenant_reach(compiled, seed, len(tenants), declared_only)
        for source, target in _crossings(bits, owner):
            pairs.setdefault((source, target), kind)
    stores_of: dict[int, list[int]] = {}
    for index in np.flatnonzero(seed >= 0).tolist():
        stores_of.setdefault(int(seed[index]), []).append(index)
    results: list[TenantViolation] = []
    owned = np.flatnonzero(owner >= 0)
    owner_names = (
        dict(zip(owned.tolist(), map(tenants.__getitem__, owner[owned].tolist()), strict=True)) if pairs else {}
    )
    for source in sorted({s for s, _ in pairs}):
        tenant = tenants[source]
        found: dict[str, TenantViolation] = {}
        for kind, declared_only in (("declared", True), ("potential", False)):
            wanted = {tenants[t] for (s, t), k in pairs.items() if s == source and kind in (k, "potential")}
            if not wanted - set(found):
                continue
            tree = compiled.bfs(stores_of[source], declared_only=declared_only)
            for other, reached in _reached_by_tenant(tree, owner_names, tenant).items():
                if other in found or other not in wanted:
                    continue
                path = [compiled.nodes[i] for i in reversed(tree.chain(reached[0]))]
                violation = Violation(
                    path[0],
                    path[-1],
                    kind,  # type: ignore[arg-type]
                    witness(graph, path, declared_only=declared_only),
                )
                found[other] = TenantViolation(tenant, other, violation, tuple(compiled.nodes[i] for i in reached))
        results.extend(found[o] for o in sorted(found))
    return results


def _tenant_reach(compiled: CompiledGraph, seed: IntArray, tenants: int, declared_only: bool) -> Any:
    """Per node, a bitset (uint64 words) of the tenants whose stores reach it."""
    size = compiled.size
    keep = compiled.declared if declared_only else np.ones(len(compiled.src), dtype=np.bool_)
    src, dst = compiled.src[keep], compiled.dst[keep]
    matrix = csr_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    count, labels = connected_components(matrix, directed=True, connection="strong")
    labels = labels.astype(np.int64)  # int32 from scipy: label * count would overflow
    words = max(1, (tenants + 63) // 64)
    bits = np.zeros((count, words), dtype=np.uint64)
    seeded = np.flatnonzero(seed >= 0)
    np.bitwise_or.at(
        bits,
        (labels[seeded], seed[seeded] // 64),
        np.left_shift(np.uint64(1), (seed[seeded] % 64).astype(np.uint64)),
    )
    a, b = labels[src], labels[dst]
    across = a != b
    # the condensation's edges, deduplicated and grouped by tail (scipy's counting sort)
    condensed = csr_array((np.ones(int(across.sum()), dtype=np.int8), (a[across], b[across])), shape=(count, count))
    condensed.sum_duplicates()
    starts, heads = condensed.indptr.astype(np.int64), condensed.indices.astype(np.int64)
    indegree = np.bincount(heads, minlength=count)
    frontier = np.flatnonzero(indegree == 0)
    while len(frontier):  # Kahn's levels: a component's bits are final when it is reached
        chosen = _spans(starts[frontier], starts[frontier + 1])
        if not len(chosen):
            break
        targets = heads[chosen]
        order = np.argsort(targets, kind="stable")
        targets, tails = targets[order], np.repeat(frontier, starts[frontier + 1] - starts[frontier])[order]
        first = np.flatnonzero(np.concatenate([[True], targets[1:] != targets[:-1]]))
        grouped = targets[first]
        bits[grouped] |= np.bitwise_or.reduceat(bits[tails], first, axis=0)
        indegree[grouped] -= np.diff(np.append(first, len(targets)))
        frontier = grouped[indegree[grouped] == 0]
    return bits[labels]


def _spans(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of range(start, end) for each pair, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return offsets + np.arange(total, dtype=np.int64)


def _crossings(bits: Any, owner: IntArray) -> list[tuple[int, int]]:
    """(source tenant, owner tenant) for every owned node another tenant's data reaches."""
    owned = np.flatnonzero(owner >= 0)
    if not len(owned):
        return []
    rows = bits[owned].copy()
    own = owner[owned]
    rows[np.arange(len(owned)), own // 64] &= ~np.left_shift(np.uint64(1), (own % 64).astype(np.uint64))
    hit = np.flatnonzero(rows.any(axis=1))
    found: set[tuple[int, int]] = set()
    for position in hit.tolist():
        for word, value in enumerate(rows[position].tolist()):
            rest = value
            while rest:
                low = rest & -rest
                found.add((word * 64 + low.bit_length() - 1, int(own[position])))
                rest ^= low
    return sorted(found)


def _reached_by_tenant(tree: Traversal, owner: dict[int, str], tenant: str) -> dict[str, list[int]]:
    reached: dict[str, list[int]] = {}
    for node in tree.order[1:]:  # order[0] is the virtual root
        other = owner.get(int(node))
        if other is not None and other != tenant:
            reached.setdefault(other, []).append(int(node))
    return reached
