"""A short Markdown summary for pull requests: the verdict per claim, the top findings
with their paths, and what was waived or could not be seen."""

from __future__ import annotations

import re

from audit.findings import SEVERITIES, Finding
from audit.report import Report

TOP = 10
# What a Markdown renderer (GitHub's) would turn into something live: a link target, a bare
# URL or www. address (autolinked), an e-mail address, an @mention, an #123 reference. Such a word from the
# estate is shown in a code span, where nothing is live.
_LIVE = re.compile(r"\S*(?:@|://|www\.|#\d)\S*", re.IGNORECASE)
_SPECIAL = re.compile(r"([\\`*_\[\]!~|])")


def code(text: str) -> str:
    """An inline code span that no content can close: the fence is longer than any run of
    backticks inside (CommonMark), and pipes are escaped for table cells (GFM)."""
    flat = " ".join(text.split("\n")).replace("\r", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _escaped(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def _cell(text: str) -> str:
    """Text from the estate, inert: no line breaks, no HTML, no emphasis, links or images, and
    URLs, addresses and @mentions in code spans (so neither autolinked nor mentioned)."""
    flat = text.replace("\r", " ").replace("\n", " ")
    out, last = [], 0
    for match in _LIVE.finditer(flat):
        out += [_escaped(flat[last : match.start()]), code(match.group(0))]
        last = match.end()
    out.append(_escaped(flat[last:]))
    return "".join(out)


def path_line(finding: Finding) -> str:
    parts = []
    for hop in finding.path:
        parts.append(code(hop.node) if hop.edge is None else f"*{_cell(hop.edge)}* → {code(hop.node)}")
    return " ".join(parts)


def finding_lines(finding: Finding) -> list[str]:
    waived = " (waived)" if finding.waived else ""
    return [
        f"- **{finding.severity.upper()}** {finding.kind} {code(finding.id)}{waived}: {_cell(finding.message)}",
        f"  - path: {path_line(finding)}" if finding.path else "",
        f"  - fix: {_cell(finding.remediation)}",
    ]


def render(report: Report) -> bytes:
    counts = report.summary.findings_by_severity
    lines = [
        f"## tenant-audit: {report.summary.verdict.upper()} · {_cell(report.organisation)}",
        *(["", f"The run {_cell(report.summary.gate.decided_by)}."] if report.summary.gate.decided_by else []),
        "",
        f"Findings: {counts.critical} critical, {counts.high} high, {counts.medium} medium, {counts.low} low"
        f" · waived: {sum(report.summary.waived_by_severity.model_dump().values())}"
        f" · coverage gaps: {len(report.coverage.gaps)} · suite {code(report.run.suite)}",
        "",
        "| Claim | Verdict | Findings |",
        "|---|---|---|",
    ]
    for claim in report.claims:
        lines.append(f"| {claim.id} {_cell(claim.text)} | {claim.verdict} | {len(claim.finding_ids)} |")
    lines += ["", "### What each verdict rests on", ""]
    lines += [f"- **{claim.id}** {_cell(claim.statement)}." for claim in report.claims]
    active = sorted(
        (f for f in report.findings if not f.waived),
        key=lambda f: (SEVERITIES.index(f.severity), f.kind != "declared", f.id),
    )
    if active:
        lines += ["", f"### Top findings ({min(TOP, len(active))} of {len(active)})", ""]
        for finding in active[:TOP]:
            lines += [line for line in finding_lines(finding) if line]
    waived = [f for f in report.findings if f.waived]
    if waived:
        lines += ["", f"### Waived ({len(waived)})", ""]
        lines += [
            f"- {code(f.id)} (waived): {_cell(f.message)} — {_cell(str((f.waiver or {}).get('reason', '')))}, "
            f"owner {_cell(str((f.waiver or {}).get('owner', '')))}, expires {(f.waiver or {}).get('expires')}"
            for f in waived
        ]
    if report.waivers.expired:
        lines += ["", "### Expired waivers (not applied)", ""]
        lines += [f"- {code(w.finding)} expired {w.expires} (owner {_cell(w.owner)})" for w in report.waivers.expired]
    if report.content:
        lines += ["", f"### Data scanned ({report.content.get('engine')})", ""]
        for d in report.content.get("datasets", []):
            sample = f", sample at {d['sample_rate']:g}" if d.get("sampled") else ""
            bound = d.get("leak_rate_ruled_out_95")
            confidence = f"; rules out a leak rate above {bound:.3%} at 95% confidence" if bound is not None else ""
            lines.append(
                f"- {code(str(d['store']))} ({_cell(str(d['role']))}): {d['objects']} objects, {d['rows']} records, "
                f"{d['scanned_rows']} examined{sample}{confidence}"
            )
    lines += ["", _siblings(report)]
    return ("\n".join(lines) + "\n").encode("utf-8")


SIBLINGS = (
    ("html", "full evidence: report.html"),
    ("pdf", "for signature: report.pdf"),
    ("json", "canonical results: report.json"),
)


def _siblings(report: Report) -> str:
    """Where the rest of the evidence is: only the files this run wrote (html and json, the
    defaults, when a caller renders the summary on its own and the run did not say)."""
    written = set(report.run.formats) or {"html", "json"}
    named = [text for fmt, text in SIBLINGS if fmt in written]
    if not named:
        return "This summary is the only report this run wrote; run again with --format json for every finding."
    text = "; ".join(named)
    return text[0].upper() + text[1:] + "."
