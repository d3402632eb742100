"""How a report diff is shown: plain text for a terminal, Markdown for a pull request,
JSON for machines. Rendering only; the comparison is audit.diff's."""

from __future__ import annotations

import json

from audit.diff import ReportDiff
from audit.findings import SEVERITIES, Finding
from reports.markdown import finding_lines


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.id))


def render_text(result: ReportDiff, fail_on: str) -> bytes:
    failing = {f.id for f in result.failing(fail_on)}
    lines = [
        f"new findings: {len(result.new)} ({len(failing)} at or above {fail_on}, not waived); "
        f"resolved: {len(result.resolved)}; unchanged: {len(result.unchanged)}"
    ]
    for title, findings in (("new", result.new), ("resolved", result.resolved)):
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


def render_markdown(result: ReportDiff, fail_on: str) -> bytes:
    failing = result.failing(fail_on)
    status = "FAIL" if failing else "PASS"
    lines = [
        f"## tenant-audit diff: {status}",
        "",
        f"{len(result.new)} new finding(s) ({len(failing)} at or above `{fail_on}`), {len(result.resolved)} "
        f"resolved, {len(result.unchanged)} unchanged.",
    ]
    if result.claims:
        lines += ["", "| Claim | Before | After |", "|---|---|---|"]
        lines += [f"| {c.id} | {c.before} | {c.after} |" for c in result.claims]
    for title, findings in (("New findings", result.new), ("Resolved", result.resolved)):
        if findings:
            lines += ["", f"### {title}", ""]
            for finding in _ordered(findings):
                lines += [line for line in finding_lines(finding) if line]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_json(result: ReportDiff, fail_on: str) -> bytes:
    document = {
        "fail_on": fail_on,
        "failing": [f.id for f in result.failing(fail_on)],
        "new": [f.model_dump(mode="json") for f in _ordered(result.new)],
        "resolved": [f.model_dump(mode="json") for f in _ordered(result.resolved)],
        "unchanged": sorted(f.id for f in result.unchanged),
        "claims": [vars(c) for c in result.claims],
        "expired_waivers": [w.model_dump(mode="json") for w in result.expired_waivers],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")
