"""Compare two reports by stable finding id: what a change introduces, what it resolves.

CI gates on the new findings only, so a pull request is judged by what it adds, not by
the debt it inherits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from audit.findings import Finding, severity_rank
from audit.report import Report
from audit.waivers import Waiver, apply_waivers


@dataclass
class ClaimChange:
    id: str
    text: str
    before: str
    after: str


@dataclass
class ReportDiff:
    base: Report
    head: Report
    new: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    unchanged: list[Finding] = field(default_factory=list)
    claims: list[ClaimChange] = field(default_factory=list)
    expired_waivers: list[Waiver] = field(default_factory=list)

    def failing(self, fail_on: str) -> list[Finding]:
        threshold = severity_rank(fail_on)
        return [f for f in self.new if threshold and not f.waived and severity_rank(f.severity) >= threshold]


def diff_reports(base: Report, head: Report, waivers: tuple[Waiver, ...] = (), today: date | None = None) -> ReportDiff:
    """New, resolved and unchanged findings; waivers (if given) apply to the head's findings."""
    if waivers:
        outcome = apply_waivers(head.findings, waivers, today or date.today())
        expired = outcome.expired
    else:
        expired = []
    before = {f.id: f for f in base.findings}
    after = {f.id: f for f in head.findings}
    result = ReportDiff(base=base, head=head, expired_waivers=expired)
    result.new = [f for fid, f in after.items() if fid not in before]
    result.resolved = [f for fid, f in before.items() if fid not in after]
    result.unchanged = [f for fid, f in after.items() if fid in before]
    old_verdicts = {c.id: c.verdict for c in base.claims}
    result.claims = [
        ClaimChange(c.id, c.text, old_verdicts[c.id], c.verdict)
        for c in head.claims
        if c.id in old_verdicts and old_verdicts[c.id] != c.verdict
    ]
    return result
