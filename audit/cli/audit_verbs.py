"""The verbs that audit sources: run, validate, graph, checks, synth."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from audit.cli.common import (
    FAIL_ON,
    FORMATS,
    RichProgress,
    build_source_options,
    command_line,
    handles_errors,
    load_waiver_option,
    main,
    parse_formats,
    source_options,
    stderr,
    stdout,
    waiver_options,
    warn_expired,
    write_all,
)
from audit.cli.console import print_failing, print_verdicts, terraform_sources
from audit.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError
from audit.report import CLAIM_GATES, Report

PAPER = ("a4", "letter")  # reports.PAPER_SIZES, without importing the renderers for the help text


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
@click.option(
    "--format",
    "formats",
    default="html,json",
    show_default=True,
    metavar="FORMAT[,FORMAT...]",
    help=f"Comma-separated report formats, any of: {', '.join(FORMATS)}.",
)
@click.option(
    "--paper",
    type=click.Choice(PAPER),
    default="a4",
    show_default=True,
    help="Paper size of the PDF (and of report.html when printed).",
)
@click.option(
    "--tf-source",
    "tf_source",
    type=click.Path(file_okay=False, exists=True),
    help="Root module of the Terraform code a plan came from: SARIF alerts then land on the .tf lines.",
)
@click.option(
    "--mapping",
    "mappings",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A compliance mapping file (claims to framework controls), added to the built-in ones; repeatable.",
)
@click.option(
    "--audit-info",
    "audit_info",
    type=click.Path(dir_okay=False),
    help="YAML file with an 'audit:' section: auditor, preparer, contact, period, scope (for the cover).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when a finding at or above this severity is not waived.",
)
@click.option(
    "--fail-on-claims",
    type=click.Choice(CLAIM_GATES),
    default="contradicted",
    show_default=True,
    help="Exit 1 too when a claim's verdict is at or above this one (accepted risk never is); "
    "'none' leaves the gate to --fail-on alone.",
)
@click.option(
    "--base",
    "base_report",
    type=click.Path(dir_okay=False),
    help="A base run's report.json: the findings and routes this run adds are marked new since base.",
)
@click.option(
    "--require-complete", is_flag=True, help="Exit 3 when any claim is insufficient-evidence (and nothing else failed)."
)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "spark"]),
    default="pandas",
    show_default=True,
    help="Engine for content checks (DAT-*): pandas on this machine, or Apache Spark.",
)
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL for --engine spark.")
@click.option(
    "--spark-conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting for --engine spark (repeatable), e.g. spark.driver.memory=8g.",
)
@click.option(
    "--sample",
    "sample_rate",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of training records content checks examine (a deterministic sample; 1 = all).",
)
@click.option(
    "--show-values",
    is_flag=True,
    help="Put the matching values (secrets masked) in the report; by default only locations and digests.",
)
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 private key (PEM): sign manifest.json, writing manifest.sig.",
)
@waiver_options
@source_options
@handles_errors
def run(
    sources: tuple[str, ...],
    suite: str,
    out_dir: str,
    formats: str,
    fail_on: str,
    fail_on_claims: str,
    base_report: str | None,
    require_complete: bool,
    engine: str,
    spark_master: str,
    spark_conf: tuple[str, ...],
    sample_rate: float,
    show_values: bool,
    sign_key: str | None,
    paper: str,
    tf_source: str | None,
    mappings: tuple[str, ...],
    audit_info: str | None,
    waivers_file: str | None,
    ignore_waivers: bool,
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
    since: str | None,
) -> None:
    """Audit SOURCES (inventory files, directories, aws or aws:PROFILE) and write the evidence report."""
    from audit import manifest
    from audit.compliance import load_frameworks
    from audit.engagement import load_engagement
    from audit.engine import AuditConfig, run_audit
    from checks import MAPPINGS_DIR, SUITES_DIR, load_registry
    from reports import RENDERERS

    chosen = parse_formats(formats)
    from audit.cli.report_verbs import load_report

    base = load_report(base_report) if base_report else None  # read first: a bad file stops the run
    engagement = load_engagement(Path(audit_info)) if audit_info else None
    frameworks = load_frameworks(MAPPINGS_DIR, [Path(m) for m in mappings])
    signing_key = manifest.load_private_key(sign_key) if sign_key else None
    content = content_options(engine, spark_master, spark_conf, sample_rate, show_values)
    waivers = load_waiver_option(waivers_file, ignore_waivers)
    registry = load_registry()
    for warning in registry.warnings:
        stderr().print(f"warning: {warning}", markup=False)
    with RichProgress() as progress:
        config = AuditConfig(
            sources=sources,
            suite=suite,
            suites_dir=SUITES_DIR,
            command=command_line(),
            source_options=build_source_options(assume_role, accounts_file, tag_keys, region, progress, since),
            waivers=waivers,
            waivers_file=waivers_file or "" if waivers else "",
            content=content,
            engagement=engagement,
            frameworks=frameworks,
            on_stage=progress.stage,
            fail_on=fail_on,
            fail_on_claims=fail_on_claims,
        )
        report = run_audit(config, registry.checks)
        progress.stage("writing the reports")
        # what the reports say about their siblings and the manifest (report.md's link, the cover)
        run = report.run.model_copy(update={"formats": chosen, "manifest_signed": signing_key is not None})
        report = report.model_copy(update={"run": run, "terraform_sources": terraform_sources(report, tf_source)})
        if base is not None:
            report = report.model_copy(update={"since_base": since_base(base, report, fail_on)})
        outputs = {RENDERERS[name].filename: RENDERERS[name](report, paper) for name in chosen}
    warn_expired(report.waivers.expired)
    outputs |= manifest.build(report, outputs, signing_key=signing_key)
    # the run owns the whole report set: a format not requested this time, or a signature of
    # an earlier manifest, is removed, so the directory never mixes two runs
    owned = frozenset({r.filename for r in RENDERERS.values()} | {manifest.MANIFEST, manifest.SIGNATURE})
    written = write_all(Path(out_dir), outputs, owned)
    print_verdicts(report)
    print_failing(report, fail_on)
    console = stdout()
    for path in written:
        console.print(f"wrote {path}", markup=False)
    warn_unused(report.waivers.unused)
    sys.exit(_exit_code(report, require_complete))


def content_options(
    engine: str, spark_master: str, spark_conf: tuple[str, ...], sample_rate: float, show_values: bool
) -> Any:
    from audit.content.requests import ContentOptions
    from audit.errors import UsageError

    settings = []
    for item in spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf {item!r} is not KEY=VALUE", "e.g. --spark-conf spark.driver.memory=8g")
        settings.append((key.strip(), value.strip()))
    if engine == "spark":
        from audit.content.spark import check_available

        check_available()  # no PySpark: say so before the audit runs
    return ContentOptions(
        engine="spark" if engine == "spark" else "pandas",
        show_values=show_values,
        sample_rate=sample_rate,
        spark_master=spark_master,
        spark_conf=tuple(settings),
    )


def _exit_code(report: Report, require_complete: bool) -> int:
    """Exit 1 exactly when the report's verdict is "fail" (the gate decided it there)."""
    if report.summary.verdict == "fail":
        return EXIT_FINDINGS
    if require_complete and any(c.verdict == "insufficient-evidence" for c in report.claims):
        return EXIT_INCOMPLETE
    return EXIT_OK


