"""Findings: what a check concluded, with the path and evidence an auditor can follow."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.graph.model import Evidence, distinct_evidence
from audit.graph.rules import Hop, Violation

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
FindingKind = Literal["declared", "potential"]


def severity_rank(severity: str) -> int:
    """critical=4 ... low=1; anything else (``none``) 0."""
    order = {"critical": 4, "high": 3, "medium": 2, "low": 1}
    return order.get(severity, 0)


def lowered(severity: Severity) -> Severity:
    """One step down: a permitted path is one step less severe than a path in use."""
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]


def finding_id(check: str, *endpoints: str) -> str:
    """Stable across runs: derived from the check and the endpoints, never from order."""
    digest = hashlib.sha256("\x1f".join((check, *endpoints)).encode()).hexdigest()[:12]
    return f"{check}-{digest}"


class PathHop(BaseModel):
    model_config = ConfigDict(frozen=True)

    node: str
    node_type: str
    edge: str | None
    evidence: list[Evidence] = Field(default_factory=list)
    declared: bool = True
    conditional: bool = False

    @classmethod
    def from_hop(cls, hop: Hop) -> PathHop:
        return cls(
            node=hop.entity,
            node_type=hop.node_type,
            edge=hop.edge,
            evidence=list(hop.evidence),
            declared=hop.declared,
            conditional=hop.conditional,
        )


class Finding(BaseModel):
    """One conclusion of one check. ``claim_ids`` is set from the suite by the engine."""

    id: str
    check: str
    severity: Severity
    title: str
    message: str
    claim_ids: list[str] = Field(default_factory=list)
    kind: FindingKind
    path: list[PathHop] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    remediation: str
    waived: bool = False
    waiver: dict[str, Any] | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # path rules: the edge of the minimum cut this finding stands for (id, source, kind,
    # target, location: where it is stated), the place to fix every route that crosses it
    cut_edge: dict[str, str] | None = None


def path_of(violation: Violation) -> list[PathHop]:
    return [PathHop.from_hop(h) for h in violation.path]


def path_evidence(violation: Violation) -> list[Evidence]:
    """The evidence of every edge on the path, in path order, without repeats."""
    return distinct_evidence(item for hop in violation.path for item in hop.evidence)
