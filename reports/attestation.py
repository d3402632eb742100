"""What a signed report says about itself: what kind of document it is, the period it
covers, the basis and limits of its conclusions, and how to verify it.

Pure functions of the canonical report, shared by the HTML (and so the PDF) and Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from audit.report import Report

REPORT_ID_CHARS = 12


def independent(report: Report) -> bool:
    """Only a named auditor makes it an audit; otherwise the tool assessed the estate on its own."""
    return report.audit is not None and report.audit.auditor is not None


def document_kind(report: Report) -> str:
    if independent(report):
        return "Independent tenant data isolation audit"
    return "Automated tenant data isolation assessment"


def short_id(report: Report) -> str:
    return report.report_id()[:REPORT_ID_CHARS]


def report_date(report: Report) -> str:
    return report.run.finished_at[:10]


def period(report: Report) -> str:
    """The audit period in words. Without a start (no ``period.start``, no lineage ``--since``)
    it is a point-in-time assessment, and says so rather than "from T to T"."""
    stated = report.audit.period if report.audit else None
    start = str(stated.start) if stated and stated.start else report.run.since[:10]
    end = str(stated.end) if stated and stated.end else report_date(report)
    if not start:
        return f"point in time: the estate as configured at {report.run.finished_at}"
    return f"{start} to {end}"


@dataclass(frozen=True)
class Limitation:
    topic: str
    text: str
    claim_ids: tuple[str, ...] | None = None  # None: bears on every claim


def limitations(report: Report) -> list[Limitation]:
    """What the conclusions rest on and what they do not cover, from the sources read, the
    content scanned, the checks that failed and every coverage gap."""
    sources = {item.source for item in report.run.inputs}
    out = [
        Limitation(
            "Method",
            "Conclusions are drawn from configuration, permissions and lineage as the sources state them, at the "
            "time of the run. Permissions are evaluated as a sound over-approximation (an Allow under a condition "
            "counts as allowed), so a route reported as potential may be unused; a route not found is not "
            "permitted by any evaluated policy.",
        )
    ]
    if "aws" not in sources:
        out.append(
            Limitation(
                "Access",
                "No live AWS account was read: access is as described in the inventory and the policies it quotes, "
                "and was not verified against AWS.",
            )
        )
    if "openlineage" not in sources:
        out.append(
            Limitation(
                "Lineage",
                "No lineage events were read: data movement is as described (jobs, flows), not as observed in runs.",
            )
        )
    if report.content is None:
        out.append(
            Limitation(
                "Content",
                "The content of the data was not scanned: data classes are as labelled, not verified against records.",
            )
        )
    else:
        sampled = [d for d in report.content.get("datasets", []) if d.get("sampled")]
        if sampled:
            out.append(
                Limitation(
                    "Content",
                    f"{len(sampled)} dataset(s) were scanned by sample, not in full: the content checks bound the "
                    "leak rate they rule out (see Observe) rather than excluding any leak.",
                )
            )
    failed = [c.id for c in report.checks if c.status == "failed"]
    if failed:
        out.append(Limitation("Checks", f"These checks failed to run and prove nothing: {', '.join(failed)}."))
    waived = len(report.waivers.applied)
    if waived:
        out.append(
            Limitation(
                "Accepted risks",
                f"{waived} finding(s) are waived as accepted risks (see Act): they are reported but do not fail "
                "the assessment.",
            )
        )
    for gap in report.coverage.gaps:
        out.append(Limitation(f"Coverage: {gap.scope}", gap.reason, tuple(gap.claim_ids)))
    return out


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string for the page margins (running header and footer). Every
    character but letters, digits and spaces is a CSS escape, so nothing in it can end the
    string or the style element."""
    escaped = "".join(c if c.isascii() and (c.isalnum() or c == " ") else f"\\{ord(c):06x}" for c in text)
    return Markup(f'"{escaped}"')
