"""Containment: a bucket holds the prefix stores inside it, a prefix its sub-prefixes.

Data that leaves a container whole carries the data of every store inside it. The edges
that move a container whole are the ones its inventory states of the whole store: a job
that reads it, a replication of it, a flow from it, access described on it (``can_read``).
For each of them and each store inside the container, an edge of the same kind runs from
the inner store to the same target, proved by :class:`Contained`: the containment and the
container's own statement. A witness path shows it as two hops, ``inner -contained-in->
container -reads-> job`` (:func:`containment_hops`).

IAM grants need no such edge: the access deriver evaluates every store under the bucket
policy statements whose Resource covers it (a grant confined to another prefix reaches
neither the inner store nor, through it, its data). Data written into a container lands in
the container, not in the stores inside it: a write reaches an inner store only when its
location is inside that store (the lineage and location resolution see to that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.graph.evidence import Evidence
from audit.graph.kinds import KIND_CODE, EdgeKind, NodeType, node_key
from audit.model import Entity, Store

if TYPE_CHECKING:
    from audit.graph.model import DataGraph, Proof

WHOLE_STORE_KINDS = (EdgeKind.READS, EdgeKind.REPLICATES, EdgeKind.FLOWS, EdgeKind.CAN_READ)


class Contained:
    """The proof of an edge from a store inside a container: the container's edge (to the
    same target, of the same kind) and the containment."""

    __slots__ = ("container", "inner", "moved")

    def __init__(self, inner: Store, container: Store, moved: tuple[Evidence, ...]) -> None:
        self.inner = inner
        self.container = container
        self.moved = moved  # the evidence of the container's own edge

    def containment(self) -> Evidence:
        inner, container = self.inner, self.container
        where = inner.provenance.at("arn" if inner.arn else "location") if inner.provenance else "(inventory)"
        return Evidence(
            kind="containment",
            location=where,
            detail=f"{inner.id} ({_where(inner)}) is inside {container.id} ({_where(container)}): "
            f"what moves {container.id} whole moves {inner.id}'s data too",
        )

    def evidence(self) -> tuple[Evidence, ...]:
        return (self.containment(), *self.moved)


def _where(store: Store) -> str:
    return store.arn or store.location or store.id


def add_containment_edges(graph: DataGraph) -> None:
    """For every store inside another, the container's whole-store edges from it too."""
    inv = graph.inventory
    inner_stores = [(store, inv.enclosing(store)) for store in inv.sorted_stores()]
    inner_stores = [(store, around) for store, around in inner_stores if around]
    if not inner_stores:
        return
    outgoing = _whole_store_edges(graph, {c.id for _, around in inner_stores for c in around})
    number = graph.numbers
    located = {store.id: inv.s3_location(store) or "" for store, _ in inner_stores}
    src: list[int] = []
    dst: list[int] = []
    kind: list[int] = []
    proofs: list[Proof] = []
    for store, around in inner_stores:
        me = number[node_key(NodeType.STORE, store.id)]
        for container in around:
            for target, edge_kind, moved, part in outgoing.get(container.id, ()):
                inner = located[store.id]
                if target == me or (part is not None and not (inner.startswith(part) or part.startswith(inner))):
                    continue  # the edge moves another part of the container
                src.append(me)
                dst.append(target)
                kind.append(KIND_CODE[edge_kind])
                proofs.append(Contained(store, container, moved))
    if src:
        graph.add_numbered_edges(src, dst, kind, proofs)


Outgoing = dict[str, list[tuple[int, EdgeKind, tuple[Evidence, ...], str | None]]]


def _whole_store_edges(graph: DataGraph, containers: set[str]) -> Outgoing:
    """Per container's id, the edges its inventory states of it: (target node, kind,
    evidence, the part of the store the edge moves when it is not the whole: an s3://
    location). Only containers: an estate's other stores need none of this evidence."""
    from audit.graph.build import Stated  # build imports this module

    inv = graph.inventory
    number = graph.numbers
    found: Outgoing = {}

    def add(store_id: str, target: str, edge_kind: EdgeKind, entity: Entity, fact: str, index: int | None) -> None:
        if store_id not in containers:
            return
        evidence = Stated(entity, fact, index).evidence()
        field_name = "from" if fact == "flow" else f"{fact}[{index}]"
        part = entity.provenance.scopes.get(field_name) if entity.provenance else None
        found.setdefault(store_id, []).append((number[target], edge_kind, evidence, part))

    for job in inv.jobs.values():
        for index, store_id in enumerate(job.reads):
            add(store_id, node_key(NodeType.JOB, job.id), EdgeKind.READS, job, "reads", index)
    for store in inv.stores.values():
        for index, target in enumerate(store.replicates_to):
            add(store.id, node_key(NodeType.STORE, target), EdgeKind.REPLICATES, store, "replicates_to", index)
    for flow in inv.flows:
        add(flow.source, node_key(NodeType.STORE, flow.to), EdgeKind.FLOWS, flow, "flow", None)
    for principal in inv.principals.values():
        for index, store_id in enumerate(principal.can_read):
            if store_id not in containers:
                continue
            where = principal.provenance.at(f"can_read[{index}]") if principal.provenance else "(inventory)"
            evidence = (
                Evidence(
                    kind="described-access",
                    location=where,
                    detail=f"{principal.id} can read {store_id} (described access)",
                ),
            )
            reader = number[node_key(NodeType.PRINCIPAL, principal.id)]
            part = principal.provenance.scopes.get(f"can_read[{index}]") if principal.provenance else None
            found.setdefault(store_id, []).append((reader, EdgeKind.CAN_READ, evidence, part))
    return found


def containment_hops(graph: DataGraph, eid: int) -> tuple[str, Evidence, tuple[Evidence, ...]] | None:
    """For an edge that only containment proves: (the container's node key, the containment
    evidence, the evidence of the container's edge); None for any other edge."""
    proofs = graph.frozen.proofs(eid)
    if not proofs or not all(isinstance(p, Contained) for p in proofs):
        return None
    chosen: list[Contained] = [p for p in proofs if isinstance(p, Contained)]
    first = chosen[0]  # the nearest container (they are added nearest first)
    moved = tuple(e for p in chosen if p.container is first.container for e in p.moved)
    return node_key(NodeType.STORE, first.container.id), first.containment(), moved
