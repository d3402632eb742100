"""Graph rules: no-path, only-through (gates) and tenant-isolation.

Each violation carries a shortest witness path and the evidence of every edge on it.
A violation is *declared* when a path made of declared edges alone exists (data does
move that way); otherwise it is *potential* (data is permitted to move that way).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from audit.graph.compiled import BoolArray, Traversal
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

    def hop(node: str, edge: dict[str, Any] | None) -> Hop:
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
        candidates = [d for d in graph.nx.get_edge_data(u, v).values() if d["declared"] or not declared_only]
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
    found: dict[str, Violation] = {}
    for kind, declared_only in (("declared", True), ("potential", False)):
        tree = compiled.bfs(sink_ids, reverse=True, declared_only=declared_only, blocked=blocked)
        for source in sources:
            if source in found:
                continue
            index = compiled.index[source]
            if blocked is not None and blocked[index]:
                continue
            if tree.reached(index):
                path = [compiled.nodes[i] for i in tree.chain(index)]
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
    compiled = graph.compiled
    blocked = np.zeros(compiled.size, dtype=np.bool_)
    for node, data in graph.node_items():
        if gate in data["gates"]:
            blocked[compiled.index[node]] = True
    return blocked


@dataclass(frozen=True)
class TenantViolation:
    from_tenant: str
    to_tenant: str
    violation: Violation
    reached: tuple[str, ...]  # every node of the other tenant reached, nearest first


def tenant_isolation(graph: DataGraph) -> list[TenantViolation]:
    """Every ordered pair of tenants where one's data reaches the other's stores or principals."""
    compiled = graph.compiled
    owner: dict[int, str] = {}
    stores_of: dict[str, list[int]] = {}
    for node, data in graph.node_items():
        tenant = data["tenant"]
        if tenant is None:
            continue
        owner[compiled.index[node]] = tenant
        if data["node_type"] == NodeType.STORE.value:
            stores_of.setdefault(tenant, []).append(compiled.index[node])
    results: list[TenantViolation] = []
    for tenant in sorted(stores_of):
        found: dict[str, TenantViolation] = {}
        for kind, declared_only in (("declared", True), ("potential", False)):
            tree = compiled.bfs(stores_of[tenant], declared_only=declared_only)
            reached_by_tenant = _reached_by_tenant(tree, owner, tenant)
            for other, reached in reached_by_tenant.items():
                if other in found:
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


def _reached_by_tenant(tree: Traversal, owner: dict[int, str], tenant: str) -> dict[str, list[int]]:
    reached: dict[str, list[int]] = {}
    for node in tree.order[1:]:  # order[0] is the virtual root
        other = owner.get(int(node))
        if other is not None and other != tenant:
            reached.setdefault(other, []).append(int(node))
    return reached
