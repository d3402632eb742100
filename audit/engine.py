"""The engine: sources -> inventory -> graph -> checks -> findings -> verdicts -> report.

It never prints and never exits; the CLI does both. A check that raises becomes a
coverage gap for its claims (fail closed), with the traceback logged at debug level.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import audit
from audit.basis import claim_basis, statement
from audit.checkapi import Check, CheckContext, Observation, Routes, matching
from audit.compliance import Framework
from audit.coverage import CoverageGap
from audit.engagement import Engagement
from audit.findings import SEVERITIES, Finding, severity_rank
from audit.graph.access import AccessDeriver
from audit.graph.build import build_graph
from audit.graph.model import DataGraph
from audit.inventory import Inventory
from audit.paths import relative, rewrite
from audit.redact import redact
from audit.report import (
    CheckRun,
    ClaimResult,
    ConflictOut,
    Coverage,
    Gap,
    Gate,
    InputInfo,
    ObservationOut,
    Report,
    RoutesOut,
    RunInfo,
    SeverityCounts,
    StatedValue,
    Summary,
    ToolInfo,
    Verdict,
    WaiverOut,
    Waivers,
    claim_fails,
)
from audit.scope import describe_scope, observed
from audit.sources import SourceOptions, load_inventory
from audit.suites import Suite, load_suite
from audit.waivers import Waiver, apply_waivers

if TYPE_CHECKING:
    from audit.content.results import ContentResults
    from audit.content.scan import ContentOptions

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AuditConfig:
    """Everything one run needs, built by the CLI (or a caller) and passed down."""

    sources: tuple[str, ...]
    suite: str = "default"
    suites_dir: Path = Path(".")
    command: str = ""
    derivers: Sequence[AccessDeriver] | None = None
    source_options: SourceOptions | None = None
    waivers: tuple[Waiver, ...] = ()
    waivers_file: str = ""
    content: ContentOptions | None = None  # how content checks read data (default: pandas, no values)
    engagement: Engagement | None = None  # auditor, period, scope (``--audit-info``)
    frameworks: tuple[Framework, ...] = ()  # compliance mappings (checks/mappings, --mapping)
    base_dir: Path = field(default_factory=Path.cwd)  # paths in the report are relative to it
    on_stage: Callable[[str], None] | None = None  # told as each stage starts (the CLI's progress)
    fail_on: str = "high"  # the gate: findings at or above this severity fail the run
    fail_on_claims: str = "contradicted"  # ...and claims at or above this verdict


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)
    runs: list[CheckRun] = field(default_factory=list)
    observations: list[ObservationOut] = field(default_factory=list)
    violations: list[RoutesOut] = field(default_factory=list)
    # the claims some installed content check bears on: for them, not reading the data limits the verdict
    data_claims: frozenset[str] = frozenset()


@contextmanager
def _batch_memory() -> Iterator[None]:
    """No cyclic garbage collection while the audit runs: it builds millions of objects that
    live until the report is written, and each collection would scan them all again (a
    third of the run time on large estates). Reference counting still frees what is let go."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_kept: list[object] | None = None  # see keep_until_exit


def keep_until_exit() -> None:
    """Keep every audit's inventory and graph alive until the process ends. For a program
    that ends with ``os._exit`` (the ``tenant-audit`` command): freeing millions of objects
    one by one takes seconds on a large estate, and the operating system reclaims the
    memory at once. Never for a library caller, whose process goes on."""
    global _kept  # noqa: PLW0603 - a process-wide choice, made once by the program
    if _kept is None:
        _kept = []


def run_audit(config: AuditConfig, checks: Mapping[str, Check], clock: Clock | None = None) -> Report:
    with _batch_memory():
        return _run_audit(config, checks, clock)


def _run_audit(config: AuditConfig, checks: Mapping[str, Check], clock: Clock | None = None) -> Report:
    now = clock or (lambda: datetime.now(UTC))
    stage = config.on_stage or (lambda _: None)
    started = now()
    suite = load_suite(config.suite, config.suites_dir, checks)
    stage("reading sources")
    inventory = load_inventory(config.sources, config.source_options)
    stage("building the data graph")
    graph = build_graph(inventory, config.derivers)
    if any(spec.check.content is not None for spec in suite.selected.values()):
        stage("scanning content")
    content = scan_content(suite, inventory, config.content)
    stage("running checks")
    evaluation = evaluate(suite, inventory, graph, started, content)
    if _kept is not None:
        _kept.append((inventory, graph))
    evaluation.data_claims = frozenset(c for k in checks.values() if k.content is not None for c in k.claim_ids)
    stage("assembling the report")
    return assemble(config, suite, inventory, graph, evaluation, started, now(), content)


