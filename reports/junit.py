"""JUnit XML for CI dashboards: one testcase per check and claim.

A testcase fails when the check found something (not waived) that bears on the claim,
and errors when the claim's evidence is insufficient for that check (a coverage gap
names it); otherwise it passes. Checks outside any claim appear under ``unclaimed``.
"""

from __future__ import annotations

import fnmatch
import re
from xml.etree import ElementTree

from audit.findings import Finding
from audit.report import Gap, Report


def _gaps_for(report: Report, check: str, claim: str) -> list[Gap]:
    return [
        g
        for g in report.coverage.gaps
        if claim in g.claim_ids and (not g.checks or any(fnmatch.fnmatchcase(check, p) for p in g.checks))
    ]


def _describe(finding: Finding) -> str:
    path = " -> ".join(hop.node for hop in finding.path)
    head = f"[{finding.severity}] {finding.id} ({finding.kind}): {finding.message}"
    return f"{head}\n  path: {path}\n  fix: {finding.remediation}"


def _add_controls(case: ElementTree.Element, report: Report, claim: str) -> None:
    """The controls the claim gives evidence for, one property per framework (audit.compliance)."""
    mapped = [(f, [c.id for c in f.controls if claim in c.claims]) for f in report.compliance]
    mapped = [(f, ids) for f, ids in mapped if ids]
    if mapped:
        properties = ElementTree.SubElement(case, "properties")
        for framework, ids in mapped:
            ElementTree.SubElement(properties, "property", name=f"control.{framework.framework}", value=", ".join(ids))


def build(report: Report) -> ElementTree.Element:
    cases: list[ElementTree.Element] = []
    counts = {"failures": 0, "errors": 0}
    for run in sorted(report.checks, key=lambda r: r.id):
        for claim in run.claim_ids or ["unclaimed"]:
            case = ElementTree.Element("testcase", classname=f"tenant-audit.{claim}", name=f"{run.id} {run.title}")
            _add_controls(case, report, claim)
            findings = [
                f for f in report.findings if f.check == run.id and (claim in f.claim_ids or claim == "unclaimed")
            ]
            active = [f for f in findings if not f.waived]
            if active:
                worst = active[0].severity
                failure = ElementTree.SubElement(
                    case, "failure", type=worst, message=f"{len(active)} finding(s), worst {worst}"
                )
                failure.text = "\n".join(_describe(f) for f in active)
                counts["failures"] += 1
            elif run.status == "failed" or _gaps_for(report, run.id, claim):
                error = ElementTree.SubElement(
                    case, "error", type="insufficient-evidence", message="the check could not establish the claim"
                )
                error.text = "\n".join(f"{g.scope}: {g.reason}" for g in _gaps_for(report, run.id, claim))
                counts["errors"] += 1
            waived = [f for f in findings if f.waived]
            if waived:
                out = ElementTree.SubElement(case, "system-out")
                out.text = "waived:\n" + "\n".join(f"{f.id}: {(f.waiver or {}).get('reason', '')}" for f in waived)
            cases.append(case)
    suite = ElementTree.Element(
        "testsuite",
        name=f"tenant-audit {report.run.suite}",
        tests=str(len(cases)),
        failures=str(counts["failures"]),
        errors=str(counts["errors"]),
        skipped="0",
        timestamp=report.run.started_at,
    )
    properties = ElementTree.SubElement(suite, "properties")  # each claim's verdict in words, with its basis
    for stated in report.claims:
        ElementTree.SubElement(properties, "property", name=f"claim {stated.id}", value=stated.statement)
    suite.extend(cases)
    root = ElementTree.Element(
        "testsuites",
        name="tenant-audit",
        tests=str(len(cases)),
        failures=str(counts["failures"]),
        errors=str(counts["errors"]),
    )
    root.append(suite)
    return root


# Characters XML 1.0 forbids (C0 controls but tab, newline and carriage return; the
# non-characters U+FFFE and U+FFFF; lone surrogates): JSON ids may hold them, XML may not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with each character XML 1.0 forbids written as a visible ``\\uXXXX`` escape."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _sanitise(element: ElementTree.Element) -> None:
    for node in element.iter():
        node.text = xml_safe(node.text) if node.text else node.text
        node.tail = xml_safe(node.tail) if node.tail else node.tail
        for name, value in node.attrib.items():
            node.attrib[name] = xml_safe(value)


def render(report: Report) -> bytes:
    root = build(report)
    _sanitise(root)
    ElementTree.indent(root)
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
