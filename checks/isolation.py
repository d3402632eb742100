"""ISO-*: client data does not reach training, except through the gates that make it safe,
and no tenant's data reaches another tenant."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, NoParams, Outcome, Routes
from audit.coverage import CoverageGap
from audit.graph.classes import holding_store_ids
from audit.graph.compiled import IntArray
from audit.graph.model import DataGraph, NodeType
from audit.graph.rules import Violation, gate_scope, node_numbers, tenant_isolation
from audit.graph.violations import rule_violation
from checks.routes import cut_findings, edge_out, entity_name, routes_outcome, stated_at, step

TRAINING_CHECKS = ("ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005")


class FromClasses(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_classes: list[str] = Field(min_length=1)


class FromClassesThroughGates(FromClasses):
    through: list[str] = Field(min_length=1)
    gate_claims: dict[str, list[str]] = Field(default_factory=dict)


def _describe(violation: Violation) -> str:
    hops = len(violation.path) - 1
    state = (
        "the path is in use (declared edges only)"
        if violation.kind == "declared"
        else ("the path is permitted but not known to be in use (potential)")
    )
    return f"{hops} hop{'s' if hops != 1 else ''}; {state}"


def _training_scope(ctx: CheckContext[Any], source_count: int, sinks: list[str]) -> Iterator[CoverageGap]:
    """Fail closed: with nothing to check from, or nothing to check against, no pass."""
    if not source_count:
        yield ctx.gap(
            f"check:{ctx.check.id}",
            f"no store holds data of class {', '.join(ctx.params.from_classes)}: "
            "there is nothing to prove the claim against (classify the stores that hold it)",
        )
    if not sinks:
        yield ctx.gap(
            f"check:{ctx.check.id}",
            "the inventory has no training sink (no store of class 'training', no job of kind "
            "'training'): a path to training cannot be ruled out",
        )


def no_path_to_training(ctx: CheckContext[FromClasses]) -> Iterator[Outcome]:
    """No store of the ``from_classes`` reaches a training sink (ISO-001, ISO-002).

    A training sink is a store of a class marked ``training_sink`` (built in: ``training``)
    or a job of kind ``training``. One finding per source store, with the shortest path to
    its nearest sink: *declared* if data moves along it today, else *potential*. With no
    store of the classes, or no training sink, the check reports a coverage gap: it cannot
    prove a negative about data it cannot see.

    Example finding::

        ISO-002-5005cf2c842d  CRITICAL  declared
        acme-workspace (enterprise) reaches training sink pretrain-mix: 6 hops
          acme-workspace -reads-> ticket-feature-extract -writes-> ticket-features
          -reads-> feature-export -writes-> feature-store -reads-> mix-augment -writes-> pretrain-mix
    """
    graph = ctx.graph
    sources = graph.class_store_ids(ctx.params.from_classes)
    sinks = graph.training_sinks()
    yield from _training_scope(ctx, len(sources), sinks)
    yield from cut_findings(
        ctx, sources, node_numbers(graph.compiled, sinks), None, advice=_ADVICE.get(ctx.check.id, "")
    )


def only_through_gates(ctx: CheckContext[FromClassesThroughGates]) -> Iterator[Outcome]:
    """Stores of the ``from_classes`` reach training only through nodes carrying every gate
    in ``through`` (ISO-003, ISO-004, ISO-005).

    For each gate kind, every node that carries it (a gate job, or a principal whose every
    job carries it) is removed and reachability re-tested; what still reaches a sink
    bypasses that gate. A store marked ``passed_gates: [g]`` is not an origin for gate g,
    but every path into it is still checked from the true origin. ``gate_claims`` maps a
    gate to the claims its bypass breaks.

    Example finding::

        ISO-004-0ed469635fc5  HIGH  declared  (C3)
        consumer-chats-opt-in reaches training sink sft-chats without passing a consent-filter gate
          consumer-chats-opt-in -reads-> chat-debug-export -writes-> consented-chats
          -reads-> pii-scrub -writes-> sft-chats
    """
    graph = ctx.graph
    sources = graph.class_store_ids(ctx.params.from_classes)
    sinks = graph.training_sinks()
    yield from _training_scope(ctx, len(sources), sinks)
    for voided in graph.voided_gates:
        if voided.gate in ctx.params.through:
            yield ctx.gap(
                f"principal:{voided.principal}",
                f"the {voided.gate} gate marked on principal {voided.principal} is not applied: {voided.reason}; "
                "every route through it is checked like any other (remove the mark, or the other use of the role)",
            )
    sink_ids = node_numbers(graph.compiled, sinks)
    for gate in ctx.params.through:
        origins, blocked = gate_scope(graph, sources, gate)
        yield from cut_findings(
            ctx,
            origins,
            sink_ids,
            blocked,
            rule=gate,
            title=f"{ctx.check.title}: bypasses {gate}",
            claims=ctx.params.gate_claims.get(gate),
            advice=f"Route the data through the {gate} job instead.",
        )


def tenants_isolated(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No tenant's stores reach another tenant's stores or principals (ISO-006).

    One finding per ordered pair of tenants, with the path to the nearest node of the other
    tenant and the list of every such node reached. Tenants that own no store, or fewer
    than two tenants owning stores, are coverage gaps.

    Example finding::

        ISO-006-0761f0d97c4a  CRITICAL  declared
        data of tenant acme-corp (from acme-workspace) reaches globex-app-role of tenant globex
          acme-workspace -reads-> tenant-benchmark-join -writes-> cross-tenant-benchmarks
          -reads-> globex-dashboard-export -runs-as-> globex-app-role
    """
    graph = ctx.graph
    owners = set(compress(graph.column("tenant"), graph.type_mask(NodeType.STORE).tolist())) - {None}
    for tenant in sorted(set(ctx.inventory.tenants) - owners):
        yield ctx.gap(f"tenant:{tenant}", f"tenant {tenant} owns no described store: its isolation was not checked")
    if len(owners) < 2:
        yield ctx.gap(
            f"check:{ctx.check.id}",
            "fewer than two tenants own stores: tenant isolation cannot be demonstrated "
            "(set 'tenant' on each tenant's stores and principals)",
        )
    stores, owned = _tenant_nodes(graph)
    for result in tenant_isolation(graph):
        violation = result.violation
        reached = [entity_name(n) for n in result.reached]
        pair = f"{result.from_tenant}->{result.to_tenant}"
        found = rule_violation(graph, stores[result.from_tenant], owned[result.to_tenant])
        yield routes_outcome(found, pair)
        cuts = [e for c in found.cuts for e in (c.edge, *found.also_cut.get(c.edge.id, ()))]
        first = found.cuts[0] if found.cuts else None
        yield ctx.finding(
            endpoints=(f"tenant:{result.from_tenant}", f"tenant:{result.to_tenant}"),
            kind=violation.kind,
            violation=violation,
            message=(
                f"data of tenant {result.from_tenant} (from {entity_name(violation.source)}) reaches "
                f"{entity_name(violation.target)} of tenant {result.to_tenant}: {_describe(violation)}"
            ),
            details={
                "from_tenant": result.from_tenant,
                "to_tenant": result.to_tenant,
                "reached": reached[:50],
                "reached_count": len(reached),
                "cut_edges": [edge_out(e) for e in cuts],
            },
            cut_edge=None if first is None else edge_out(first.edge, location=stated_at(graph.evidence(first.eid))),
            remediation=ctx.check.remediation + (" Cut here: " + "; ".join(map(step, cuts)) + "." if cuts else ""),
        )


