"""The canonical report object. report.json is this model; every other format renders it.

The keys of design.md's contract (schema, tool, run, summary, claims, findings,
coverage) are kept as they are; the rest (organisation, checks, scope) are extensions
the HTML report needs so that renderers never re-run analysis.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.compliance import Framework
from audit.engagement import Engagement
from audit.findings import Finding

SCHEMA = "tenant-audit/report@1"

Verdict = Literal["contradicted", "at-risk", "accepted-risk", "no-evidence-contradicting", "insufficient-evidence"]
# fail: the run exits 1 (the gate decided it); at-risk: it passes the gate, yet a claim is at
# risk or a finding below the gate stands; incomplete: a claim lacks evidence; pass: none of these
SummaryVerdict = Literal["pass", "fail", "at-risk", "incomplete"]

VERDICT_WORDS: dict[str, str] = {
    "contradicted": "Evidence contradicts the claim",
    "at-risk": "The claim is at risk: the configuration permits a violation, none is known to occur",
    "no-evidence-contradicting": "No evidence contradicting the claim",
    "insufficient-evidence": "Insufficient evidence to assess the claim",
    "accepted-risk": "Evidence contradicts the claim, and the organisation has accepted the risk",
}


# how bad a claim verdict is (diff fails on a move up this scale, at or above the claims gate)
VERDICT_RANK = {
    "no-evidence-contradicting": 0,
    "accepted-risk": 1,
    "insufficient-evidence": 2,
    "at-risk": 3,
    "contradicted": 4,
}
CLAIM_GATES = ("contradicted", "at-risk", "insufficient-evidence", "none")


def claim_fails(verdict: str, gate: str) -> bool:
    """Does a claim verdict fail a claims gate (``--fail-on-claims``)? Accepted risk never
    does: someone with the authority to has signed it."""
    if gate == "none" or verdict == "accepted-risk":
        return False
    return VERDICT_RANK.get(verdict, 0) >= VERDICT_RANK.get(gate, 99)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ToolInfo(_Model):
    name: str
    version: str


class InputInfo(_Model):
    source: str
    path_or_uri: str
    sha256: str


class RunInfo(_Model):
    started_at: str
    finished_at: str
    inputs: list[InputInfo]
    suite: str
    suite_path: str = ""  # relative to the working directory, or "built-in: NAME.yaml"
    suite_sha256: str = ""
    command: str = ""
    since: str = ""  # lineage before this time was left out: the audit period starts here
    formats: list[str] = Field(default_factory=list)  # the reports written beside this one
    manifest_signed: bool = False  # manifest.json is signed (manifest.sig beside it)


class SeverityCounts(_Model):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0


class Gate(_Model):
    """What decides the run's verdict and exit code: findings at or above ``fail_on`` (not
    waived) and claims at or above ``fail_on_claims``; ``decided_by`` says which did."""

    fail_on: str = "high"
    fail_on_claims: str = "contradicted"
    decided_by: str = ""


class Summary(_Model):
    verdict: SummaryVerdict
    gate: Gate = Field(default_factory=Gate)
    findings_by_severity: SeverityCounts
    waived_by_severity: SeverityCounts = Field(default_factory=SeverityCounts)
    claims_by_verdict: dict[str, int] = Field(default_factory=dict)


class WaiverOut(_Model):
    finding: str
    reason: str
    owner: str
    expires: str


EvidenceKind = Literal["configuration", "iam", "lineage", "content-full", "content-sampled"]


class CheckBasis(_Model):
    """One check of a claim: whether it ran and what kind of evidence it examined."""

    id: str
    title: str
    status: Literal["ran", "failed"]
    evidence: list[EvidenceKind] = Field(default_factory=list)
    examined: str = ""  # in words: what the check read


class ContentBasis(_Model):
    """What the content checks of a claim read of the training data."""

    datasets: int
    records: int  # records read
    examined: int  # records examined (the sample, when sampling)
    sample_rate: float | None = None  # None: every record examined
    leak_rate_ruled_out_95: float | None = None  # sampled: the largest rate of any dataset it rules out
    faults: int = 0


class ClaimBasis(_Model):
    """What a verdict rests on: the checks that ran, the evidence each examined, and what was not
    examined. ``full_coverage`` is true only when nothing in the claim's scope went unexamined."""

    checks: list[CheckBasis] = Field(default_factory=list)
    content: ContentBasis | None = None
    not_examined: list[str] = Field(default_factory=list)
    full_coverage: bool = False
    summary: str = ""


