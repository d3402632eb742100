"""What a check is: frozen metadata plus one pure function from the context to findings.

Metadata is validated when a check is built, with a message that says how to fix it,
so a malformed third-party check fails at registration rather than mid-audit.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from audit.coverage import CoverageGap
from audit.findings import (
    Finding,
    FindingKind,
    PathHop,
    Severity,
    finding_id,
    lowered,
    path_evidence,
    path_of,
)
from audit.graph.model import DataGraph, Evidence
from audit.graph.rules import Violation
from audit.inventory import Inventory
from audit.model import Entity, Store

if TYPE_CHECKING:
    from audit.content.results import ContentResults

P = TypeVar("P", bound=BaseModel)

CHECK_ID = re.compile(r"^[A-Z]{3}-\d{3}$")
CLAIM_ID = re.compile(r"^C\d+$")


def matching(checks: Mapping[str, Check], pattern: str) -> list[Check]:
    """Checks whose id is ``pattern`` or matches it as a glob (``DAT-*``), by id."""
    return [c for i, c in sorted(checks.items()) if fnmatch.fnmatchcase(i, pattern)]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Observation(BaseModel):
    """Information a check reports without judging it (an access table, an erasure map)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    total: int


class Routes(BaseModel):
    """Every route of a path rule (see :mod:`audit.graph.violations`), for report.json."""

    rule: str = ""
    edges: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    pair_count: int
    cut: list[str]


Outcome = Finding | CoverageGap | Observation | Routes
Evaluate = Callable[["CheckContext[Any]"], Iterable[Outcome]]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    claim_ids: tuple[str, ...]
    rationale: str
    remediation: str
    evaluate: Evaluate
    params: type[BaseModel] = NoParams
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # An informational check reports observations (a table for the reviewer), never findings.
    informational: bool = False
    # A content check reads data. It states what to read as requests (given its params and
    # the inventory); the engine scans once for every content check of the run and hands
    # the results over as ``context.content``, so the check itself still reads no file.
    content: Callable[[Any, Inventory], Sequence[Any]] | None = None
    # The kinds of evidence the check examines ("configuration", "iam", "lineage"), for the
    # claims' basis; empty: its family's (audit.basis.FAMILY_EVIDENCE). Content checks read content.
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not CHECK_ID.match(self.id):
            problems.append(f"id {self.id!r} must look like ABC-123 (three capitals, dash, three digits)")
        if not self.title.strip():
            problems.append("title is empty: say in a few words what the check proves")
        if self.severity not in ("critical", "high", "medium", "low"):
            problems.append(f"severity {self.severity!r} must be one of critical, high, medium, low")
        if not self.claim_ids or not all(CLAIM_ID.match(c) for c in self.claim_ids):
            problems.append(f"claim_ids {self.claim_ids!r} must name at least one claim, like ('C1',)")
        if not self.rationale.strip():
            problems.append("rationale is empty: say why the check matters")
        if not self.remediation.strip():
            problems.append("remediation is empty: say how to fix what the check finds")
        if not callable(self.evaluate):
            problems.append("evaluate must be a function taking the check context")
        else:
            try:
                self.params.model_validate(dict(self.defaults))
            except ValueError as exc:
                problems.append(f"defaults do not fit the params model: {exc}")
        if problems:
            raise ValueError(f"check {self.id!r} is malformed: " + "; ".join(problems))


@dataclass
class CheckContext(Generic[P]):
    """Everything a check may look at. Checks never read the environment or files."""

    check: Check
    inventory: Inventory
    graph: DataGraph
    params: P
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    content: ContentResults | None = None  # the content scan, for content checks

    def finding(
        self,
        *,
        endpoints: tuple[str, ...],
        kind: FindingKind,
        message: str,
        violation: Violation | None = None,
        evidence: Iterable[Evidence] = (),
        title: str | None = None,
        severity: Severity | None = None,
        details: dict[str, Any] | None = None,
        claims: Iterable[str] | None = None,
        remediation: str | None = None,
        cut_edge: dict[str, str] | None = None,
    ) -> Finding:
        """A finding of this check; potential findings sit one severity step lower.

        ``claims`` narrows the check's claims to those this finding bears on (a consent
        filter bypass is not a PII finding); the suite's mapping still decides the rest.
        """
        base = severity or self.check.severity
        extra = list(evidence)
        return Finding(
            id=finding_id(self.check.id, *endpoints),
            check=self.check.id,
            severity=base if kind == "declared" else lowered(base),
            title=title or self.check.title,
            message=message,
            claim_ids=list(claims) if claims is not None else list(self.check.claim_ids),
            kind=kind,
            path=path_of(violation) if violation else [],
            evidence=(path_evidence(violation) if violation else []) + extra,
            remediation=remediation or self.check.remediation,
            details=details or {},
            cut_edge=cut_edge,
        )

    def gap(self, scope: str, reason: str) -> CoverageGap:
        return CoverageGap(scope=scope, reason=reason, checks=(self.check.id,))

    def nothing_in_scope(self, what: str) -> CoverageGap:
        """Fail closed: a check with nothing to examine proves nothing."""
        return self.gap(
            f"check:{self.check.id}",
            f"the inventory has no {what}: there is nothing to check the "
            "claim against (classify the stores that hold it)",
        )

    def evidence(self, entity: Entity, field_name: str, detail: str | None = None) -> Evidence:
        """The place an entity's field was stated, as evidence."""
        provenance = entity.provenance
        value = getattr(entity, field_name, None)
        return Evidence(
            kind=provenance.source if provenance else "inventory",
            location=provenance.at(field_name) if provenance else "(inventory)",
            detail=detail or f"{getattr(entity, 'id', '')}: {field_name} = {_shown(value)}",
        )

    def store_finding(
        self,
        store: Store,
        *,
        message: str,
        evidence: Iterable[Evidence],
        kind: FindingKind = "declared",
        severity: Severity | None = None,
        qualifier: str = "",
        details: dict[str, Any] | None = None,
    ) -> Finding:
        """A finding about one store's configuration: the path is the store itself."""
        return self.node_finding(
            "store",
            store.id,
            message=message,
            evidence=evidence,
            kind=kind,
            severity=severity,
            qualifier=qualifier,
            details=details,
        )

    def node_finding(
        self,
        node_type: str,
        entity_id: str,
        *,
        message: str,
        evidence: Iterable[Evidence],
        kind: FindingKind = "declared",
        severity: Severity | None = None,
        qualifier: str = "",
        details: dict[str, Any] | None = None,
        claims: Iterable[str] | None = None,
        remediation: str | None = None,
        cut_edge: dict[str, str] | None = None,
    ) -> Finding:
        """A finding about one node's own facts: the path is the node, carrying the evidence."""
        cited = list(evidence)
        finding = self.finding(
            endpoints=(f"{node_type}:{entity_id}", qualifier),
            kind=kind,
            message=message,
            severity=severity,
            details=details,
            claims=claims,
        )
        finding.path = [PathHop(node=entity_id, node_type=node_type, edge=None, evidence=cited)]
        finding.evidence = cited
        return finding


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
