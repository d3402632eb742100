"""Compare two reports: what a change introduces, what it resolves, and whether to fail.

Path rules (the checks whose whole violation report.json keeps under ``violations``) are
judged by their routes, not by finding ids: the gate fails on a violating edge or a
(source, sink) pair head has and base did not (a new route, even into a sink already
reached, even behind an existing cut edge), and on a route that went potential -> declared.
A finding whose id is new but whose routes were all in base is a cut that *moved* (another
route went away): reported, not failing. For the other checks a new finding fails, and for
every check a finding whose severity rose fails. A claim whose verdict got worse fails too.
Waivers (if given) apply to head, and claims are judged under them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from audit.engine import claim_verdict
from audit.findings import SEVERITIES, Finding, lowered, severity_rank
from audit.report import CLAIM_GATES, VERDICT_RANK, Report, RoutesOut, claim_fails

__all__ = ["CLAIM_GATES", "ClaimChange", "ReportDiff", "RouteChange", "diff_reports"]
from audit.waivers import Waiver, apply_waivers


@dataclass
class ClaimChange:
    id: str
    text: str
    before: str
    after: str

    @property
    def worse(self) -> bool:
        return VERDICT_RANK.get(self.after, 0) > VERDICT_RANK.get(self.before, 0)


@dataclass(frozen=True)
class RouteChange:
    """One reason a path rule's routes fail the gate."""

    check: str
    rule: str
    what: str  # "new edge", "new route", "now declared"
    route: str  # the edge or the pair, in words
    path: str  # a witness path through it, when head's findings hold one
    severity: str
    waived: bool


@dataclass
class ReportDiff:
    base: Report
    head: Report
    new: list[Finding] = field(default_factory=list)
    moved: list[Finding] = field(default_factory=list)  # new ids of path rules whose routes were all in base
    resolved: list[Finding] = field(default_factory=list)
    unchanged: list[Finding] = field(default_factory=list)
    worsened: list[tuple[Finding, Finding]] = field(default_factory=list)  # (base, head): severity rose
    routes: list[RouteChange] = field(default_factory=list)
    claims: list[ClaimChange] = field(default_factory=list)
    expired_waivers: list[Waiver] = field(default_factory=list)

    def failing(self, fail_on: str) -> list[Finding]:
        """The head findings that fail the gate at ``fail_on``: new (not moved) or risen."""
        threshold = severity_rank(fail_on)
        candidates = [*self.new, *(head for _, head in self.worsened)]
        return [f for f in candidates if threshold and not f.waived and severity_rank(f.severity) >= threshold]

    def failing_routes(self, fail_on: str) -> list[RouteChange]:
        threshold = severity_rank(fail_on)
        return [r for r in self.routes if threshold and not r.waived and severity_rank(r.severity) >= threshold]

    def worse_claims(self, fail_on_claims: str = "contradicted") -> list[ClaimChange]:
        """Claims that got worse and now stand at or above the claims gate (accepted risk
        never does: it is a decision someone signed)."""
        return [c for c in self.claims if c.worse and claim_fails(c.after, fail_on_claims)]

    def fails(self, fail_on: str, fail_on_claims: str = "contradicted") -> bool:
        return bool(self.failing(fail_on) or self.failing_routes(fail_on) or self.worse_claims(fail_on_claims))


def diff_reports(base: Report, head: Report, waivers: tuple[Waiver, ...] = (), today: date | None = None) -> ReportDiff:
    """New, moved, resolved and unchanged findings, route changes and claim changes."""
    expired: list[Waiver] = []
    if waivers:
        outcome = apply_waivers(head.findings, waivers, today or date.today())
        expired = outcome.expired
    before = {f.id: f for f in base.findings}
    after = {f.id: f for f in head.findings}
    result = ReportDiff(base=base, head=head, expired_waivers=expired)
    routed = {v.check for v in (*base.violations, *head.violations)}
    base_routes = _route_keys(base.violations)
    for fid, finding in after.items():
        if fid in before:
            result.unchanged.append(finding)
            if severity_rank(finding.severity) > severity_rank(before[fid].severity):
                result.worsened.append((before[fid], finding))
        elif finding.check in routed and _routes_of(finding, head) <= base_routes:
            result.moved.append(finding)
        else:
            result.new.append(finding)
    result.resolved = [f for fid, f in before.items() if fid not in after]
    result.routes = _route_changes(base, head)
    old_verdicts = {c.id: c.verdict for c in base.claims}
    result.claims = [
        ClaimChange(c.id, c.text, old_verdicts[c.id], _verdict_under_waivers(c.id, c.verdict, head))
        for c in head.claims
        if c.id in old_verdicts
    ]
    result.claims = [c for c in result.claims if c.before != c.after]
    return result


