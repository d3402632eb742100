"""ERA-*: a deletion request can reach every store personal data flows to (data-subject
rights: the right to erasure)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, Observation, Outcome
from audit.graph.model import NodeType
from audit.graph.rules import Violation, witness
from checks.retention import retention


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


def _erasers(ctx: CheckContext[ErasureParams]) -> set[str]:
    """Stores an erasure job touches (reads or writes)."""
    return {s for job in ctx.inventory.jobs.values() if job.kind == "erasure" for s in (*job.reads, *job.writes)}


def erasure_reaches_downstream(ctx: CheckContext[ErasureParams]) -> Iterator[Outcome]:
    """Every store downstream of personal data has a deletion path (ERA-001): a finite
    retention (lifecycle expiration) or a declared erasure job (``kind: erasure``) that
    touches it. Also reports, per source class, the stores a deletion request must reach.

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
    rows = []
    for node, (origin, path) in sorted(reach.items()):
        store = ctx.inventory.stores[ctx.graph.node(node)["entity"]]
        kept = retention(ctx.inventory, store, ctx)
        if store.id in erasers:
            how = "erasure job"
        elif kept is not None and kept.days is not None:
            how = f"expires after {kept.days} days"
        else:
            how = ""
        rows.append([ctx.graph.node(origin)["entity"], store.id, str(len(path) - 1), how or "none"])
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
    yield Observation(
        title="Where a deletion request must reach",
        columns=["from", "store", "hops", "deletion path"],
        rows=rows[:500],
        total=len(rows),
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