def scan_content(suite: Suite, inventory: Inventory, options: ContentOptions | None) -> ContentResults | None:
    """One scan of the data for every content check of the suite (None: the suite has none).

    A scan that breaks is a coverage gap for every content check (fail closed); a bad
    expectation suite file is an input error like any other."""
    content_checks = {i: s for i, s in sorted(suite.selected.items()) if s.check.content is not None}
    if not content_checks:
        return None
    from audit.content.results import ContentGap, ContentResults
    from audit.content.scan import ContentOptions, run_scan
    from audit.errors import AuditError

    chosen = options or ContentOptions()
    requests = [r for s in content_checks.values() for r in s.check.content(s.params, inventory)]  # type: ignore[misc]
    try:
        return run_scan(inventory, requests, chosen)
    except AuditError:
        raise
    except Exception as exc:  # a broken scan proves nothing: every content claim stays open
        log.debug("content scan failed", exc_info=True)
        results = ContentResults(engine=chosen.engine, show_values=chosen.show_values, failed=str(exc))
        results.gaps.append(
            ContentGap(
                scope="content",
                reason=f"the content scan failed: {type(exc).__name__}: {exc}",
                checks=tuple(content_checks),
            )
        )
        return results


def evaluate(
    suite: Suite,
    inventory: Inventory,
    graph: DataGraph,
    now: datetime | None = None,
    content: ContentResults | None = None,
) -> Evaluation:
    result = Evaluation()
    moment = now or datetime.now(UTC)
    for check_id, selected in sorted(suite.selected.items()):
        check = selected.check
        context = CheckContext(
            check=check, inventory=inventory, graph=graph, params=selected.params, now=moment, content=content
        )
        try:
            outcomes = list(check.evaluate(context))
        except Exception as exc:  # fail closed: a broken check is a gap, never a pass
            log.debug("check %s failed", check_id, exc_info=True)
            result.gaps.append(
                CoverageGap(
                    scope=f"check:{check_id}",
                    reason=f"the check failed to run: {type(exc).__name__}: {exc}",
                    checks=(check_id,),
                )
            )
            result.runs.append(_run_record(check, selected.claim_ids, "failed", 0))
            continue
        found = [o for o in outcomes if isinstance(o, Finding)]
        for finding in found:
            narrowed = [c for c in selected.claim_ids if c in finding.claim_ids]
            finding.claim_ids = narrowed or list(selected.claim_ids)
        result.findings.extend(found)
        result.gaps.extend(_narrowed(o, selected.claim_ids) for o in outcomes if isinstance(o, CoverageGap))
        result.observations.extend(
            ObservationOut(check=check_id, **o.model_dump()) for o in outcomes if isinstance(o, Observation)
        )
        result.violations.extend(RoutesOut(check=check_id, **o.model_dump()) for o in outcomes if isinstance(o, Routes))
        result.runs.append(_run_record(check, selected.claim_ids, "ran", len(found)))
    result.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.check, f.id))
    return result


def _narrowed(gap: CoverageGap, claim_ids: Iterable[str]) -> CoverageGap:
    """A gap a check aims at some of its claims bears only on those the suite maps it to."""
    if not gap.claims or gap.checks:
        return gap
    mapped = set(claim_ids)
    return gap.model_copy(update={"claims": tuple(c for c in gap.claims if c in mapped)})


def _run_record(check: Check, claim_ids: Iterable[str], status: Literal["ran", "failed"], count: int) -> CheckRun:
    return CheckRun(
        id=check.id,
        title=check.title,
        severity=check.severity,
        claim_ids=list(claim_ids),
        rationale=check.rationale,
        status=status,
        findings=count,
    )


def claim_verdict(findings: Sequence[Finding], gaps: Sequence[Gap]) -> Verdict:
    """Contradicted by a declared violation; at risk with potential ones only; accepted risk
    when every contradicting finding is waived (never "no evidence contradicting": there is
    such evidence); otherwise insufficient evidence when a gap touches the claim, else no
    evidence contradicting."""
    active = [f for f in findings if not f.waived]
    if any(f.kind == "declared" for f in active):
        return "contradicted"
    if active:
        return "at-risk"
    if findings:
        return "accepted-risk"
    if gaps:
        return "insufficient-evidence"
    return "no-evidence-contradicting"