class ClaimResult(_Model):
    id: str
    text: str
    verdict: Verdict
    statement: str
    finding_ids: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    # accepted-risk: the waivers that accept each contradicting finding
    waivers: list[WaiverOut] = Field(default_factory=list)
    basis: ClaimBasis | None = None  # reports written before 0.2 have none


class Gap(_Model):
    scope: str
    reason: str
    checks: list[str] = Field(default_factory=list)
    claim_ids: list[str] = Field(default_factory=list)


class Coverage(_Model):
    gaps: list[Gap] = Field(default_factory=list)
    observed: dict[str, Any] = Field(default_factory=dict)


class StatedValue(_Model):
    value: str
    location: str


class ConflictOut(_Model):
    """Two sources disagree about one fact; ``chosen`` (the strictest) is what was used."""

    entity: str
    field: str
    values: list[StatedValue]
    chosen: str
    rule: str


class ObservationOut(_Model):
    """Information from a check, not a judgement: shown in the report, never failing it."""

    check: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    total: int


class RouteEdgeOut(_Model):
    id: str  # stable: from (source node, kind, target node)
    source: str
    kind: str
    target: str
    declared: bool  # on a route of declared edges only


class RoutePairOut(_Model):
    source: str
    sink: str
    declared: bool


class RoutesOut(_Model):
    """Every route of one path rule: the edges on some route from its sources to its sinks,
    and the (source, sink) pairs they connect. ``rule`` names the gate of an only-through
    rule, or the tenant pair of tenant isolation."""

    check: str
    rule: str = ""
    edges: list[RouteEdgeOut] = Field(default_factory=list)
    pairs: list[RoutePairOut] = Field(default_factory=list)
    pair_count: int = 0
    cut: list[str] = Field(default_factory=list)  # the edge ids of the minimum cut (one finding each)


class Waivers(_Model):
    """Accepted risks: which waivers applied (to which findings), which expired, which matched nothing."""

    file: str = ""
    applied: dict[str, WaiverOut] = Field(default_factory=dict)
    expired: list[WaiverOut] = Field(default_factory=list)
    unused: list[WaiverOut] = Field(default_factory=list)


class CheckRun(_Model):
    id: str
    title: str
    severity: str
    claim_ids: list[str]
    rationale: str
    status: Literal["ran", "failed"]
    findings: int = 0


class Report(_Model):
    schema_: str = Field(default=SCHEMA, alias="schema")
    tool: ToolInfo
    run: RunInfo
    organisation: str
    summary: Summary
    claims: list[ClaimResult]
    findings: list[Finding]
    coverage: Coverage
    checks: list[CheckRun] = Field(default_factory=list)
    scope: dict[str, Any] = Field(default_factory=dict)
    conflicts: list[ConflictOut] = Field(default_factory=list)
    observations: list[ObservationOut] = Field(default_factory=list)
    # the whole violation of every path rule (ISO-*): what `diff` judges routes by
    violations: list[RoutesOut] = Field(default_factory=list)
    waivers: Waivers = Field(default_factory=Waivers)
    # What the content checks read: datasets, objects, rows, sampling and its confidence.
    content: dict[str, Any] | None = None
    # Who assessed, for whom, over which period and scope (``--audit-info``); None: not given.
    audit: Engagement | None = None
    # The controls each claim gives evidence for, per framework (audit.compliance).
    compliance: list[Framework] = Field(default_factory=list)
    # ``run --base REPORT``: what this run adds to the base's (finding ids new, route reasons)
    since_base: dict[str, Any] | None = None
    # Terraform resource address -> "file.tf:line" that declares it (``run --tf-source``).
    terraform_sources: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"

    def report_id(self) -> str:
        """The sha256 of report.json's exact bytes: the id the manifest records for it."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def finding(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)
