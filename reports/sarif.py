"""SARIF 2.1.0 for code-scanning tools: one rule per check, one result per finding.

A finding's primary location is the first piece of evidence that names a file (a
Terraform resource address in a plan, an inventory line); every other piece of evidence
is a related location, and the witness path is a code flow, hop by hop. Waived findings
carry an external suppression with the waiver's reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from audit.findings import Finding
from audit.graph.model import Evidence
from audit.report import Report
from audit.tfsource import plan_address

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _uri(path: str) -> str:
    """Paths relative to the working directory when they are inside it (code scanning wants
    repository-relative URIs), forward slashes always."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(Path.cwd())
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix().replace(os.sep, "/")


def _location(
    evidence: Evidence, message: str | None = None, sources: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """A SARIF location for one piece of evidence, physical when it names a file. Terraform
    evidence lands on the ``.tf`` line that declares the resource when the run was given
    ``--tf-source`` (``sources``), else on the plan file, with the address as logical location."""
    where = evidence.location
    location: dict[str, Any] = {}
    planned = plan_address(evidence.kind, where)
    if planned is not None:
        file, address = planned
        declared = (sources or {}).get(address, "")
        tf_file, _, line = declared.rpartition(":")
        if tf_file and line.isdigit():
            region = {"startLine": int(line)}
            location["physicalLocation"] = {"artifactLocation": {"uri": _uri(tf_file)}, "region": region}
        else:
            location["physicalLocation"] = {"artifactLocation": {"uri": _uri(file)}}
        location["logicalLocations"] = [{"fullyQualifiedName": address, "kind": "resource"}]
    else:
        file, _, line = where.rpartition(":")
        if file and line.isdigit() and not file.startswith(("aws", "(")):
            location["physicalLocation"] = {"artifactLocation": {"uri": _uri(file)}, "region": {"startLine": int(line)}}
        elif where and not where.startswith("("):
            location["logicalLocations"] = [{"fullyQualifiedName": where, "kind": "resource"}]
    if not location:
        return None
    if message:
        location["message"] = {"text": message}
    return location


def control_tags(report: Report, claim_ids: list[str]) -> list[str]:
    """``framework:control`` for every control the claims give evidence for (audit.compliance)."""
    wanted = set(claim_ids)
    return [
        f"{framework.framework}:{control.id}"
        for framework in report.compliance
        for control in framework.controls
        if wanted & set(control.claims)
    ]


def _controls(report: Report, claim_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for tag in control_tags(report, claim_ids):
        framework, _, control = tag.partition(":")
        out.setdefault(framework, []).append(control)
    return out


def _result(finding: Finding, rule_index: dict[str, int], report: Report) -> dict[str, Any]:
    evidence = [e for hop in finding.path for e in hop.evidence] or list(finding.evidence)
    sources = report.terraform_sources
    locations = [loc for e in evidence if (loc := _location(e, e.detail, sources)) is not None]
    physical = [loc for loc in locations if "physicalLocation" in loc]
    primary = (physical or locations)[:1]
    result: dict[str, Any] = {
        "ruleId": finding.check,
        "ruleIndex": rule_index[finding.check],
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "partialFingerprints": {"tenantAuditFindingId": finding.id},
        "properties": {
            "kind": finding.kind,
            "severity": finding.severity,
            "claims": finding.claim_ids,
            "path": [hop.node for hop in finding.path],
        },
    }
    controls = _controls(report, finding.claim_ids)
    if controls:
        result["properties"]["controls"] = controls
        result["properties"]["tags"] = control_tags(report, finding.claim_ids)
    if primary:
        result["locations"] = primary
        related = [dict(loc, id=i) for i, loc in enumerate(locations) if loc is not primary[0]]
        if related:
            result["relatedLocations"] = related
    flow = []
    for hop in finding.path:
        step = f"{hop.edge} -> {hop.node} ({hop.node_type})" if hop.edge else f"{hop.node} ({hop.node_type})"
        located = next((loc for e in hop.evidence if (loc := _location(e, None, sources)) is not None), None)
        entry: dict[str, Any] = {"location": {**(located or {}), "message": {"text": step}}}
        flow.append(entry)
    if len(flow) > 1:
        result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
    if finding.waived and finding.waiver:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{finding.waiver.get('reason')} (owner "
                f"{finding.waiver.get('owner')}, expires "
                f"{finding.waiver.get('expires')})",
            }
        ]
    return result


def build(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    for run in sorted(report.checks, key=lambda c: c.id):
        rule_index[run.id] = len(rules)
        rules.append(
            {
                "id": run.id,
                "name": run.id.replace("-", ""),
                "shortDescription": {"text": run.title},
                "fullDescription": {"text": run.rationale},
                "defaultConfiguration": {"level": LEVEL.get(run.severity, "warning")},
                "properties": {
                    "claims": run.claim_ids,
                    "security-severity": SECURITY_SEVERITY.get(run.severity, "5.0"),
                    "tags": ["security", "privacy", "data-isolation", *control_tags(report, run.claim_ids)],
                },
            }
        )
    for finding in report.findings:  # a check no longer in the run still names its rule
        if finding.check not in rule_index:
            rule_index[finding.check] = len(rules)
            rules.append({"id": finding.check, "shortDescription": {"text": finding.title}})
    remediation = {f.check: f.remediation for f in report.findings}
    for rule in rules:
        if rule["id"] in remediation:
            rule["help"] = {"text": remediation[rule["id"]]}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": report.tool.name, "version": report.tool.version, "rules": rules}},
                "automationDetails": {"id": f"tenant-audit/{report.run.suite}/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "commandLine": report.run.command or "tenant-audit",
                        "startTimeUtc": report.run.started_at,
                        "endTimeUtc": report.run.finished_at,
                    }
                ],
                "results": [_result(f, rule_index, report) for f in report.findings],
                "properties": {
                    "organisation": report.organisation,
                    "verdict": report.summary.verdict,
                    "claims": {c.id: c.verdict for c in report.claims},
                    "claim_statements": {c.id: c.statement for c in report.claims},
                    "claim_full_coverage": {c.id: bool(c.basis and c.basis.full_coverage) for c in report.claims},
                },
            }
        ],
    }


def render(report: Report) -> bytes:
    return (json.dumps(build(report), indent=2) + "\n").encode("utf-8")