def since_base(base: Report, head: Report, fail_on: str) -> dict[str, Any]:
    """What a run adds to a base run: the ids of its new findings and every route reason."""
    from audit.diff import diff_reports

    result = diff_reports(base, head)
    return {
        "base_started_at": base.run.started_at,
        "new": sorted(f.id for f in result.new),
        "moved": sorted(f.id for f in result.moved),
        "routes": [vars(r) for r in result.routes],
        "fails": result.fails(fail_on, head.summary.gate.fail_on_claims),
    }


def warn_unused(unused: list[Any]) -> None:
    """A waiver that matched no finding is a stale decision: say so on the console."""
    for waiver in unused:
        stderr().print(
            f"warning: waiver for {waiver.finding} (owner {waiver.owner}) matched no finding of this run",
            markup=False,
        )


@main.command()
@click.argument("sources", nargs=-1, required=True)
@source_options
@handles_errors
def validate(
    sources: tuple[str, ...],
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
    since: str | None,
) -> None:
    """Check SOURCES against inventory format v1; report every problem with file and line."""
    from audit.sources import load_inventory

    with RichProgress() as progress:
        inventory = load_inventory(
            sources, build_source_options(assume_role, accounts_file, tag_keys, region, progress, since)
        )
    stdout().print(
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
    since: str | None,
) -> None:
    """Export the data graph of SOURCES as GraphML, node-link JSON or DOT."""
    from audit.graph.build import build_graph
    from audit.graph.export import EXPORTERS
    from audit.sources import load_inventory

    with RichProgress() as progress:
        inventory = load_inventory(
            sources, build_source_options(assume_role, accounts_file, tag_keys, region, progress, since)
        )
    data = EXPORTERS[fmt](build_graph(inventory))
    if out_file:
        write_all(Path(out_file).parent, {Path(out_file).name: data})
    else:
        sys.stdout.buffer.write(data)


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
        table.add_row(
            *(Text(str(v)) for v in (check_id, check.severity, ", ".join(check.claim_ids), check.title)),
            Text(str(registry.origins[check_id])),
        )
    stdout().print(table)
    for warning in registry.warnings:
        stderr().print(f"warning: {warning}", markup=False)