def unclassified_reaches_training(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Every store with no ``classes`` that reaches a training sink (ISO-007), unless it
    holds classes by derivation (it receives classified data along declared edges: its
    content is known to that extent, and the path rules follow it from the origin).

    What such a store holds is unknown, so besides the finding it raises a coverage gap on
    the training checks (ISO-001..ISO-005): their claims become insufficient-evidence until
    the store is classified.

    Example finding::

        ISO-007-eb1112fd14d1  MEDIUM  declared
        unclassified store research-scratch reaches training sink pretrain-mix
          research-scratch -reads-> scratch-mix -writes-> pretrain-mix
    """
    graph = ctx.graph
    unknown = graph.unclassified_store_ids()
    # a store that holds classes only by derivation (a copy of classified data) is not unknown
    derived = holding_store_ids(graph, graph.inventory.data_classes)
    unknown = unknown[~np.isin(unknown, derived)]
    sinks = node_numbers(graph.compiled, graph.training_sinks())
    outcomes = list(cut_findings(ctx, unknown, sinks, None, advice="Classify the store (set 'classes') first."))
    yield from outcomes
    reaching = sorted({pair["source"] for o in outcomes if isinstance(o, Routes) for pair in o.pairs})
    for source in reaching:
        yield CoverageGap(
            scope=f"store:{source}",
            reason=f"store {source} is unclassified and reaches a training sink: whether it holds "
            "client data is unknown (give it 'classes')",
            checks=TRAINING_CHECKS,
        )


def _tenant_nodes(graph: DataGraph) -> tuple[dict[str, IntArray], dict[str, IntArray]]:
    """Per tenant, its stores and every node it owns (stores and principals), as compiled
    numbers."""
    rank = graph.compiled.rank
    tenants = graph.column("tenant")
    is_store = graph.type_mask(NodeType.STORE)
    stores: dict[str, list[int]] = {}
    owned: dict[str, list[int]] = {}
    for index, tenant in enumerate(tenants):
        if tenant is None:
            continue
        owned.setdefault(tenant, []).append(int(rank[index]))
        if is_store[index]:
            stores.setdefault(tenant, []).append(int(rank[index]))
    as_arrays = {t: np.asarray(v, dtype=np.int64) for t, v in stores.items()}
    return as_arrays, {t: np.asarray(v, dtype=np.int64) for t, v in owned.items()}


_ADVICE = {
    "ISO-001": "Keep API data in serving accounts only.",
    "ISO-002": "Derived datasets of tenant data must stay out of training inputs.",
}


CHECKS = (
    Check(
        id="ISO-001",
        title="Commercial API data does not reach training",
        severity="critical",
        claim_ids=("C1",),
        rationale="API customers are promised their inputs and outputs never train models; any path from "
        "API data to a training set or training job breaks that promise.",
        remediation="Remove the edge that starts the path: stop the job reading API data, or revoke the "
        "principal's read access to it; keep API data in serving accounts only.",
        evaluate=no_path_to_training,
        params=FromClasses,
        defaults={"from_classes": ["commercial-api"]},
    ),
    Check(
        id="ISO-002",
        title="Enterprise, government and education data does not reach training",
        severity="critical",
        claim_ids=("C2",),
        rationale="Enterprise, government and education tenants are contractually excluded from training.",
        remediation="Break the path: stop the reading job or revoke the read grant; derived datasets of "
        "tenant data must stay out of training inputs.",
        evaluate=no_path_to_training,
        params=FromClasses,
        defaults={"from_classes": ["enterprise", "gov", "education"]},
    ),
    Check(
        id="ISO-003",
        title="Opted-out consumer data reaches training only through the consent filter",
        severity="critical",
        claim_ids=("C3",),
        rationale="Consumers who did not opt in were promised their conversations never train models; the "
        "consent filter is what drops their records, so any route to training around it trains on them.",
        remediation="Route every pipeline that feeds training from consumer data through the consent-filter "
        "job; remove the exports, copies and grants that go around it.",
        evaluate=only_through_gates,
        params=FromClassesThroughGates,
        defaults={"from_classes": ["consumer-opt-out"], "through": ["consent-filter"]},
    ),
    Check(
        id="ISO-004",
        title="Opted-in consumer data reaches training only through the consent filter and PII scrub",
        severity="high",
        claim_ids=("C3", "C6"),
        rationale="Opt-in consent covers data that passed the consent filter and was scrubbed of personal "
        "data; a path around either gate trains on data the consent does not cover.",
        remediation="Route the path through the consent-filter and pii-scrub jobs; remove direct exports "
        "and grants that bypass them.",
        evaluate=only_through_gates,
        params=FromClassesThroughGates,
        defaults={
            "from_classes": ["consumer-opt-in"],
            "through": ["consent-filter", "pii-scrub"],
            "gate_claims": {"consent-filter": ["C3"], "pii-scrub": ["C6"]},
        },
    ),
    Check(
        id="ISO-005",
        title="Feedback reaches training only after de-linking",
        severity="high",
        claim_ids=("C5",),
        rationale="Feedback must be de-linked from user identity before any training use.",
        remediation="Route feedback through the de-link job before it reaches a training set; revoke "
        "direct reads of raw feedback by training principals.",
        evaluate=only_through_gates,
        params=FromClassesThroughGates,
        defaults={"from_classes": ["feedback"], "through": ["de-link"]},
    ),
    Check(
        id="ISO-006",
        title="No tenant's data reaches another tenant",
        severity="critical",
        claim_ids=("C11",),
        rationale="Each tenant is promised its data is isolated from every other tenant.",
        remediation="Separate the tenants along the path: per-tenant stores and roles, no shared "
        "intermediate store, no principal that reads one tenant and writes another.",
        evaluate=tenants_isolated,
    ),
    Check(
        id="ISO-007",
        title="Every store that reaches training is classified",
        severity="medium",
        claim_ids=("C1", "C2", "C3", "C5", "C6"),
        rationale="An unclassified store that feeds training may hold client data; until it is classified "
        "no training claim can be proven.",
        remediation="Classify the store (set 'classes'); if it holds client data, remove its path to training.",
        evaluate=unclassified_reaches_training,
    ),
)
