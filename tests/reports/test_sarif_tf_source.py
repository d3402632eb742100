"""SARIF on the right line: with --tf-source, each Terraform resource address in a finding's
evidence lands on the .tf file and line that declare it (through local module calls), so
code scanning annotates the pull request; without it, or for what cannot be found, the
alert stays on the plan file, and nothing breaks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from audit.tfsource import SourceIndex, locate_all, plan_address
from tests.conftest import FIXTURES, REPO, invoke

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
TF = FIXTURES / "terraform"
SOURCE = TF / "src"


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith(text))


def _run(out: Path, *extra: str) -> dict[str, object]:
    result = invoke(
        "run", str(TF / "head-leak.tfplan.json"), str(TF / "overlay.yaml"), "--out", str(out),
        "--format", "sarif,json", "--fail-on", "none", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    sarif: dict[str, object] = json.loads((out / "report.sarif").read_text())
    jsonschema.validate(sarif, SCHEMA)
    return sarif


def test_with_tf_source_the_alert_lands_on_the_resource_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    sarif = _run(tmp_path, "--tf-source", "fixtures/terraform/src")
    results = sarif["runs"][0]["results"]  # type: ignore[index]
    result = next(r for r in results if r["ruleId"] == "ISO-001")
    (primary,) = result["locations"]
    assert primary["physicalLocation"] == {
        "artifactLocation": {"uri": "fixtures/terraform/src/modules/training/eval.tf"},
        "region": {
            "startLine": _line_of(SOURCE / "modules/training/eval.tf", 'resource "aws_iam_role_policy" "eval_read"')
        },
    }
    assert primary["logicalLocations"][0]["fullyQualifiedName"] == "module.training.aws_iam_role_policy.eval_read"
    related = {
        loc["logicalLocations"][0]["fullyQualifiedName"]: loc["physicalLocation"] for loc in result["relatedLocations"]
    }
    bucket_policy = related["module.data_platform.aws_s3_bucket_policy.api_logs"]
    assert bucket_policy["artifactLocation"]["uri"] == "fixtures/terraform/src/modules/data_platform/policy.tf"
    assert bucket_policy["region"]["startLine"] == _line_of(
        SOURCE / "modules/data_platform/policy.tf", 'resource "aws_s3_bucket_policy" "api_logs"'
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["terraform_sources"]["module.training.aws_iam_role_policy.eval_read"].startswith(
        "fixtures/terraform/src/modules/training/eval.tf:"
    )


def test_without_tf_source_the_alert_stays_on_the_plan_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    sarif = _run(tmp_path)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "ISO-001")  # type: ignore[index]
    (primary,) = result["locations"]
    assert primary["physicalLocation"] == {"artifactLocation": {"uri": "fixtures/terraform/head-leak.tfplan.json"}}


def test_what_cannot_be_found_stays_on_the_plan_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the training module comes from a registry here, and one file of the other does not parse
    source = tmp_path / "src"
    shutil.copytree(SOURCE, source)
    main = source / "main.tf"
    main.write_text(main.read_text().replace('"./modules/training"', '"app.terraform.io/acme/training/aws"'))
    (source / "modules/data_platform/broken.tf").write_text('resource "aws_s3_bucket" {{{ nope\n')
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = invoke(
        "run", str(TF / "head-leak.tfplan.json"), str(TF / "overlay.yaml"), "--out", str(out),
        "--format", "sarif", "--fail-on", "none", "--tf-source", "src",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "not found under src: module.training." in result.stderr
    assert "could not parse src/modules/data_platform/broken.tf" in result.stderr
    sarif = json.loads((out / "report.sarif").read_text())
    jsonschema.validate(sarif, SCHEMA)
    finding = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "ISO-001")
    uris = {
        loc["logicalLocations"][0]["fullyQualifiedName"]: loc["physicalLocation"] for loc in finding["relatedLocations"]
    }
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("head-leak.tfplan.json")
    policy = uris["module.data_platform.aws_s3_bucket_policy.api_logs"]
    assert policy["artifactLocation"]["uri"] == "src/modules/data_platform/policy.tf", "the rest still lands on .tf"


def test_addresses_resolve_through_modules_and_ignore_indexes() -> None:
    index = SourceIndex(SOURCE)
    assert index.locate("module.training.aws_s3_bucket.training_mix[0]") == (
        SOURCE / "modules/training/main.tf",
        _line_of(SOURCE / "modules/training/main.tf", 'resource "aws_s3_bucket" "training_mix"'),
    )
    assert index.locate('module.data_platform.data.aws_iam_policy_document.api_logs["x"]') == (
        SOURCE / "modules/data_platform/policy.tf",
        1,
    )
    assert index.locate("module.training.aws_iam_role.nobody") is None
    assert index.locate("module.nowhere.aws_s3_bucket.x") is None
    assert index.locate("aws_s3_bucket.api_logs") is None, "declared in a module, not at the root"
    located, notes = locate_all(SOURCE, {"module.training.aws_iam_role.trainer"}, SOURCE)
    line = _line_of(SOURCE / "modules/training/main.tf", 'resource "aws_iam_role" "trainer"')
    assert located == {"module.training.aws_iam_role.trainer": f"modules/training/main.tf:{line}"}
    assert notes == []


def test_plan_addresses_are_read_from_terraform_evidence_only() -> None:
    assert plan_address("terraform", "head.tfplan.json module.a.aws_iam_role.r Statement[0]") == (
        "head.tfplan.json",
        "module.a.aws_iam_role.r",
    )
    assert plan_address("inventory", "fixtures/example-org/stores.yaml:12") is None


def test_the_shipped_workflow_installs_from_the_repository_and_uses_tf_source() -> None:
    workflow = yaml.safe_load((REPO / "integrations/github-actions/tenant-audit.yml").read_text())
    steps = workflow["jobs"]["isolation"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "pip install tenant-audit" not in scripts, "tenant-audit is not published on a package index"
    assert 'python -m pip install "tenant-audit @ git+https://github.com/${REPOSITORY}@${REF}"' in scripts
    audit = next(step["run"] for step in steps if step.get("name") == "Audit both")
    head = audit[audit.index("head.tfplan.json") :]
    assert "--tf-source $TF_DIR" in head


def test_the_package_builds_from_a_git_checkout_as_the_workflow_installs_it(tmp_path: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    report = tmp_path / "pip-report.json"
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--quiet", "--report", str(report),
         f"git+file://{REPO}@{commit}#egg=tenant-audit"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    (installed,) = json.loads(report.read_text())["install"]
    assert installed["metadata"]["name"] == "tenant-audit"
