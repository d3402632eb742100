"""Graph rules: no-path, only-through (gates) and tenant-isolation.

Each violation carries a shortest witness path and the evidence of every edge on it.
A violation is *declared* when a path made of declared edges alone exists (data does
move that way); otherwise it is *potential* (data is permitted to move that way).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from audit.graph.compiled import UNREACHED, BoolArray, CompiledGraph, IntArray, Traversal, spans
from audit.graph.containment import containment_hops
from audit.graph.frozen import EdgeData
from audit.graph.model import DataGraph, Evidence, NodeType

Kind = Literal["declared", "potential"]
CONTAINED_IN = "contained-in"  # a witness hop: the store before it lies inside this one


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

    def hop(node: str, edge: EdgeData | None) -> Hop:
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
        inside = containment_hops(graph, best.eid)
        if inside is not None:  # data of a store inside a container that moves whole: two steps
            container, containment, moved = inside
            data = graph.node(container)
            hops.append(Hop(container, data["node_type"], data["entity"], CONTAINED_IN, True, False, (containment,)))
            step = hop(v, best)
            hops.append(Hop(step.node, step.node_type, step.entity, step.edge, step.declared, step.conditional, moved))
            continue
        hops.append(hop(v, best))
    return tuple(hops)


Nodes = Sequence[str] | IntArray  # node keys, or compiled node numbers


def node_numbers(compiled: CompiledGraph, nodes: Nodes) -> IntArray:
    if isinstance(nodes, np.ndarray):
        return nodes.astype(np.int64, copy=False)
    return np.fromiter(map(compiled.index.__getitem__, nodes), np.int64, len(nodes))


def _violations_to_sinks(
    graph: DataGraph, sources: Nodes, sinks: Nodes, blocked: BoolArray | None = None
) -> list[Violation]:
    """One violation per source that reaches any sink, with the path to its nearest sink."""
    compiled = graph.compiled
    source_ids, sink_ids = node_numbers(compiled, sources), node_numbers(compiled, sinks)
    if not len(source_ids) or not len(sink_ids):
        return []
    open_sources = np.ones(len(source_ids), dtype=np.bool_) if blocked is None else ~blocked[source_ids]
    found: dict[int, Violation] = {}  # by position in sources
    for kind, declared_only in (("declared", True), ("potential", False)):
        tree = compiled.bfs(sink_ids, reverse=True, declared_only=declared_only, blocked=blocked)
        reached = open_sources & (tree.parent[source_ids] != UNREACHED)
        for position in np.flatnonzero(reached).tolist():  # only the sources that do reach a sink
            if position in found:
                continue
            path = [compiled.nodes[i] for i in tree.chain(int(source_ids[position]))]
            found[position] = Violation(
                path[0],
                path[-1],
                kind,  # type: ignore[arg-type]
                witness(graph, path, declared_only=declared_only),
            )
    return [found[p] for p in sorted(found)]


def no_path(graph: DataGraph, sources: Nodes, sinks: Nodes) -> list[Violation]:
    """Every source store that reaches a sink, in the order of ``sources``."""
    return _violations_to_sinks(graph, sources, sinks)


def only_through(graph: DataGraph, sources: Nodes, sinks: Nodes, gates: Iterable[str]) -> list[tuple[str, Violation]]:
    """For each gate kind, the sources that reach a sink on a path avoiding every node
    that carries the gate. A source whose data already passed the gate is not an origin."""
    source_ids = node_numbers(graph.compiled, sources)
    results: list[tuple[str, Violation]] = []
    for gate in gates:
        origins, blocked = gate_scope(graph, source_ids, gate)
        results.extend((gate, v) for v in _violations_to_sinks(graph, origins, sinks, blocked))
    return results


def gate_scope(graph: DataGraph, sources: IntArray, gate: str) -> tuple[IntArray, BoolArray]:
    """What an only-through rule for ``gate`` searches from and around: the sources whose
    data has not passed the gate yet, and the nodes that carry it (dead ends)."""
    return sources[~_holding(graph, "passed_gates", gate)[sources]], _holding(graph, "gates", gate)


def _holding(graph: DataGraph, column: str, gate: str) -> BoolArray:
    """Per compiled node: does its ``column`` (``gates``: it carries the gate;
    ``passed_gates``: its data has passed it) hold the gate?"""
    by_gate: dict[str, list[int]] | None = graph.memo.get(("gate-holders", column))
    if by_gate is None:  # one pass over the nodes for every gate kind: few nodes hold one
        by_gate = graph.memo[("gate-holders", column)] = {}
        values = graph.column(column)
        for index in compress(range(len(values)), values):  # the nodes with any gate
            for kind in values[index]:
                by_gate.setdefault(kind, []).append(index)
    compiled = graph.compiled
    mask = np.zeros(compiled.size, dtype=np.bool_)
    mask[compiled.rank[by_gate.get(gate, [])]] = True
    return mask


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
    along it in topological order, over all edges. Only tenants whose data does reach
    another's are then traversed: over declared edges (a pair they carry is *declared*),
    then over all edges for the rest, with the witness paths.
    """
    compiled = graph.compiled
    column = graph.column("tenant")
    tenants = sorted(set(column) - {None})
    if not tenants:
        return []
    number: dict[str | None, int] = {tenant: i for i, tenant in enumerate(tenants)}
    number[None] = -1
    owner = np.empty(compiled.size, dtype=np.int64)  # tenant of a store or principal, else -1
    owner[compiled.rank] = np.fromiter(map(number.__getitem__, column), np.int64, len(column))
    stores = np.zeros(compiled.size, dtype=np.bool_)
    stores[compiled.rank] = graph.type_mask(NodeType.STORE)
    seed = np.where(stores, owner, -1)  # tenant of a store: where its data starts
    crossed: dict[int, set[str]] = {}  # source tenant -> the tenants its data reaches
    for source, target in _crossings(*_tenant_reach(compiled, seed, len(tenants)), owner):
        crossed.setdefault(source, set()).add(tenants[target])
    if not crossed:
        return []
    by_tenant = np.argsort(seed, kind="stable")  # store numbers grouped by tenant
    bounds = np.searchsorted(seed[by_tenant], np.arange(len(tenants) + 1))
    results: list[TenantViolation] = []
    for source, wanted in sorted(crossed.items()):
        tenant = tenants[source]
        found: dict[str, TenantViolation] = {}
        for kind, declared_only in (("declared", True), ("potential", False)):
            if not wanted - set(found):
                continue
            tree = compiled.bfs(by_tenant[bounds[source] : bounds[source + 1]], declared_only=declared_only)
            for code, reached in _reached_by_tenant(tree, owner, source).items():
                other = tenants[code]
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


