"""SEP-*: client data is processed on infrastructure separate from training (C7).

Zones come from accounts: a store lives in its account, a principal in its account, a job
in its own account or its runs-as principal's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from audit.checkapi import Check, CheckContext, NoParams, Outcome
from audit.graph.model import KIND_CODE, EdgeKind, NodeType
from audit.graph.rules import Violation, witness

WRITE_EDGES = ("writes", "can-write")
READ_EDGES = ("reads", "can-read")


def _edge(ctx: CheckContext[NoParams], u: str, v: str, kinds: tuple[str, ...]) -> tuple[Violation, Any] | None:
    chosen = [d for d in ctx.graph.edges_between(u, v) if d["kind"] in kinds]
    if not chosen:
        return None
    declared = any(d["declared"] for d in chosen)
    path = witness(ctx.graph, [u, v], declared_only=declared)
    return Violation(u, v, "declared" if declared else "potential", path), chosen


def training_sinks_in_training_zone(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Training sets and training jobs live in accounts of zone ``training`` (SEP-001).

    A training job's account is its own, or its runs-as principal's. An unknown zone is a
    coverage gap.

    Example finding::

        SEP-001-3c2b1a0f9e8d  MEDIUM  declared
        training job quick-finetune runs in account serving (zone serving), not in a training account
    """
    if not ctx.graph.training_sinks():
        yield ctx.nothing_in_scope("training sink (store of class training, job of kind training)")
    for node in ctx.graph.training_sinks():
        data = ctx.graph.node(node)
        name, kind = data["entity"], data["node_type"]
        if data["zone"] in (None, "unknown"):
            yield ctx.gap(node, f"the zone of {kind} {name} is unknown: give its account (and the account's zone)")
            continue
        if data["zone"] == "training":
            continue
        entity = ctx.inventory.stores.get(name) if kind == NodeType.STORE.value else ctx.inventory.jobs.get(name)
        account = ctx.inventory.accounts.get(data["account"] or "")
        evidence = [ctx.evidence(entity, "account" if kind == "store" else "runs_as")] if entity else []
        if account is not None:
            evidence.append(ctx.evidence(account, "zone"))
        label = "training set" if kind == NodeType.STORE.value else "training job"
        where = account.name if account else data["account"]
        yield ctx.node_finding(
            kind,
            name,
            evidence=evidence,
            message=(f"{label} {name} runs in account {where} (zone {data['zone']}), not in a training account"),
        )


def serving_cannot_write_training(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No principal or job of a serving account can write a training set (SEP-002).

    Example finding::

        SEP-002-8d7c6b5a4f3e  HIGH  potential
        ingest-role (serving) can write training set pretrain-mix
    """
    if not ctx.graph.training_sinks():
        yield ctx.nothing_in_scope("training sink (store of class training, job of kind training)")
    for sink in ctx.graph.training_sinks():
        if ctx.graph.node(sink)["node_type"] != NodeType.STORE.value:
            continue
        for writer in ctx.graph.predecessors(sink):
            if ctx.graph.node(writer)["zone"] != "serving":
                continue
            found = _edge(ctx, writer, sink, WRITE_EDGES)
            if found is None:
                continue
            violation, _ = found
            yield ctx.finding(
                endpoints=(writer, sink),
                kind=violation.kind,
                violation=violation,
                message=f"{ctx.graph.node(writer)['entity']} (serving) can write training set "
                f"{ctx.graph.node(sink)['entity']}",
            )


def training_reads_serving_through_gates(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No principal or job of a training account reads a serving store directly unless it
    is a gate (SEP-003): the gates are the sanctioned crossing between the zones.

    Example finding::

        SEP-003-6b5a4f3e2d1c  MEDIUM  potential
        eval-dashboard-role (training) reads serving store api-logs directly and performs no gate
    """
    zones = {a.zone for a in ctx.inventory.accounts.values()}
    if not {"serving", "training"} <= zones:
        yield ctx.nothing_in_scope("serving and training accounts (zones)")
    graph = ctx.graph
    frozen, keys = graph.frozen, graph.keys
    zone, gates = graph.column("zone"), graph.column("gates")
    serving_store = graph.type_mask(NodeType.STORE) & np.fromiter((z == "serving" for z in zone), np.bool_, len(zone))
    ungated_training = np.fromiter(
        (z == "training" and not g for z, g in zip(zone, gates, strict=True)), np.bool_, len(zone)
    )
    reading = np.isin(frozen.kind, [KIND_CODE[EdgeKind(k)] for k in READ_EDGES])
    crossing = np.flatnonzero(reading & serving_store[frozen.src] & ungated_training[frozen.dst])
    pairs = sorted({(keys[int(frozen.src[e])], keys[int(frozen.dst[e])]) for e in crossing})
    for store, reader in pairs:  # only the edges that cross, not every store's readers
        data = graph.node(reader)
        found = _edge(ctx, store, reader, READ_EDGES)
        if found is None:
            continue
        violation, _ = found
        yield ctx.finding(
            endpoints=(store, reader),
            kind=violation.kind,
            violation=violation,
            message=f"{data['entity']} (training) reads serving store {ctx.graph.node(store)['entity']} "
            "directly and performs no gate",
        )


CHECKS = (
    Check(
        id="SEP-001",
        title="Training runs in training accounts",
        severity="medium",
        claim_ids=("C7",),
        rationale="Keeping training sets and training jobs in dedicated accounts is what makes the separation "
        "from client-serving infrastructure enforceable by account boundaries.",
        remediation="Move the training set or job to a training-zone account; if the account is a training "
        "account, set its zone.",
        evaluate=training_sinks_in_training_zone,
    ),
    Check(
        id="SEP-002",
        title="Serving infrastructure cannot write training data",
        severity="high",
        claim_ids=("C7",),
        rationale="A serving principal that can write a training set is a direct channel from client traffic "
        "into training, bypassing every gate.",
        remediation="Remove the write grant (identity policy, bucket policy) from the serving principal; feed "
        "training only through the gate jobs.",
        evaluate=serving_cannot_write_training,
    ),
    Check(
        id="SEP-003",
        title="Training infrastructure reads serving data only through gates",
        severity="medium",
        claim_ids=("C7",),
        rationale="Gates (consent filter, PII scrub, de-link) are the sanctioned crossing from serving to "
        "training; any other training-side reader of serving data is an unreviewed crossing.",
        remediation="Remove the read grant, or route the data through a gate job with its own dedicated role.",
        evaluate=training_reads_serving_through_gates,
    ),
)