def _route_keys(violations: list[RoutesOut]) -> set[tuple[str, str, str]]:
    """(check, rule, edge id or 'pair:source>sink') for every route element."""
    keys = {(v.check, v.rule, e.id) for v in violations for e in v.edges}
    keys |= {(v.check, v.rule, f"pair:{p.source}>{p.sink}") for v in violations for p in v.pairs}
    return keys


def _routes_of(finding: Finding, report: Report) -> set[tuple[str, str, str]]:
    """The route elements of the rule a finding belongs to that cross its cut edges (all of
    the rule's elements when the finding names no cut: the safe, larger answer)."""
    rule = str(finding.details.get("bypassed_gate", ""))
    if finding.check == "ISO-006":
        rule = f"{finding.details.get('from_tenant')}->{finding.details.get('to_tenant')}"
    mine = [v for v in report.violations if v.check == finding.check and v.rule == rule]
    keys = _route_keys(mine)
    if not keys:
        return {(finding.check, rule, f"finding:{finding.id}")}  # nothing to compare by: new
    return keys


def _route_changes(base: Report, head: Report) -> list[RouteChange]:
    before = {(v.check, v.rule): v for v in base.violations}
    severity = {c.id: c.severity for c in head.checks}
    changes: list[RouteChange] = []
    for routes in head.violations:
        old = before.get((routes.check, routes.rule))
        old_edges = {e.id: e for e in old.edges} if old else {}
        old_pairs = {(p.source, p.sink): p for p in old.pairs} if old else {}
        gate = routes.rule if routes.check != "ISO-006" else ""
        findings = [
            f for f in head.findings if f.check == routes.check and str(f.details.get("bypassed_gate", "")) == gate
        ]
        waived = bool(findings) and all(f.waived for f in findings)
        found: list[tuple[str, str, bool, tuple[str, ...]]] = []  # (what, route, declared, nodes)
        for edge in routes.edges:
            step = f"{edge.source} -{edge.kind}-> {edge.target}"
            was = old_edges.get(edge.id)
            if was is None:
                found.append(("new edge", step, edge.declared, (edge.source, edge.target)))
            elif edge.declared and not was.declared:
                found.append(("now declared", step, True, (edge.source, edge.target)))
        for pair in routes.pairs:
            was_pair = old_pairs.get((pair.source, pair.sink))
            route = f"{pair.source} => {pair.sink}"
            if was_pair is None:
                found.append(("new route", route, pair.declared, (pair.source,)))
            elif pair.declared and not was_pair.declared:
                found.append(("now declared", route, True, (pair.source,)))
        top = severity.get(routes.check, "high")
        for what, route, declared, nodes in found:
            level = top if declared or top not in SEVERITIES else lowered(top)
            changes.append(
                RouteChange(routes.check, routes.rule, what, route, _witness(findings, nodes), level, waived)
            )
    return changes


def _witness(findings: list[Finding], nodes: tuple[str, ...]) -> str:
    """A head finding's path that passes through these nodes (in order), in words."""
    for finding in findings:
        path = [hop.node for hop in finding.path]
        if len(nodes) == 2 and any(a == nodes[0] and b == nodes[1] for a, b in itertools.pairwise(path)):
            return " -> ".join(path)
        if len(nodes) == 1 and nodes[0] in path:
            return " -> ".join(path)
        if nodes and nodes[0] in finding.details.get("sources", ()):
            return " -> ".join(path)
    return ""


def _verdict_under_waivers(claim_id: str, verdict: str, head: Report) -> str:
    """A claim's verdict as the waivers given to diff leave it (its gaps stay as they were:
    without findings the verdict stands)."""
    in_claim = [f for f in head.findings if claim_id in f.claim_ids]
    return claim_verdict(in_claim, []) if in_claim else verdict
