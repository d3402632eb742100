"""A moto estate built from the example organisation (and each leaky variant) audits to
the same verdicts and findings as the described inventory it mirrors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from audit.engine import AuditConfig, run_audit
from audit.estate import EstateBuilder
from audit.report import Report
from audit.sources import SourceOptions, load_inventory
from audit.sources.aws import AccountTarget, AwsOptions
from checks import SUITES_DIR, load_registry
from tests.audit.sources.aws.conftest import ACCOUNTS, SessionFor
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources

VARIANTS = sorted(p.name for p in LEAKS.iterdir() if p.is_dir())


def audit_estate(overlay: Path) -> Report:
    options = SourceOptions(aws=AwsOptions(accounts=tuple(AccountTarget(a) for a in ACCOUNTS), assume_role="auditor"))
    config = AuditConfig(sources=("aws", str(overlay)), suites_dir=SUITES_DIR, source_options=options)
    return run_audit(config, load_registry(plugins=False).checks)


def shape(report: Report) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f.check, f.kind, tuple(h.node for h in f.path)) for f in report.findings}


@pytest.mark.parametrize("variant", [None, *VARIANTS])
def test_estate_audits_like_the_inventory_it_mirrors(
    variant: str | None, session_for: SessionFor, tmp_path: Path
) -> None:
    sources = [EXAMPLE_ORG, *([LEAKS / variant] if variant else [])]
    described = audit_sources(*sources)
    overlay = EstateBuilder(load_inventory([str(s) for s in sources]), session_for).build()
    overlay_path = tmp_path / "overlay.yaml"
    overlay_path.write_text(yaml.safe_dump(overlay, sort_keys=False))

    collected = audit_estate(overlay_path)

    assert {c.id: c.verdict for c in collected.claims} == {c.id: c.verdict for c in described.claims}
    assert shape(collected) == shape(described)
    assert {f.id for f in collected.findings} == {f.id for f in described.findings}


def test_live_estate_lineage_and_overlay_merge_into_one_inventory(session_for: SessionFor, tmp_path: Path) -> None:
    """aws + OpenLineage events + an overlay: the ETL comes from lineage, the rest from AWS."""
    lineage = Path(__file__).parents[4] / "fixtures" / "lineage"
    overlay = EstateBuilder(load_inventory([str(EXAMPLE_ORG)]), session_for).build()
    overlay["jobs"] = []  # the jobs are known from lineage (and the training job from SageMaker)
    overlay["flows"] = []
    overlay_path = tmp_path / "overlay.yaml"
    overlay_path.write_text(yaml.safe_dump(overlay, sort_keys=False))
    options = SourceOptions(aws=AwsOptions(accounts=tuple(AccountTarget(a) for a in ACCOUNTS), assume_role="auditor"))
    sources = (
        "aws",
        str(lineage / "example-org.ndjson"),
        str(lineage / "leaks" / "debug-export.ndjson"),
        str(lineage / "jobs.yaml"),
        str(overlay_path),
    )
    report = run_audit(
        AuditConfig(sources=sources, suites_dir=SUITES_DIR, source_options=options), load_registry(plugins=False).checks
    )
    described = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    # the same route, cut at the same edge of the opt-in chats (the finding id names the cut
    # edge, and lineage names the job by its own job name)
    assert {(f.cut_edge or {}).get("source") for f in report.findings if f.check == "ISO-004"} == {
        (f.cut_edge or {}).get("source") for f in described.findings if f.check == "ISO-004"
    }
    assert {"aws", "openlineage", "inventory"} == {i.source for i in report.run.inputs}
    # one node per store, whichever way each source names it
    assert len(next(s for s in report.scope["classes"] if s["id"] == "consumer-opt-in")["stores"]["items"]) == 2