def _tenant_reach(compiled: CompiledGraph, seed: IntArray, tenants: int) -> tuple[Any, IntArray]:
    """Per strongly connected component, a bitset (uint64 words) of the tenants whose stores
    reach it; and each node's component."""
    src, dst = compiled.src, compiled.dst
    count, found = connected_components(compiled.adjacency(), directed=True, connection="strong")
    labels: IntArray = found.astype(np.int64)  # int32 from scipy: label * count would overflow
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
        chosen = spans(starts[frontier], starts[frontier + 1])
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
    return bits, labels


def _crossings(bits: Any, labels: IntArray, owner: IntArray) -> list[tuple[int, int]]:
    """(source tenant, owner tenant) for every owned node another tenant's data reaches."""
    owned = np.flatnonzero(owner >= 0)
    if not len(owned):
        return []
    rows = bits[labels[owned]]
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


def _reached_by_tenant(tree: Traversal, owner: IntArray, tenant: int) -> dict[int, list[int]]:
    """The nodes of other tenants a traversal reached, by tenant, nearest first."""
    order = tree.order[1:]  # order[0] is the virtual root
    owners = owner[order]
    other = (owners >= 0) & (owners != tenant)
    reached: dict[int, list[int]] = {}
    for node, whose in zip(order[other].tolist(), owners[other].tolist(), strict=True):
        reached.setdefault(whose, []).append(node)
    return reached
