"""The command line: the only place that prints, writes reports and chooses exit codes.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input error; 3 incomplete evidence where --require-complete asked for completeness.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

import audit
from audit.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, AuditError, InputError, UsageError
from audit.findings import Finding, severity_rank
from audit.report import Report

if TYPE_CHECKING:
    from audit.sources import SourceOptions

P = ParamSpec("P")
R = TypeVar("R")

VERDICT_STYLE = {
    "contradicted": "bold red",
    "at-risk": "bold dark_orange",
    "no-evidence-contradicting": "green",
    "insufficient-evidence": "magenta",
}
FAIL_ON = ("critical", "high", "medium", "low", "none")


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _fail(error: AuditError) -> NoReturn:
    console = _stderr()
    console.print(f"[bold red]error:[/] {error.message}", markup=True)
    for problem in getattr(error, "problems", []):
        console.print(f"  {problem}", markup=False)
    if error.hint:
        console.print(f"  hint: {error.hint}", markup=False)
    sys.exit(error.exit_code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Library errors become a message and an exit code; never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AuditError as error:
            _fail(error)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(audit.__version__, prog_name="tenant-audit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail (tracebacks of failed checks) to stderr.")
def main(verbose: bool) -> None:
    """Audit tenant data isolation: prove client data never reaches training, or find the path that does."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


