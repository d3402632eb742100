"""How a report diff is shown: plain text for a terminal, Markdown for a pull request,
JSON for machines. Rendering only; the comparison is audit.diff's."""

from __future__ import annotations

import json

from audit.diff import ReportDiff
from audit.findings import SEVERITIES, Finding
from reports.markdown import finding_lines


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.id))


def _reasons(result: ReportDiff, fail_on: str, fail_on_claims: str = "contradicted") -> list[str]:
    """Every reason the gate fails, one line each, with the route it concerns."""
    lines = []
    for finding in _ordered(result.failing(fail_on)):
        risen = next((b for b, h in result.worsened if h.id == finding.id), None)
        why = f"severity {risen.severity} -> {finding.severity}" if risen else "new finding"
        lines.append(f"{finding.check} {finding.id}: {why} ({finding.severity})")
    for change in result.failing_routes(fail_on):
        rule = f" [{change.rule}]" if change.rule else ""
        via = f"; route: {change.path}" if change.path else ""
        lines.append(f"{change.check}{rule}: {change.what} {change.route} ({change.severity}){via}")
    for claim in result.worse_claims(fail_on_claims):
        lines.append(f"claim {claim.id}: {claim.before} -> {claim.after}")
    return lines


def render_text(result: ReportDiff, fail_on: str, fail_on_claims: str = "contradicted") -> bytes:
    failing = {f.id for f in result.failing(fail_on)}
    reasons = _reasons(result, fail_on, fail_on_claims)
    lines = [
        f"{'FAIL' if result.fails(fail_on, fail_on_claims) else 'PASS'} at {fail_on}: {len(reasons)} reason(s) to fail",
        f"new findings: {len(result.new)} ({len(failing)} at or above {fail_on}, not waived); "
        f"moved: {len(result.moved)}; resolved: {len(result.resolved)}; unchanged: {len(result.unchanged)}; "
        f"route changes: {len(result.routes)}",
    ]
    if reasons:
        lines.append("\nfails because:")
        lines += [f"  {reason}" for reason in reasons]
    for title, findings in (
        ("new", result.new),
        ("moved (routes all in base)", result.moved),
        ("resolved", result.resolved),
    ):
        if findings:
            lines.append(f"\n{title}:")
        for finding in _ordered(findings):
            mark = " [waived]" if finding.waived else (" [fails]" if finding.id in failing else "")
            path = " -> ".join(hop.node for hop in finding.path)
            lines.append(f"  {finding.severity.upper():8} {finding.id}{mark}: {finding.message}")
            if path:
                lines.append(f"           path: {path}")
    for change in result.claims:
        lines.append(f"claim {change.id}: {change.before} -> {change.after}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_markdown(result: ReportDiff, fail_on: str, fail_on_claims: str = "contradicted") -> bytes:
    failing = result.failing(fail_on)
    reasons = _reasons(result, fail_on, fail_on_claims)
    status = "FAIL" if result.fails(fail_on, fail_on_claims) else "PASS"
    lines = [
        f"## tenant-audit diff: {status}",
        "",
        f"{len(result.new)} new finding(s) ({len(failing)} at or above `{fail_on}`), {len(result.moved)} moved, "
        f"{len(result.resolved)} resolved, {len(result.unchanged)} unchanged, {len(result.routes)} route change(s).",
    ]
    if reasons:
        lines += ["", "### Fails because", ""]
        lines += [f"- {_inert(reason)}" for reason in reasons]
    if result.claims:
        lines += ["", "| Claim | Before | After |", "|---|---|---|"]
        lines += [f"| {c.id} | {c.before} | {c.after} |" for c in result.claims]
    for title, findings in (("New findings", result.new), ("Moved", result.moved), ("Resolved", result.resolved)):
        if findings:
            lines += ["", f"### {title}", ""]
            for finding in _ordered(findings):
                lines += [line for line in finding_lines(finding) if line]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _inert(text: str) -> str:
    """Estate names in a Markdown line: in a code span that a backtick cannot end."""
    return "``" + text.replace("`", "'") + "``"


def render_json(result: ReportDiff, fail_on: str, fail_on_claims: str = "contradicted") -> bytes:
    document = {
        "fail_on": fail_on,
        "fails": result.fails(fail_on, fail_on_claims),
        "reasons": _reasons(result, fail_on, fail_on_claims),
        "fail_on_claims": fail_on_claims,
        "failing": [f.id for f in result.failing(fail_on)],
        "new": [f.model_dump(mode="json") for f in _ordered(result.new)],
        "moved": [f.model_dump(mode="json") for f in _ordered(result.moved)],
        "resolved": [f.model_dump(mode="json") for f in _ordered(result.resolved)],
        "unchanged": sorted(f.id for f in result.unchanged),
        "routes": [vars(r) for r in result.routes],
        "claims": [vars(c) for c in result.claims],
        "expired_waivers": [w.model_dump(mode="json") for w in result.expired_waivers],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")
