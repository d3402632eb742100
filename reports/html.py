"""The HTML evidence report: one self-contained file, no network, every string escaped."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from audit.findings import SEVERITIES
from audit.report import VERDICT_WORDS, Report

TEMPLATES = Path(__file__).parent / "templates"

# No script, no remote anything: the report must open offline and cannot phone home.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(report: Report) -> bytes:
    findings_by_id = {f.id: f for f in report.findings}
    act = sorted(report.findings, key=lambda f: (SEVERITIES.index(f.severity), f.kind != "declared", f.id))
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            csp=CONTENT_SECURITY_POLICY,
            verdict_words=VERDICT_WORDS,
            findings_by_id=findings_by_id,
            act=act,
            severities=SEVERITIES,
        )
    )
    return html.encode("utf-8")
