"""The verbs that read reports: explain, diff."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
from pydantic import ValidationError

from audit.cli.common import FAIL_ON, handles_errors, load_waiver_option, main, stdout, waiver_options, warn_expired
from audit.diff import CLAIM_GATES
from audit.errors import EXIT_FINDINGS, EXIT_OK, InputError, Problem, UsageError
from audit.files import Unreadable, read_regular
from audit.findings import Finding
from audit.report import Report


def load_report(path: str) -> Report:
    try:
        return Report.model_validate_json(read_regular(path))
    except Unreadable as exc:
        raise InputError([_problem(path, f"cannot read: it {exc}")]) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError([_problem(path, f"not a tenant-audit report.json ({where}: {first['msg']})")]) from None


def _problem(path: str, message: str) -> Problem:
    return Problem(path, None, "", message, "pass the report.json that 'tenant-audit run' wrote")


@main.command()
@click.argument("report_path", metavar="REPORT")
@click.argument("finding_id")
@handles_errors
def explain(report_path: str, finding_id: str) -> None:
    """Print FINDING_ID's witness path hop by hop, with each hop's evidence."""
    report = load_report(report_path)
    finding = _find(report.findings, finding_id)
    console = stdout()
    console.print(f"{finding.id}  {finding.severity.upper()}  {finding.kind}  {finding.check}", markup=False)
    console.print(finding.title, markup=False)
    console.print(finding.message, markup=False)
    if finding.claim_ids:
        console.print(f"claims: {', '.join(finding.claim_ids)}", markup=False)
    console.print("", markup=False)
    for step, hop in enumerate(finding.path):
        arrow = "   " if hop.edge is None else f"-> [{hop.edge}{'' if hop.declared else ', potential'}"
        arrow += "" if hop.edge is None else ("" if not hop.conditional else ", conditional") + "] "
        console.print(f"{step:>2}. {arrow}{hop.node} ({hop.node_type})", markup=False)
        for item in hop.evidence:
            console.print(f"      evidence: {item.detail}", markup=False)
            console.print(f"                {item.kind} at {item.location}", markup=False)
    if not finding.path:
        for item in finding.evidence:
            console.print(f"evidence: {item.detail} ({item.kind} at {item.location})", markup=False)
    console.print("", markup=False)
    console.print(f"remediation: {finding.remediation}", markup=False)


def _find(findings: Sequence[Finding], wanted: str) -> Finding:
    exact = [f for f in findings if f.id == wanted]
    matches = exact or [f for f in findings if f.id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(
            f"no finding {wanted!r} in the report",
            "ids: " + (", ".join(f.id for f in findings[:10]) or "the report has no findings"),
        )
    raise UsageError(f"{wanted!r} matches {len(matches)} findings", "give more of the id")


@main.command()
@click.argument("base_path", metavar="BASE_REPORT")
@click.argument("head_path", metavar="HEAD_REPORT")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when, at or above this severity and not waived, a finding is new or rose, or a path rule "
    "has a new route (edge or source-sink pair) or one now in use; a claim that got worse fails too.",
)
@click.option(
    "--fail-on-claims",
    type=click.Choice(CLAIM_GATES),
    default="contradicted",
    show_default=True,
    help="Exit 1 when a claim got worse and now stands at or above this verdict (accepted risk never does).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True)
@waiver_options
@handles_errors
def diff(
    base_path: str,
    head_path: str,
    fail_on: str,
    fail_on_claims: str,
    fmt: str,
    waivers_file: str | None,
    ignore_waivers: bool,
) -> None:
    """Compare two report.json files: the findings HEAD introduces and those it resolves."""
    from audit.diff import diff_reports
    from reports.diff import render_json, render_markdown, render_text

    waivers = load_waiver_option(waivers_file, ignore_waivers)
    base, head = load_report(base_path), load_report(head_path)
    if ignore_waivers:
        for finding in head.findings:
            finding.waived, finding.waiver = False, None
    result = diff_reports(base, head, waivers)
    warn_expired(result.expired_waivers)
    renderer = {"text": render_text, "md": render_markdown, "json": render_json}[fmt]
    sys.stdout.buffer.write(renderer(result, fail_on, fail_on_claims))
    sys.exit(EXIT_FINDINGS if result.fails(fail_on, fail_on_claims) else EXIT_OK)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 public key (PEM) that must verify manifest.sig.",
)
@click.option("--inputs", "check_inputs", is_flag=True, help="Also re-hash the input files the manifest lists.")
@handles_errors
def verify(directory: str, public_key: str | None, check_inputs: bool) -> None:
    """Re-check DIRECTORY's reports against its manifest.json (and signature): exit 1 on any change."""
    from audit import manifest

    key = manifest.load_public_key(public_key) if public_key else None
    result = manifest.verify(Path(directory), public_key=key, inputs=check_inputs)
    console = stdout()
    for line in result.checked:
        console.print(f"ok       {line}", markup=False)
    for line in result.notes:
        console.print(f"note     {line}", markup=False)
    for line in result.failures:
        console.print(f"FAILED   {line}", markup=False)
    if result.ok:
        console.print(f"verified: {directory} matches its manifest", markup=False)
        sys.exit(EXIT_OK)
    console.print(f"NOT VERIFIED: {len(result.failures)} problem(s) in {directory}", markup=False)
    sys.exit(EXIT_FINDINGS)