def _gap_claims(gap: CoverageGap, suite: Suite) -> list[str]:
    if "*" in gap.checks:  # undermines everything the audit could say
        return [c.id for c in suite.claims]
    claims = set(gap.claims)
    for pattern in gap.checks:
        for check in matching({i: s.check for i, s in suite.selected.items()}, pattern):
            claims.update(suite.selected[check.id].claim_ids)
    return sorted(claims, key=lambda c: int(c[1:]))


def assemble(
    config: AuditConfig,
    suite: Suite,
    inventory: Inventory,
    graph: DataGraph,
    evaluation: Evaluation,
    started: datetime,
    finished: datetime,
    content: ContentResults | None = None,
) -> Report:
    outcome = apply_waivers(evaluation.findings, config.waivers, started.date())
    content_gaps = (
        [CoverageGap(scope=g.scope, reason=g.reason, checks=g.checks) for g in content.gaps] if content else []
    )
    raw_gaps = [*inventory.gaps, *graph.gaps, *suite.gaps, *content_gaps, *evaluation.gaps]
    if not inventory.stores:
        raw_gaps.insert(0, CoverageGap(scope="inventory", reason="the sources describe no store at all"))
    gaps = _unique(
        [Gap(scope=g.scope, reason=g.reason, checks=list(g.checks), claim_ids=_gap_claims(g, suite)) for g in raw_gaps]
    )
    claims: list[ClaimResult] = []
    runs = {r.id: r for r in evaluation.runs}
    for spec in suite.claims:
        in_claim = [f for f in evaluation.findings if spec.id in f.claim_ids]
        claim_gaps = [g for g in gaps if spec.id in g.claim_ids]
        verdict = claim_verdict(in_claim, claim_gaps)
        basis = claim_basis(
            spec.id,
            {c: suite.selected[c].check for c in suite.claim_checks(spec.id)},
            runs,
            inventory,
            content,
            suite.name,
            evaluation.data_claims,
            claim_gaps,
            found=any(not f.waived for f in in_claim),
        )
        accepted = (
            [WaiverOut(**outcome.applied[f.id].model_dump(mode="json")) for f in in_claim if f.id in outcome.applied]
            if verdict == "accepted-risk"
            else []
        )
        said = statement(verdict, spec.text, basis)
        if accepted:
            said += (
                " (accepted: "
                + "; ".join(f"{w.finding} waived by {w.owner} until {w.expires}: {w.reason}" for w in accepted)
                + ")"
            )
        claims.append(
            ClaimResult(
                id=spec.id,
                text=spec.text,
                verdict=verdict,
                statement=said,
                basis=basis,
                finding_ids=[f.id for f in in_claim],
                checks=suite.claim_checks(spec.id),
                gaps=[f"{g.scope}: {g.reason}" for g in claim_gaps],
                waivers=accepted,
            )
        )
    report = Report(
        tool=ToolInfo(name="tenant-audit", version=audit.__version__),
        run=RunInfo(
            started_at=started.isoformat(timespec="seconds"),
            finished_at=finished.isoformat(timespec="seconds"),
            inputs=[InputInfo(source=i.source, path_or_uri=i.path_or_uri, sha256=i.sha256) for i in inventory.inputs],
            suite=suite.name,
            suite_path=_suite_path(suite.path, config),
            suite_sha256=_sha256_of(suite.path),
            command=config.command,
            since=config.source_options.since.isoformat()
            if config.source_options and config.source_options.since
            else "",
        ),
        organisation=inventory.organisation,
        summary=_summary(evaluation.findings, claims, config.fail_on, config.fail_on_claims),
        claims=claims,
        findings=evaluation.findings,
        coverage=Coverage(gaps=gaps, observed=observed(inventory, graph)),
        checks=evaluation.runs,
        scope=describe_scope(inventory, graph, [_route_keys(f) for f in evaluation.findings if not f.waived]),
        observations=evaluation.observations,
        violations=evaluation.violations,
        waivers=Waivers(
            file=config.waivers_file,
            applied={fid: WaiverOut(**w.model_dump(mode="json")) for fid, w in outcome.applied.items()},
            expired=[WaiverOut(**w.model_dump(mode="json")) for w in outcome.expired],
            unused=[WaiverOut(**w.model_dump(mode="json")) for w in outcome.unused],
        ),
        conflicts=[
            ConflictOut(
                entity=c.entity,
                field=c.field,
                chosen=c.chosen,
                rule=c.rule,
                values=[StatedValue(value=v, location=where) for v, where in c.values],
            )
            for c in inventory.conflicts
        ],
        content=content.summary() if content is not None else None,
        audit=config.engagement,
        compliance=[
            mapped for framework in config.frameworks if (mapped := framework.for_claims(c.id for c in claims)).controls
        ],
    )
    # evidence quotes configuration, which may hold credentials: no format may carry them
    document = redact(report.model_dump(by_alias=True))
    roots = [suite.path, config.waivers_file, *(i.path_or_uri for i in inventory.inputs)]
    roots += [str(Path(i.path_or_uri).parent) for i in inventory.inputs if Path(i.path_or_uri).is_absolute()]
    return Report.model_validate(rewrite(document, [r for r in roots if r], config.base_dir))