@main.command()
@click.option("--stores", type=click.IntRange(min=1), default=1000, show_default=True, help="About this many stores.")
@click.option("--roles", type=click.IntRange(min=1), default=200, show_default=True, help="About this many roles.")
@click.option("--jobs", type=click.IntRange(min=1), default=600, show_default=True, help="About this many jobs.")
@click.option("--tenants", type=click.IntRange(min=2), default=20, show_default=True, help="Tenants (at least 2).")
@click.option("--seed", type=int, default=7, show_default=True, help="The same seed gives the same estate.")
@click.option("--clean", is_flag=True, help="Plant no violation: a full audit of the estate finds nothing.")
@click.option(
    "--fanout",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="Upstream buckets each tenant job reads beyond its own: about 3 edges per node at 1, 5 at 4.",
)
@click.option(
    "--out",
    "out_dir",
    default="synth-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Writes OUT/inventory/*.json and OUT/planted.json.",
)
@click.option(
    "--aws-endpoint",
    metavar="URL",
    help="Also build the estate in the AWS emulator at URL (moto's server on this machine; "
    "never a real account) and write OUT/aws/overlay.json and OUT/aws/accounts.json.",
)
@handles_errors
def synth(
    stores: int,
    roles: int,
    jobs: int,
    tenants: int,
    seed: int,
    clean: bool,
    fanout: int,
    out_dir: str,
    aws_endpoint: str | None,
) -> None:
    """Write a synthetic estate with planted violations, for scale tests and benchmarks.

    Every violation planted is listed in OUT/planted.json as (check, source store, sink, the job
    it goes through): `tenant-audit run OUT/inventory` must report each of them; with --clean
    it must report nothing.

    With --aws-endpoint the same estate is built in an AWS emulator (buckets with their tags
    and settings, roles with their policies, training jobs), and the overlay holds what AWS
    cannot say (zones, tenants, ETL jobs). Auditing the live estate must then report the same:
    `tenant-audit run aws OUT/aws/overlay.json --accounts OUT/aws/accounts.json
    --assume-role auditor`, with AWS_ENDPOINT_URL set to the emulator.
    """
    from audit import synth as synthetic

    if tenants * 2 > stores:
        raise UsageError(f"{tenants} tenants need at least {tenants * 2} stores", "raise --stores or lower --tenants")
    session_for = _emulator(aws_endpoint) if aws_endpoint else None  # asked before anything is written
    estate = synthetic.generate(stores, roles, jobs, tenants, seed=seed, leaks=not clean, fanout=fanout)
    files = synthetic.documents(estate)
    out = Path(out_dir)
    planted = files.pop(synthetic.PLANTED)
    write_all(out / "inventory", files)
    write_all(out, {synthetic.PLANTED: planted})
    stdout().print(
        f"wrote {out / 'inventory'}: {len(estate.stores):,} stores, {len(estate.principals):,} principals, "
        f"{len(estate.jobs):,} jobs, {len(estate.tenants):,} tenants; "
        f"{len(estate.planted)} planted violation(s) in {out / synthetic.PLANTED}",
        markup=False,
    )
    if aws_endpoint:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            aws_files = synthetic.emulator_files(out, session_for, aws_endpoint)
        except (BotoCoreError, ClientError) as exc:
            raise UsageError(
                f"building the estate in {aws_endpoint} failed: {exc}", "is the emulator running there?"
            ) from exc
        write_all(out / "aws", aws_files)
        stdout().print(
            f"built the estate in {aws_endpoint}; wrote {out / 'aws' / 'overlay.json'} and "
            f"{out / 'aws' / 'accounts.json'}",
            markup=False,
        )


def _emulator(endpoint: str) -> Any:
    """Sessions in the emulator, once it has answered (so nothing is written for nothing)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from audit.estate import emulator_sessions
    from audit.synth import SERVING

    session_for = emulator_sessions(endpoint)
    try:
        session_for(SERVING)
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(f"no AWS emulator answers at {endpoint}: {exc}", "start moto's server there first") from exc
    return session_for
