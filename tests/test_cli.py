"""The command line: verbs, exit codes, outputs written whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ORG, LEAKS, REPO, WriteYaml, invoke


def test_run_on_the_clean_org_prints_verdicts_and_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "audit-out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    for claim in ("C1", "C2", "C3", "C11"):
        assert claim in result.stdout
    assert "no-evidence-contradicting" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.html", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["findings"] == []


@pytest.mark.parametrize(
    ("variant", "fail_on", "claims", "code"),
    [
        ("debug-export", "high", "contradicted", 1),  # a declared ISO-004 finding is high
        # a contradicted claim fails the build unless the claims gate is lowered too (issue 18:
        # these two read exit 0 before, with a FAIL headline)
        ("debug-export", "critical", "contradicted", 1),
        ("debug-export", "none", "contradicted", 1),
        ("debug-export", "critical", "none", 0),
        ("debug-export", "none", "none", 0),
        ("eval-harness-grant", "high", "contradicted", 1),  # potential ISO-001: critical lowered to high
        ("eval-harness-grant", "critical", "contradicted", 0),  # at-risk is below the claims gate
        ("eval-harness-grant", "critical", "at-risk", 1),
        ("unclassified-scratch", "high", "contradicted", 0),  # ISO-007 is medium
        ("unclassified-scratch", "medium", "contradicted", 1),
    ],
)
def test_exit_code_follows_fail_on(tmp_path: Path, variant: str, fail_on: str, claims: str, code: int) -> None:
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(LEAKS / variant),
        "--out",
        str(tmp_path),
        "--fail-on",
        fail_on,
        "--fail-on-claims",
        claims,
    )
    assert result.exit_code == code, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["summary"]["verdict"] == "fail") == (code == 1)  # one verdict, one exit code
    assert report["summary"]["gate"] == {
        "fail_on": fail_on,
        "fail_on_claims": claims,
        "decided_by": report["summary"]["gate"]["decided_by"],
    }
    assert ("fails the gate" in report["summary"]["gate"]["decided_by"]) == (code == 1)


@pytest.mark.parametrize("variant", sorted(p.name for p in LEAKS.iterdir() if p.is_dir()))
def test_every_leak_variant_fails_exactly_when_its_headline_says_so(tmp_path: Path, variant: str) -> None:
    result = invoke("run", str(EXAMPLE_ORG), str(LEAKS / variant), "--out", str(tmp_path), "--format", "json")
    report = json.loads((tmp_path / "report.json").read_text())
    contradicted = any(c["verdict"] == "contradicted" for c in report["claims"])
    assert (report["summary"]["verdict"] == "fail") == (result.exit_code == 1)
    if contradicted:
        assert result.exit_code == 1, report["summary"]["gate"]["decided_by"]
    assert report["summary"]["verdict"] in result.stdout.lower()


def test_require_complete_exits_3_when_a_claim_is_unproven(tmp_path: Path) -> None:
    # an unclassified store feeding training leaves the training claims unproven (and its
    # own finding is medium, below --fail-on high)
    result = invoke(
        "run", str(EXAMPLE_ORG), str(LEAKS / "unclassified-scratch"), "--out", str(tmp_path), "--require-complete"
    )
    assert result.exit_code == 3
    complete = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path), "--require-complete")
    assert complete.exit_code == 0


def test_findings_outrank_incompleteness(tmp_path: Path) -> None:
    result = invoke("run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path), "--require-complete")
    assert result.exit_code == 1


def test_input_error_writes_nothing(write_yaml: WriteYaml, tmp_path: Path) -> None:
    bad = write_yaml("version: 1\nstores:\n  - {id: a, kind: nope}\n")
    out = tmp_path / "out"
    result = invoke("run", str(bad), "--out", str(out))
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr
    assert not out.exists()


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path / "o"), "--format", "html,pdfx")
    assert result.exit_code == 2
    assert "unknown report format: pdfx" in result.stderr
    assert not (tmp_path / "o").exists()


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(blocker / "sub"))
    assert result.exit_code == 2
    assert "cannot write reports" in result.stderr


def test_existing_reports_are_replaced_whole(tmp_path: Path) -> None:
    invoke("run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path))
    invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path))
    assert json.loads((tmp_path / "report.json").read_text())["findings"] == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_explain_prints_the_path_hop_by_hop(tmp_path: Path) -> None:
    invoke("run", str(EXAMPLE_ORG), str(LEAKS / "raw-feedback-mix"), "--out", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    (finding,) = [f for f in report["findings"] if f["check"] == "ISO-005"]
    result = invoke("explain", str(tmp_path / "report.json"), finding["id"][:10])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(finding["id"])
    hops = [ln for ln in lines if ln[:3].strip().rstrip(".").isdigit()]
    assert [h.split()[-2] for h in hops] == ["feedback-raw", "feedback-quick-mix", "pretrain-mix"]
    assert "-> [reads] feedback-quick-mix (job)" in result.stdout
    assert "raw-feedback-mix/leak.yaml:" in result.stdout
    assert "remediation:" in result.stdout


def test_explain_unknown_finding_or_bad_report(tmp_path: Path) -> None:
    invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path))
    missing = invoke("explain", str(tmp_path / "report.json"), "ISO-001-nope")
    assert missing.exit_code == 2
    assert "no finding" in missing.stderr
    (tmp_path / "junk.json").write_text('{"schema": 1}')
    junk = invoke("explain", str(tmp_path / "junk.json"), "x")
    assert junk.exit_code == 2
    assert "not a tenant-audit report.json" in junk.stderr


@pytest.mark.parametrize(("fmt", "marker"), [("json", b'"nodes"'), ("graphml", b"<graphml"), ("dot", b"digraph")])
def test_graph_exports(tmp_path: Path, fmt: str, marker: bytes) -> None:
    target = tmp_path / f"graph.{fmt}"
    result = invoke("graph", str(EXAMPLE_ORG), "--format", fmt, "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert marker in target.read_bytes()


def test_checks_lists_the_registry() -> None:
    result = invoke("checks")
    assert result.exit_code == 0
    for check_id in ("ISO-001", "ISO-006", "ISO-007"):
        assert check_id in result.stdout


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tenant-audit"
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nstores: 5\n")
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [str(script), "validate", str(bad)], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:2: stores: expected a list" in result.stderr


def test_console_script_ends_with_the_verbs_exit_code_and_every_output_written(tmp_path: Path) -> None:
    """The command ends without tearing the audit down object by object: its exit code,
    its printed lines and its files must be exactly those of the verb."""
    script = Path(sys.executable).parent / "tenant-audit"
    out = tmp_path / "out"
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [str(script), "run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(out), "--format", "json,html"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 1, result.stderr  # the leak is a finding
    assert result.stdout.rstrip().endswith(f"wrote {out / 'manifest.json'}")
    report = json.loads((out / "report.json").read_text())
    assert sum(report["summary"]["findings_by_severity"].values()) > 0
    assert "</html>" in (out / "report.html").read_text()