def _route_keys(finding: Finding) -> list[str]:
    """The graph keys of a finding's path (stores are ``store:ID``; the public is ``public``)."""
    outside = ("public", "external")
    return [hop.node if hop.node_type in outside else f"{hop.node_type}:{hop.node}" for hop in finding.path]


def _suite_path(path: str, config: AuditConfig) -> str:
    """A built-in suite by name (where the package is installed is no part of the evidence)."""
    if Path(path).resolve().parent == config.suites_dir.resolve():
        return f"built-in: {Path(path).name}"
    return relative(str(Path(path).absolute()), config.base_dir)


def _sha256_of(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _unique(gaps: list[Gap]) -> list[Gap]:
    seen: dict[tuple[str, str], Gap] = {}
    for gap in gaps:
        seen.setdefault((gap.scope, gap.reason), gap)
    return list(seen.values())


def _summary(findings: Sequence[Finding], claims: Sequence[ClaimResult], fail_on: str, fail_on_claims: str) -> Summary:
    """The run's verdict is "fail" exactly when it exits 1: a finding at or above the gate's
    severity that is not waived, or a claim at or above its claims gate."""
    active = SeverityCounts()
    waived = SeverityCounts()
    for finding in findings:
        counts = waived if finding.waived else active
        setattr(counts, finding.severity, getattr(counts, finding.severity) + 1)
    by_verdict: dict[str, int] = {}
    for claim in claims:
        by_verdict[claim.verdict] = by_verdict.get(claim.verdict, 0) + 1
    threshold = severity_rank(fail_on)
    failing = [f for f in findings if threshold and not f.waived and severity_rank(f.severity) >= threshold]
    failing_claims = [c.id for c in claims if claim_fails(c.verdict, fail_on_claims)]
    reasons = []
    if failing:
        reasons.append(f"{len(failing)} finding{'s' if len(failing) != 1 else ''} at or above {fail_on}")
    if failing_claims:
        reasons.append(
            f"claim{'s' if len(failing_claims) != 1 else ''} {', '.join(failing_claims)} at or above {fail_on_claims}"
        )
    verdicts = {c.verdict for c in claims}
    if reasons:
        verdict = "fail"
        decided = "fails the gate: " + "; ".join(reasons)
    elif "insufficient-evidence" in verdicts or not claims:
        verdict = "incomplete"
        decided = (
            f"passes the gate (no finding at or above {fail_on}, no claim at or above {fail_on_claims}), "
            "but a claim lacks evidence"
        )
    elif verdicts & {"contradicted", "at-risk"} or any(not f.waived for f in findings):
        verdict = "at-risk"
        decided = (
            f"passes the gate (no finding at or above {fail_on}, no claim at or above {fail_on_claims}), "
            "but findings below it stand"
        )
    else:
        verdict = "pass"
        decided = f"passes the gate: no finding at or above {fail_on}, no claim at or above {fail_on_claims}"
    return Summary(
        verdict=verdict,
        gate=Gate(fail_on=fail_on, fail_on_claims=fail_on_claims, decided_by=decided),
        findings_by_severity=active,
        waived_by_severity=waived,
        claims_by_verdict=by_verdict,
    )
