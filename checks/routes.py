"""Findings of the path rules at the places to fix: one per edge of the minimum cut between
a rule's sources and sinks, each naming every source whose data crosses it, every sink it
leads to, where the edge is stated, and a witness path through it; and the rule's whole
violation (every route's edges and pairs) for report.json, which `diff` judges routes by."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from audit.checkapi import CheckContext, Outcome, Routes
from audit.graph.compiled import BoolArray, IntArray
from audit.graph.model import DataGraph, Evidence
from audit.graph.rules import Violation, witness
from audit.graph.violations import Cut, RouteEdge, RuleViolation, rule_violation

SHOWN = 5  # sources and sinks named in a message; details list up to LISTED
LISTED = 50
_UNLOCATED = ("(graph)", "(policy evaluation)", "(inventory)", "(input)")


def entity_name(node: str) -> str:
    """A graph node's entity (``store:api-logs`` -> ``api-logs``; ``public`` stays)."""
    return node.partition(":")[2] or node


def stated_at(evidence: Sequence[Evidence]) -> str:
    """Where an edge is stated: the first of its evidence that names a place in an input."""
    for item in evidence:
        if item.kind in ("containment", "iam-layers", "iam-assumption"):
            continue  # the statement that moves the data is the place to fix, not the nesting
        if item.location and item.location not in _UNLOCATED and not item.location.startswith("store "):
            return item.location
    return evidence[0].location if evidence else "(graph)"


def _listing(nodes: Sequence[str]) -> str:
    names = [entity_name(n) for n in nodes]
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def edge_out(edge: RouteEdge, **extra: Any) -> dict[str, Any]:
    """An edge as report.json names it: its id, its ends by entity, its kind."""
    return {
        "id": edge.id,
        "source": entity_name(edge.source),
        "kind": edge.kind,
        "target": entity_name(edge.target),
        **extra,
    }


def step(edge: RouteEdge) -> str:
    """An edge in words: ``api-logs -reads-> export``."""
    return f"{entity_name(edge.source)} -{edge.kind}-> {entity_name(edge.target)}"


def routes_outcome(found: RuleViolation, rule: str = "") -> Routes:
    return Routes(
        rule=rule,
        edges=[edge_out(e, declared=e.declared) for e in found.edges],
        pairs=[{"source": entity_name(s), "sink": entity_name(t), "declared": d} for s, t, d in found.pairs],
        pair_count=found.pair_count,
        cut=[e.id for c in found.cuts for e in (c.edge, *found.also_cut.get(c.edge.id, ()))],
    )


def cut_findings(
    ctx: CheckContext[Any],
    sources: IntArray,
    sinks: IntArray,
    blocked: BoolArray | None,
    *,
    rule: str = "",
    sink_word: str = "training sink",
    title: str | None = None,
    claims: list[str] | None = None,
    advice: str = "",
) -> Iterator[Outcome]:
    """The rule's violation, and one finding per cut edge."""
    graph = ctx.graph
    found = rule_violation(graph, sources, sinks, blocked)
    if found.edges or found.cuts:
        yield routes_outcome(found, rule)
    for cut in found.cuts:
        others = found.also_cut.get(cut.edge.id, [])
        yield _finding(
            ctx, graph, cut, others, rule=rule, sink_word=sink_word, title=title, claims=claims, advice=advice
        )
    yield from _sources_that_are_sinks(ctx, sources, sinks, rule=rule, sink_word=sink_word, title=title, claims=claims)


def _finding(
    ctx: CheckContext[Any],
    graph: DataGraph,
    cut: Cut,
    others: list[RouteEdge],
    *,
    rule: str,
    sink_word: str,
    title: str | None,
    claims: list[str] | None,
    advice: str,
) -> Outcome:
    edge = cut.edge
    where = stated_at(graph.evidence(cut.eid))
    named = step(edge)
    sources, sinks = cut.sources, cut.sinks
    state = "in use (declared edges only)" if cut.violation.kind == "declared" else "permitted (potential)"
    gate = f" without passing a {rule} gate" if rule else ""
    message = (
        f"{len(sources)} source{'s' if len(sources) != 1 else ''} ({_listing(sources)}) "
        f"{'reaches' if len(sources) == 1 else 'reach'} "
        f"{len(sinks)} {sink_word}{'s' if len(sinks) != 1 else ''} ({_listing(sinks)}){gate} across {named}; "
        f"a route through it is {state}"
    )
    remediation = f"Remove or gate the edge {named}, stated at {where}"
    if others:
        more = "; ".join(map(step, others))
        remediation += f", and with it {more}"
        message += f" (and {len(others)} more edge{'s' if len(others) != 1 else ''} of the same cause)"
    remediation += ": every route above crosses them." if others else ": every route above crosses it."
    if advice:
        remediation += f" {advice}"
    return ctx.finding(
        endpoints=(edge.source, edge.kind, edge.target, *((rule,) if rule else ())),
        kind=cut.violation.kind,
        violation=cut.violation,
        title=title,
        message=message,
        claims=claims,
        remediation=remediation,
        cut_edge=edge_out(edge, location=where),
        details={
            "source": entity_name(cut.violation.source),
            "sink": entity_name(cut.violation.target),
            "sources": [entity_name(n) for n in sources[:LISTED]],
            "source_count": len(sources),
            "sinks": [entity_name(n) for n in sinks[:LISTED]],
            "sink_count": len(sinks),
            "cut_edges": [edge_out(e) for e in (edge, *others)],
            **({"bypassed_gate": rule} if rule else {}),
        },
    )


def _sources_that_are_sinks(
    ctx: CheckContext[Any],
    sources: IntArray,
    sinks: IntArray,
    *,
    rule: str,
    sink_word: str,
    title: str | None,
    claims: list[str] | None,
) -> Iterator[Outcome]:
    """A store that is itself a sink (training data of a protected class) has no edge to
    cut: it is a finding of its own."""
    graph = ctx.graph
    for node in np.intersect1d(sources, sinks).tolist():
        key = graph.compiled.nodes[node]
        hops = witness(graph, [key], declared_only=True)
        violation = Violation(key, key, "declared", hops)
        yield ctx.finding(
            endpoints=(key, *((rule,) if rule else ())),
            kind="declared",
            violation=violation,
            title=title,
            message=f"{entity_name(key)} is itself a {sink_word}",
            claims=claims,
            remediation=f"Take {entity_name(key)} out of training, or reclassify it if it holds no such data.",
            details={"source": entity_name(key), "sink": entity_name(key), "source_count": 1, "sink_count": 1},
        )