def source_options(command: Callable[P, R]) -> Callable[P, R]:
    """Options for live sources (``aws``, ``aws:PROFILE``), shared by every verb that loads."""
    decorators = [
        click.option(
            "--assume-role",
            metavar="ROLE_NAME",
            help="Enter each account of --accounts through this role (read-only calls only).",
        ),
        click.option(
            "--accounts",
            "accounts_file",
            type=click.Path(dir_okay=False),
            help="YAML list of account ids to audit with --assume-role.",
        ),
        click.option(
            "--tag-keys",
            default="",
            metavar="data-class=KEY,tenant=KEY,gate=KEY,zone=KEY",
            help="Tag keys that carry classification (defaults: data-class, tenant, gate, zone).",
        ),
        click.option("--region", help="AWS region for regional APIs (default: the profile's, else us-east-1)."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _source_options(
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
    progress: RichProgress | None = None,
) -> SourceOptions:
    from audit.sources import SourceOptions
    from audit.sources.aws import AwsOptions
    from audit.sources.aws.tags import TagMapping
    from audit.sources.aws.targets import load_targets

    try:
        tags = TagMapping.parse(tag_keys)
    except ValueError as exc:
        raise UsageError(f"--tag-keys {exc}") from None
    if accounts_file and not assume_role:
        raise UsageError("--accounts needs --assume-role", "name the read-only role to enter in each account")
    targets = load_targets(Path(accounts_file)) if accounts_file else ()
    options = AwsOptions(region=region, accounts=targets, assume_role=assume_role, tags=tags)
    return SourceOptions(aws=options, progress=progress)


class RichProgress:
    """A progress bar on stderr for live collection; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self._progress = Progress(console=_stderr(), transient=True, disable=not sys.stderr.isatty())
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def begin(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


def _formats(value: str) -> list[str]:
    from reports import RENDERERS

    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in RENDERERS]
    if unknown or not names:
        raise UsageError(
            f"unknown report format: {', '.join(unknown) or '(none)'}", f"choose from {', '.join(sorted(RENDERERS))}"
        )
    return list(dict.fromkeys(names))


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--suite", default="default", show_default=True, help="Built-in suite name or a suite YAML file.")
@click.option(
    "--out",
    "out_dir",
    default="audit-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory to write the reports to.",
)
@click.option("--format", "formats", default="html,json", show_default=True, help="Comma-separated report formats.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when a finding at or above this severity is not waived.",
)
@click.option(
    "--require-complete", is_flag=True, help="Exit 3 when any claim is insufficient-evidence (and nothing else failed)."
)
@source_options
@handles_errors
def run(
    sources: tuple[str, ...],
    suite: str,
    out_dir: str,
    formats: str,
    fail_on: str,
    require_complete: bool,
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
) -> None:
    """Audit SOURCES (inventory files, directories, aws or aws:PROFILE) and write the evidence report."""
    from audit.engine import AuditConfig, run_audit
    from checks import SUITES_DIR, load_registry
    from reports import RENDERERS

    chosen = _formats(formats)
    registry = load_registry()
    for warning in registry.warnings:
        _stderr().print(f"warning: {warning}", markup=False)
    with RichProgress() as progress:
        config = AuditConfig(
            sources=sources,
            suite=suite,
            suites_dir=SUITES_DIR,
            command=_command_line(),
            source_options=_source_options(assume_role, accounts_file, tag_keys, region, progress),
        )
        report = run_audit(config, registry.checks)
    outputs = {RENDERERS[name].filename: RENDERERS[name].render(report) for name in chosen}
    written = _write_all(Path(out_dir), outputs)
    _print_verdicts(report)
    console = _stdout()
    for path in written:
        console.print(f"wrote {path}", markup=False)
    sys.exit(_exit_code(report, fail_on, require_complete))


def _command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["tenant-audit", *sys.argv[1:]])


def _write_all(out_dir: Path, outputs: dict[str, bytes]) -> list[Path]:
    """Write every output or none: each goes to a temporary file first, then is renamed."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        temporary = []
        for name, content in outputs.items():
            tmp = out_dir / f".{name}.tmp"
            tmp.write_bytes(content)
            temporary.append((tmp, out_dir / name))
        for tmp, final in temporary:
            tmp.replace(final)
    except OSError as exc:
        raise UsageError(
            f"cannot write reports to {out_dir}: {exc.strerror or exc}", "choose a writable --out directory"
        ) from None
    return [final for _, final in temporary]


def _print_verdicts(report: Report) -> None:
    console = _stdout()
    table = Table(title=f"{report.organisation}: {report.summary.verdict.upper()}", title_justify="left")
    table.add_column("Claim", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Findings", justify="right")
    table.add_column("Commitment")
    for claim in report.claims:
        table.add_row(
            claim.id, f"[{VERDICT_STYLE[claim.verdict]}]{claim.verdict}[/]", str(len(claim.finding_ids)), claim.text
        )
    console.print(table)
    counts = report.summary.findings_by_severity
    console.print(
        f"findings: {counts.critical} critical, {counts.high} high, {counts.medium} medium, {counts.low} low; "
        f"coverage gaps: {len(report.coverage.gaps)}",
        markup=False,
    )


def _exit_code(report: Report, fail_on: str, require_complete: bool) -> int:
    threshold = severity_rank(fail_on)
    if threshold and any(not f.waived and severity_rank(f.severity) >= threshold for f in report.findings):
        return EXIT_FINDINGS
    if require_complete and any(c.verdict == "insufficient-evidence" for c in report.claims):
        return EXIT_INCOMPLETE
    return EXIT_OK


@main.command()
@click.argument("sources", nargs=-1, required=True)
@source_options
@handles_errors
def validate(
    sources: tuple[str, ...], assume_role: str | None, accounts_file: str | None, tag_keys: str, region: str | None
) -> None:
    """Check SOURCES against inventory format v1; report every problem with file and line."""
    from audit.sources import load_inventory

    with RichProgress() as progress:
        inventory = load_inventory(sources, _source_options(assume_role, accounts_file, tag_keys, region, progress))
    _stdout().print(
        f"ok: {inventory.organisation}: {len(inventory.stores)} stores, {len(inventory.principals)} principals, "
        f"{len(inventory.jobs)} jobs, {len(inventory.flows)} flows from {len(inventory.inputs)} source(s)",
        markup=False,
    )


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["graphml", "json", "dot"]), default="json", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@source_options
@handles_errors
def graph(
    sources: tuple[str, ...],
    fmt: str,
    out_file: str | None,
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
) -> None:
    """Export the data graph of SOURCES as GraphML, node-link JSON or DOT."""
    from audit.graph.build import build_graph
    from audit.graph.export import EXPORTERS
    from audit.sources import load_inventory

    with RichProgress() as progress:
        inventory = load_inventory(sources, _source_options(assume_role, accounts_file, tag_keys, region, progress))
    data = EXPORTERS[fmt](build_graph(inventory))
    if out_file:
        _write_all(Path(out_file).parent, {Path(out_file).name: data})
    else:
        sys.stdout.buffer.write(data)


def load_report(path: str) -> Report:
    try:
        return Report.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise InputError([_problem(path, f"cannot read: {exc.strerror or exc}")]) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError([_problem(path, f"not a tenant-audit report.json ({where}: {first['msg']})")]) from None


def _problem(path: str, message: str) -> Any:
    from audit.errors import Problem

    return Problem(path, None, "", message, "pass the report.json that 'tenant-audit run' wrote")


@main.command()
@click.argument("report_path", metavar="REPORT")
@click.argument("finding_id")
@handles_errors
def explain(report_path: str, finding_id: str) -> None:
    """Print FINDING_ID's witness path hop by hop, with each hop's evidence."""
    report = load_report(report_path)
    finding = _find(report.findings, finding_id)
    console = _stdout()
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


@main.command(name="checks")
@handles_errors
def list_checks() -> None:
    """List the registered checks and the claims they bear on."""
    from checks import load_registry

    registry = load_registry()
    table = Table()
    for column in ("Check", "Severity", "Claims", "Title", "Origin"):
        table.add_column(column)
    for check_id, check in sorted(registry.checks.items()):
        table.add_row(check_id, check.severity, ", ".join(check.claim_ids), check.title, registry.origins[check_id])
    _stdout().print(table)
    for warning in registry.warnings:
        _stderr().print(f"warning: {warning}", markup=False)


if __name__ == "__main__":  # pragma: no cover
    main()
