"""The engine: verdicts per claim, fail-closed coverage, stable ids, broken checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.checkapi import Check
from audit.engine import AuditConfig, claim_verdict, run_audit
from audit.findings import Finding
from audit.report import Gap
from checks import SUITES_DIR, load_registry
from tests.conftest import EXAMPLE_ORG, LEAKS, MINIMAL_ORG, WriteYaml, audit_sources, verdicts


def _finding(kind: str, waived: bool = False) -> Finding:
    return Finding(
        id="X-1",
        check="ISO-001",
        severity="high",
        title="t",
        message="m",
        kind=kind,  # type: ignore[arg-type]
        remediation="r",
        waived=waived,
    )


@pytest.mark.parametrize(
    ("findings", "gaps", "expected"),
    [
        ([], [], "no-evidence-contradicting"),
        ([], [Gap(scope="s", reason="r")], "insufficient-evidence"),
        ([_finding("potential")], [], "at-risk"),
        ([_finding("potential")], [Gap(scope="s", reason="r")], "at-risk"),
        ([_finding("potential"), _finding("declared")], [], "contradicted"),
        # a waived violation is an accepted risk, never "no evidence contradicting" (issue 18)
        ([_finding("declared", waived=True)], [], "accepted-risk"),
        ([_finding("declared", waived=True)], [Gap(scope="s", reason="r")], "accepted-risk"),
        ([_finding("declared", waived=True), _finding("potential")], [], "at-risk"),
    ],
)
def test_claim_verdict(findings: list[Finding], gaps: list[Gap], expected: str) -> None:
    assert claim_verdict(findings, gaps) == expected


def test_an_empty_inventory_proves_nothing(write_yaml: WriteYaml) -> None:
    report = audit_sources(write_yaml("version: 1\n"))
    assert set(verdicts(report).values()) == {"insufficient-evidence"}
    assert report.summary.verdict == "incomplete"
    reasons = " ".join(g.reason for g in report.coverage.gaps)
    assert "no store holds data of class commercial-api" in reasons
    assert "no training sink" in reasons


def test_no_training_sink_means_training_claims_are_unproven(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        MINIMAL_ORG
        + """
stores:
  - {id: logs, kind: s3-bucket, account: serving, classes: [commercial-api]}
"""
    )
    report = audit_sources(path)
    assert verdicts(report, ["C1"]) == {"C1": "insufficient-evidence"}
    (claim,) = [c for c in report.claims if c.id == "C1"]
    assert any("no training sink" in g for g in claim.gaps)


def test_iam_grants_put_a_claim_at_risk_with_their_statements(write_yaml: WriteYaml) -> None:
    grant = write_yaml(
        """
version: 1
stores:
  - id: api-logs
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: EvalTeam, Effect: Allow, Principal: {AWS: "222222222222"}, Action: s3:GetObject,
           Resource: "arn:aws:s3:::example-api-request-logs/*"}
principals:
  - id: eval-harness
    arn: arn:aws:iam::222222222222:role/eval-harness
    policies:
      - Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Action: [s3:GetObject, kms:Decrypt], Resource: "*"}
          - {Effect: Allow, Action: s3:PutObject, Resource: "arn:aws:s3:::example-sft-chats/*"}
""",
        "grant.yaml",
    )
    report = audit_sources(EXAMPLE_ORG, grant)
    assert verdicts(report, ["C1", "C2"]) == {"C1": "at-risk", "C2": "no-evidence-contradicting"}
    (finding,) = [f for f in report.findings if f.check == "ISO-001"]
    assert [h.node for h in finding.path] == ["api-logs", "eval-harness", "sft-chats"]
    # s3:GetObject on "*" also reads the consented chats in its own account (a PII-scrub bypass),
    # is a wildcard grant on protected data, and crosses from training into serving without a gate
    assert {f.check for f in report.findings} == {"ISO-001", "ISO-004", "ACC-001", "SEP-003"}
    sids = [e.statement.get("Sid") for h in finding.path for e in h.evidence if e.statement]
    assert "EvalTeam" in sids  # the bucket policy side of the cross-account grant is cited


def test_a_check_that_raises_is_a_gap_not_a_pass(tmp_path: Path) -> None:
    def explode(ctx: object) -> list[Finding]:
        raise RuntimeError("boom")

    broken = Check(
        id="ISO-099",
        title="Broken",
        severity="high",
        claim_ids=("C1",),
        rationale="r",
        remediation="r",
        evaluate=explode,
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nclaims:\n  - {id: C1, text: claim, checks: [ISO-001, ISO-099]}\n")
    registry = load_registry(plugins=False, extra=[broken])
    report = run_audit(
        AuditConfig(sources=(str(EXAMPLE_ORG),), suite=str(suite), suites_dir=SUITES_DIR), registry.checks
    )
    assert verdicts(report) == {"C1": "insufficient-evidence"}
    (gap,) = report.coverage.gaps
    assert gap.scope == "check:ISO-099"
    assert "RuntimeError: boom" in gap.reason
    assert {c.id: c.status for c in report.checks} == {"ISO-001": "ran", "ISO-099": "failed"}


def test_finding_ids_are_stable_across_runs_and_input_order() -> None:
    leak = LEAKS / "feature-job"
    first = audit_sources(EXAMPLE_ORG, leak)
    org_files = sorted(EXAMPLE_ORG.iterdir(), reverse=True)
    second = audit_sources(leak, *[f for f in org_files if f.suffix == ".yaml"])
    assert {f.id for f in first.findings} == {f.id for f in second.findings}
    assert len(first.findings) == 1  # one root cause, one finding at its cut edge (issue 18; was 2)


def test_report_carries_the_contract_keys() -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    data = report.model_dump(by_alias=True)
    assert data["schema"] == "tenant-audit/report@1"
    assert set(data) >= {"schema", "tool", "run", "summary", "claims", "findings", "coverage"}
    assert set(data["run"]) >= {"started_at", "finished_at", "inputs", "suite"}
    assert set(data["run"]["inputs"][0]) == {"source", "path_or_uri", "sha256"}
    assert set(data["summary"]) >= {"verdict", "findings_by_severity"}
    assert set(data["summary"]["findings_by_severity"]) == {"critical", "high", "medium", "low"}
    assert set(data["claims"][0]) >= {"id", "text", "verdict", "finding_ids"}
    assert set(data["findings"][0]) >= {
        "id",
        "check",
        "severity",
        "title",
        "claim_ids",
        "kind",
        "path",
        "evidence",
        "remediation",
        "waived",
    }
    assert set(data["findings"][0]["path"][0]) >= {"node", "node_type", "edge", "evidence"}
    assert data["summary"]["verdict"] == "fail"
    gapped = audit_sources(EXAMPLE_ORG, LEAKS / "unclassified-scratch").model_dump(by_alias=True)
    assert set(gapped["coverage"]["gaps"][0]) >= {"scope", "reason"}
