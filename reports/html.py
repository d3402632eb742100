"""The HTML evidence report: one self-contained file that reads like an independent audit.

Cover, executive summary and key findings, then Observe, Orient (the data map, drawn),
Decide (findings grouped by check, each with its witness path drawn and its evidence
collapsible) and Act. No network: the Content-Security-Policy forbids every fetch and
allows exactly one inline script (by its hash), which filters findings and opens every
evidence block before printing. Every string is escaped by the template engine.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from audit.compliance import Control, Framework
from audit.findings import SEVERITIES, Finding
from audit.report import VERDICT_WORDS, Report
from reports import attestation
from reports.datamap import map_svg
from reports.svg import path_svg

TEMPLATES = Path(__file__).parent / "templates"
SCRIPT = (TEMPLATES / "report.js").read_text(encoding="utf-8")
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()

# No remote anything: the report opens offline and cannot phone home.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{SCRIPT_HASH}'; "
    "base-uri 'none'; form-action 'none'"
)
# Past these, findings are listed in a compact table rather than drawn (report.json has all).
DETAILED_FINDINGS = 250
LISTED_FINDINGS = 10_000
# Inventory names (stores of a zone, of a class, of a tenant) open in print only on an estate
# this small; on a larger one the PDF shows the counts, and the names stay in report.html/json.
PRINTED_NAMES_UP_TO = 500
PAGE_SIZES = {"a4": "A4", "letter": "letter"}


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["path_svg"] = path_svg
    return environment


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.waived, SEVERITIES.index(f.severity), f.kind != "declared", f.id))


def _groups(report: Report) -> list[dict[str, Any]]:
    """Findings by check, most severe first, with the budget of drawn findings spread over them."""
    by_check: dict[str, list[Finding]] = {}
    for finding in _ordered(report.findings):
        by_check.setdefault(finding.check, []).append(finding)
    titles = {run.id: run.title for run in report.checks}
    budget = DETAILED_FINDINGS
    groups = []
    for check, findings in sorted(by_check.items(), key=lambda item: (SEVERITIES.index(item[1][0].severity), item[0])):
        detailed = findings[: max(5, budget // max(1, len(by_check)))] if budget > 0 else []
        budget -= len(detailed)
        groups.append(
            {
                "check": check,
                "title": titles.get(check, findings[0].title),
                "findings": findings,
                "detailed": detailed,
                "listed": findings[len(detailed) : len(detailed) + LISTED_FINDINGS],
            }
        )
    return groups


def _controls_by_framework(report: Report, claim_id: str) -> list[tuple[Framework, list[Control]]]:
    """The controls a claim gives evidence for, framework by framework, in the report's order."""
    grouped = [(f, [c for c in f.controls if claim_id in c.claims]) for f in report.compliance]
    return [(f, controls) for f, controls in grouped if controls]


def render(report: Report, *, expanded: bool = False, paper: str = "a4", map_engine: str = "auto") -> bytes:
    """The report as one HTML file; ``expanded`` opens every collapsible block (for print);
    ``paper`` is the page size its print stylesheet asks for; ``map_engine`` lays out the data
    map (reports.datamap.place: auto, dot or grandalf)."""
    ordered = _ordered(report.findings)
    small = int(report.coverage.observed.get("stores", 0)) <= PRINTED_NAMES_UP_TO
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            csp=CONTENT_SECURITY_POLICY,
            script=Markup(SCRIPT),
            verdict_words=VERDICT_WORDS,
            key_findings=[f for f in ordered if not f.waived][:10],
            groups=_groups(report),
            act=[f for f in ordered if not f.waived],
            severities=SEVERITIES,
            data_map=map_svg(report.scope.get("map", {}), map_engine),
            claims_of={c.id: c for c in report.claims},
            opened=" open" if expanded else "",
            names_open=" open" if expanded and small else "",
            names_class="names" if small else "names names-closed",
            page_size=PAGE_SIZES[paper],
            kind=attestation.document_kind(report),
            independent=attestation.independent(report),
            report_id=report.report_id(),
            short_id=attestation.short_id(report),
            report_date=attestation.report_date(report),
            period=attestation.period(report),
            limitations=attestation.limitations(report),
            css_string=attestation.css_string,
            controls_of={c.id: _controls_by_framework(report, c.id) for c in report.claims},
        )
    )
    return html.encode("utf-8")
