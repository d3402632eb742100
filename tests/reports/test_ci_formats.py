"""SARIF validates against the official 2.1.0 schema and points at the Terraform resource;
JUnit parses with a standard XML parser; the Markdown summary is short and escaped."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from audit.report import Report
from reports import junit, markdown, sarif
from tests.conftest import EXAMPLE_ORG, FIXTURES, LEAKS, audit_sources, invoke

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
TF = FIXTURES / "terraform"


@pytest.fixture(scope="module")
def leak() -> Report:
    return audit_sources(TF / "head-leak.tfplan.json", TF / "overlay.yaml")


@pytest.mark.parametrize(
    "sources",
    [
        (EXAMPLE_ORG,),
        (EXAMPLE_ORG, LEAKS / "debug-export"),
        (EXAMPLE_ORG, LEAKS / "public-bucket"),
        (TF / "head-leak.tfplan.json", TF / "overlay.yaml"),
    ],
    ids=["clean", "debug-export", "public-bucket", "terraform-leak"],
)
def test_sarif_validates_against_the_official_schema(sources: tuple[Path, ...]) -> None:
    document = json.loads(sarif.render(audit_sources(*sources)))
    jsonschema.validate(document, SCHEMA)


def test_sarif_points_at_the_terraform_resource(leak: Report) -> None:
    run = json.loads(sarif.render(leak))["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "ISO-001"]
    (primary,) = result["locations"]
    assert primary["physicalLocation"]["artifactLocation"]["uri"].endswith("fixtures/terraform/head-leak.tfplan.json")
    related = {loc["logicalLocations"][0]["fullyQualifiedName"] for loc in result["relatedLocations"]}
    assert "module.data_platform.aws_s3_bucket_policy.api_logs" in related
    assert primary["logicalLocations"][0]["fullyQualifiedName"] == "module.training.aws_iam_role_policy.eval_read"
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["message"]["text"].split(" (")[0] for step in flow] == [
        "api-logs",
        "can-read -> trainer",
        "run-by -> nightly-finetune",
    ]
    assert result["partialFingerprints"]["tenantAuditFindingId"] == next(
        f.id for f in leak.findings if f.check == "ISO-001"
    )
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"ISO-001", "RET-001", "ERA-001"} <= rules


def test_sarif_inventory_findings_point_at_lines() -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / "raw-feedback-mix")
    run = json.loads(sarif.render(report))["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "ISO-005"]
    region = result["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"].endswith("raw-feedback-mix/leak.yaml")
    assert region["region"]["startLine"] > 0


def test_junit_parses_and_has_one_case_per_check_and_claim(leak: Report) -> None:
    root = ElementTree.fromstring(junit.render(leak))
    cases = root.findall("./testsuite/testcase")
    expected = sum(max(1, len(c.claim_ids)) for c in leak.checks)
    assert len(cases) == expected
    failures = [c for c in cases if c.find("failure") is not None]
    assert {c.get("name", "").split()[0] for c in failures} == {"ISO-001", "SEP-003"}
    iso = next(c for c in failures if c.get("name", "").startswith("ISO-001"))
    assert iso.get("classname") == "tenant-audit.C1"
    assert "api-logs -> trainer -> nightly-finetune" in (iso.find("failure").text or "")
    errors = [c for c in cases if c.find("error") is not None]
    assert errors, "claims the plan cannot establish error rather than pass"
    assert root.get("failures") == str(len(failures))


def test_markdown_summary_is_short_and_escaped(tmp_path: Path) -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / "wildcard-grant")
    text = markdown.render(report).decode()
    # a permitted wildcard grant puts C8 at risk; its finding (medium) is below the default
    # gate, so the run passes the gate and the headline says so (it read FAIL before, while
    # the run exited 0: issue 18)
    assert text.startswith("## tenant-audit: AT-RISK · Example AI Lab")
    assert "The run passes the gate" in text
    assert text.count("\n| C") == len(report.claims) + 1  # the header row, then one row per claim
    assert "### Top findings (5 of 5)" in text
    assert "*can-read* → `ops-readall-role`" in text
    report.organisation = "Evil | <script>"
    assert "Evil \\| &lt;script&gt;" in markdown.render(report).decode()


def test_report_md_points_only_at_the_reports_the_run_wrote(tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(alone), "--format", "md").exit_code == 0
    text = (alone / "report.md").read_text()
    assert "report.html" not in text
    assert "report.json" not in text.replace("--format json", "")
    assert "the only report this run wrote" in text
    both = tmp_path / "both"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(both), "--format", "md,html").exit_code == 0
    text = (both / "report.md").read_text()
    assert "Full evidence: report.html." in text
    assert "report.json" not in text
