"""What `run` prints for the person at the terminal: the verdict per claim, then the findings
that fail the run, one line each (capped); and the .tf lines of --tf-source."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from audit.basis import short_basis
from audit.cli.common import stderr, stdout
from audit.findings import Finding, severity_rank
from audit.report import Report

VERDICT_STYLE = {
    "contradicted": "bold red",
    "at-risk": "bold dark_orange",
    "no-evidence-contradicting": "green",
    "insufficient-evidence": "magenta",
    "accepted-risk": "yellow",
}

FAILING_SHOWN = 10


def terraform_sources(report: Report, tf_source: str | None) -> dict[str, str]:
    """The .tf line of every resource address the findings cite (--tf-source); notes on stderr."""
    if not tf_source:
        return {}
    from audit.tfsource import locate_all, plan_address

    evidence = [e for f in report.findings for hop in f.path for e in hop.evidence]
    evidence += [e for f in report.findings for e in f.evidence]
    addresses = {planned[1] for e in evidence if (planned := plan_address(e.kind, e.location)) is not None}
    located, notes = locate_all(Path(tf_source), addresses, Path.cwd())
    for note in notes:
        stderr().print(f"note: --tf-source: {note}; those alerts stay on the plan file", markup=False)
    return located


def print_failing(report: Report, fail_on: str) -> None:
    """The findings that fail the run (or, with --fail-on none, every unwaived one), most
    severe first, one line each with its route; capped, the rest counted."""
    threshold = severity_rank(fail_on)
    failing = [f for f in report.findings if not f.waived and (not threshold or severity_rank(f.severity) >= threshold)]
    if not failing:
        return
    failing.sort(key=lambda f: (-severity_rank(f.severity), f.kind != "declared", f.id))
    console = stdout()
    heading = f"failing findings (at or above {fail_on})" if threshold else "findings"
    console.print(f"{heading}: {len(failing)}", markup=False)
    for finding in failing[:FAILING_SHOWN]:
        console.print(
            f"  {finding.severity.upper():<8} {finding.id}  {finding.kind}  {route_line(finding)}", markup=False
        )
        cut = getattr(finding, "cut_edge", None)
        if cut:
            console.print(f"  {'':<8} cut: {edge_text(cut)}", markup=False)
    if len(failing) > FAILING_SHOWN:
        console.print(
            f"  and {len(failing) - FAILING_SHOWN} more: all are in report.json; "
            "'tenant-audit explain REPORT ID' shows one",
            markup=False,
        )


def route_line(finding: Finding, limit: int = 6) -> str:
    """The finding's path on one line; a long path keeps its ends and counts the middle."""
    nodes = [hop.node for hop in finding.path]
    if not nodes:
        return finding.title
    if len(nodes) > limit:
        nodes = [*nodes[:2], f"({len(nodes) - 4} more)", *nodes[-2:]]
    return " -> ".join(nodes)


def edge_text(edge: object) -> str:
    """An edge to cut, whatever shape the finding gives it: text, a (from, to) pair or a mapping."""
    if isinstance(edge, dict):
        ends = [edge.get(k) for k in ("from", "to")] if "from" in edge else [edge.get(k) for k in ("source", "target")]
        kind = edge.get("edge") or edge.get("kind")
        return f"{ends[0]} -[{kind}]-> {ends[1]}" if kind else f"{ends[0]} -> {ends[1]}"
    if isinstance(edge, list | tuple) and len(edge) >= 2:
        return f"{edge[0]} -> {edge[1]}"
    for first, second in (("source", "target"), ("from_node", "to_node"), ("u", "v")):
        if hasattr(edge, first) and hasattr(edge, second):
            return f"{getattr(edge, first)} -> {getattr(edge, second)}"
    return str(edge)


def print_verdicts(report: Report) -> None:
    console = stdout()
    gate = report.summary.gate.decided_by
    title = f"{report.organisation}: {report.summary.verdict.upper()}" + (f" ({gate})" if gate else "")
    table = Table(title=Text(title), title_justify="left")  # estate text is never terminal markup
    table.add_column("Claim", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Findings", justify="right")
    table.add_column("Commitment")
    table.add_column("Basis")
    for claim in report.claims:
        table.add_row(
            Text(claim.id),
            Text(claim.verdict, style=VERDICT_STYLE.get(claim.verdict, "")),
            str(len(claim.finding_ids)),
            Text(claim.text),
            Text(short_basis(claim.basis)),
        )
    console.print(table)
    counts = report.summary.findings_by_severity
    waived = sum(report.summary.waived_by_severity.model_dump().values())
    if waived:
        console.print(f"waived: {waived} finding(s), not counted below", markup=False)
    console.print(
        f"findings: {counts.critical} critical, {counts.high} high, {counts.medium} medium, {counts.low} low; "
        f"coverage gaps: {len(report.coverage.gaps)}",
        markup=False,
    )
