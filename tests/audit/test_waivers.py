"""Waivers: accepted risks stay in the report, marked and counted apart, and stop failing
the build; expired waivers fail closed; malformed ones are input errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE_ORG, FIXTURES, LEAKS, WriteYaml, invoke

TF = FIXTURES / "terraform"


def finding_id(tmp_path: Path, *sources: Path, check: str) -> str:
    invoke("run", *map(str, sources), "--out", str(tmp_path / "probe"), "--format", "json")
    report = json.loads((tmp_path / "probe" / "report.json").read_text())
    return next(f["id"] for f in report["findings"] if f["check"] == check)


def waivers(write_yaml: WriteYaml, finding: str, expires: str = "2099-12-31") -> Path:
    return write_yaml(
        f"""
- finding: "{finding}"
  reason: evaluation harness approved by privacy review PRIV-142
  owner: ml-platform@example.com
  expires: {expires}
""",
        "waivers.yaml",
    )


def test_a_waived_finding_stays_in_the_report_but_stops_failing(write_yaml: WriteYaml, tmp_path: Path) -> None:
    leak = LEAKS / "eval-harness-grant"
    fid = finding_id(tmp_path, EXAMPLE_ORG, leak, check="ISO-001")
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(leak),
        "--waivers",
        str(waivers(write_yaml, fid)),
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json,sarif,md",
    )
    assert result.exit_code == 0, result.stdout  # SEP-003 is low; ISO-001 (high) is waived
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (waived,) = [f for f in report["findings"] if f["id"] == fid]
    assert waived["waived"] is True
    assert waived["waiver"]["owner"] == "ml-platform@example.com"
    assert report["summary"]["waived_by_severity"]["high"] == 1
    assert report["summary"]["findings_by_severity"]["high"] == 0
    assert report["waivers"]["applied"][fid]["reason"].startswith("evaluation harness")
    # accepted risk, naming the waiver: never "no evidence contradicting" (issue 18; this
    # asserted no-evidence-contradicting before, which the report worded as checked and clean)
    claim = next(c for c in report["claims"] if c["id"] == "C1")
    assert claim["verdict"] == "accepted-risk"
    assert claim["waivers"] == [report["waivers"]["applied"][fid]]
    assert f"{fid} waived by ml-platform@example.com" in claim["statement"]
    assert "accepted-risk" in (tmp_path / "out" / "report.md").read_text()
    sarif = json.loads((tmp_path / "out" / "report.sarif").read_text())
    (result_entry,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "ISO-001"]
    assert result_entry["suppressions"][0]["kind"] == "external"
    assert "(waived)" in (tmp_path / "out" / "report.md").read_text()


def test_globs_waive_families_of_findings(write_yaml: WriteYaml, tmp_path: Path) -> None:
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(LEAKS / "wildcard-grant"),
        "--waivers",
        str(waivers(write_yaml, "ACC-001-*")),
        "--out",
        str(tmp_path),
        "--format",
        "json",
        "--fail-on",
        "low",
    )
    assert result.exit_code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["waivers"]["applied"]) == 5


def test_an_expired_waiver_fails_closed(write_yaml: WriteYaml, tmp_path: Path) -> None:
    leak = LEAKS / "eval-harness-grant"
    fid = finding_id(tmp_path, EXAMPLE_ORG, leak, check="ISO-001")
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(leak),
        "--waivers",
        str(waivers(write_yaml, fid, "2020-01-01")),
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert f"waiver for {fid} expired on 2020-01-01" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["waivers"]["expired"][0]["finding"] == fid
    assert not any(f["waived"] for f in report["findings"])


def test_ignore_waivers_shows_the_estate_as_it_is(write_yaml: WriteYaml, tmp_path: Path) -> None:
    leak = LEAKS / "eval-harness-grant"
    fid = finding_id(tmp_path, EXAMPLE_ORG, leak, check="ISO-001")
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(leak),
        "--waivers",
        str(waivers(write_yaml, fid)),
        "--ignore-waivers",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    assert result.exit_code == 1


def test_malformed_waivers_are_input_errors(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml("- finding: ISO-001-x\n  reason: short\n  expires: next week\n", "waivers.yaml")
    result = invoke("run", str(EXAMPLE_ORG), "--waivers", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{path}:1: [0].owner: required field 'owner' is missing" in result.stderr
    assert f"{path}:2: [0].reason" in result.stderr
    assert f"{path}:3: [0].expires" in result.stderr
    assert not (tmp_path / "out").exists()


def test_diff_reports_what_a_change_introduces_and_resolves(write_yaml: WriteYaml, tmp_path: Path) -> None:
    for name in ("base", "head-leak", "head-benign"):
        invoke(
            "run",
            str(TF / f"{name}.tfplan.json"),
            str(TF / "overlay.yaml"),
            "--out",
            str(tmp_path / name),
            "--format",
            "json",
        )
    base, leak, benign = (str(tmp_path / n / "report.json") for n in ("base", "head-leak", "head-benign"))
    introduced = invoke("diff", base, leak)
    assert introduced.exit_code == 1
    assert "new findings: 2 (1 at or above high, not waived)" in introduced.stdout
    assert "claim C1: no-evidence-contradicting -> at-risk" in introduced.stdout
    resolved = invoke("diff", leak, base, "--format", "json")
    assert resolved.exit_code == 0
    assert len(json.loads(resolved.stdout)["resolved"]) == 2
    assert invoke("diff", base, benign).exit_code == 0
    assert invoke("diff", base, leak, "--fail-on", "critical").exit_code == 0
    fid = json.loads(invoke("diff", base, leak, "--format", "json").stdout)["failing"][0]
    waived = invoke("diff", base, leak, "--waivers", str(waivers(write_yaml, fid)), "--format", "md")
    assert waived.exit_code == 0
    assert "## tenant-audit diff: PASS" in waived.stdout
    assert "(waived)" in waived.stdout
