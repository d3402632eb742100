"""ERA-*: a deletion request can reach every store personal data flows to (data-subject
rights: the right to erasure)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse.csgraph import shortest_path

from audit.checkapi import Check, CheckContext, Observation, Outcome
from audit.graph.model import NodeType
from audit.graph.rules import Violation, witness
from checks.retention import retention

REACH_ROWS = 500  # rows of the erasure-reach table kept in the report (every row is counted)
REACH_CELLS = 1 << 22  # distances computed at once: origins per block times the part searched


class ErasureParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_classes: list[str] = Field(
        default_factory=lambda: ["consumer-opt-in", "consumer-opt-out", "feedback"], min_length=1
    )


def _downstream(ctx: CheckContext[ErasureParams]) -> dict[str, tuple[str, list[str]]]:
    """Every store the classes' data flows to (declared edges), with the nearest origin's path."""
    compiled = ctx.graph.compiled
    origins = ctx.graph.class_store_ids(ctx.params.from_classes)
    if not len(origins):
        return {}
    tree = compiled.bfs(origins, declared_only=True)
    reached: dict[str, tuple[str, list[str]]] = {}
    for index in tree.order[1:]:
        node = compiled.nodes[int(index)]
        if ctx.graph.node(node)["node_type"] == NodeType.STORE.value:
            path = [compiled.nodes[i] for i in reversed(tree.chain(int(index)))]
            reached[node] = (path[0], path)
    return reached


def _reach_by_origin(ctx: CheckContext[ErasureParams], shown: int) -> tuple[list[tuple[str, str, int]], int]:
    """(origin, store, hops) for every origin and every store its data reaches along declared
    edges, the origin itself included (hops 0): a deletion request scoped from one origin must
    reach all of them, not only the stores that origin is the nearest to. Returns the first
    ``shown`` rows (by origin, hops, store) and the number of rows in all.

    Each origin's search runs on the part of the graph some origin reaches (one search from
    all of them finds it), a block of origins at a time, so memory stays bounded and the cost
    is the origins times that part, not the whole graph."""
    compiled = ctx.graph.compiled
    origins = ctx.graph.class_store_ids(ctx.params.from_classes)  # in key order: by id
    if not len(origins):
        return [], 0
    part = np.sort(compiled.bfs(origins, declared_only=True).order[1:])  # compiled numbers, ascending
    adjacency = compiled.matrix((), declared_only=True)[part][:, part]
    local = np.searchsorted(part, origins)
    is_store = np.array(
        [ctx.graph.node(compiled.nodes[int(i)])["node_type"] == NodeType.STORE.value for i in part], dtype=np.bool_
    )
    rows: list[tuple[str, str, int]] = []
    total = 0
    block = max(1, REACH_CELLS // len(part))
    for start in range(0, len(local), block):
        chunk = local[start : start + block]
        distances = np.atleast_2d(shortest_path(adjacency, unweighted=True, directed=True, indices=chunk))
        for origin, row in zip(part[chunk].tolist(), distances, strict=True):
            reached = np.flatnonzero(np.isfinite(row) & is_store)
            total += len(reached)
            if len(rows) < shown:
                hops = row[reached].astype(np.int64)
                for position in reached[np.lexsort((reached, hops))][: shown - len(rows)].tolist():
                    rows.append((compiled.nodes[origin], compiled.nodes[int(part[position])], int(row[position])))
    return rows, total


def _erasers(ctx: CheckContext[ErasureParams]) -> set[str]:
    """Stores an erasure job erases: the ones it writes (a deletion is a write to the store).
    A store it only reads (to find what to delete elsewhere) is not erased by it."""
    return {s for job in ctx.inventory.jobs.values() if job.kind == "erasure" for s in job.writes}


def erasure_reaches_downstream(ctx: CheckContext[ErasureParams]) -> Iterator[Outcome]:
    """Every store downstream of personal data has a deletion path (ERA-001): a finite
    retention (lifecycle expiration) or a declared erasure job (``kind: erasure``) that
    writes it (a job that only reads a store does not erase it). Also reports, for every
    origin, each store its data reaches: a deletion request scoped from that origin must
    reach them all, however many other origins also feed them.

    Example finding::

        ERA-001-4d3c2b1a0f9e  MEDIUM  declared
        sft-snapshots holds data derived from consumer-chats-opt-in but has no deletion path
          consumer-chats-opt-in -reads-> consent-filter -writes-> consented-chats -reads-> pii-scrub
          -writes-> sft-chats -reads-> sft-snapshot-job -writes-> sft-snapshots
    """
    erasers = _erasers(ctx)
    reach = _downstream(ctx)
    if not len(ctx.graph.class_store_ids(ctx.params.from_classes)):
        yield ctx.gap(
            f"check:{ctx.check.id}",
            f"no store holds {', '.join(ctx.params.from_classes)}: the reach of erasure cannot be shown",
        )
        return
    paths: dict[str, str] = {}  # store id -> how it is erased ("" when it is not)
    for node, (origin, path) in sorted(reach.items()):
        store = ctx.inventory.stores[ctx.graph.node(node)["entity"]]
        kept = retention(ctx.inventory, store, ctx)
        if store.id in erasers:
            how = "erasure job"
        elif kept is not None and kept.days is not None:
            how = f"expires after {kept.days} days"
        else:
            how = ""
        paths[store.id] = how
        if how:
            continue
        if kept is None:
            yield ctx.gap(node, f"{store.id} holds data derived from personal data and its retention is unknown")
            continue
        violation = Violation(origin, node, "declared", witness(ctx.graph, path, declared_only=True))
        yield ctx.finding(
            endpoints=(node,),
            kind="declared",
            violation=violation,
            message=f"{store.id} holds data derived from {ctx.graph.node(origin)['entity']} but has no "
            "deletion path (no expiration, no erasure job)",
        )
    entity = {node: ctx.graph.node(node)["entity"] for node in reach}
    shown, total = _reach_by_origin(ctx, REACH_ROWS)
    rows = [[entity[origin], entity[store], str(hops), paths[entity[store]] or "none"] for origin, store, hops in shown]
    yield Observation(
        title="Where a deletion request must reach",
        columns=["from", "store", "hops", "deletion path"],
        rows=rows,
        total=total,
    )


CHECKS = (
    Check(
        id="ERA-001",
        title="Erasure reaches every copy of personal data",
        severity="medium",
        claim_ids=("C12",),
        rationale="A deletion request is honoured only if it reaches every store the person's data flowed to; "
        "a derived copy with neither an expiration nor an erasure job keeps the data indefinitely.",
        remediation="Give the store a lifecycle expiration, or add it to the erasure job that processes "
        "deletion requests.",
        evaluate=erasure_reaches_downstream,
        params=ErasureParams,
    ),
)
