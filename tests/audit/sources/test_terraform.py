"""Terraform plans: the shapes Terraform itself writes (modules, split-out bucket
resources, policy documents, unknown-until-apply values), and a change that adds a leak
is caught while a benign change passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.sources import load_inventory
from audit.sources.terraform import load
from tests.conftest import FIXTURES, SHARED, audit_sources, invoke

PLANS = SHARED / "terraform-plans"
TF = FIXTURES / "terraform"


def stores(name: str) -> dict[str, object]:
    return {s.id: s for s in load(PLANS / name).document.stores}


def test_split_out_bucket_policy_from_a_policy_document_with_unknown_parts() -> None:
    loaded = load(PLANS / "iam-data-block-bucket-policy.tfplan.json")
    (store,) = loaded.document.stores
    assert store.id == "my-tf-test-bucket"
    # the policy is unknown until apply; it is rebuilt from the data source it refers to,
    # and its unknown resources (references to the bucket's ARN) read as the bucket and everything in it
    (statement,) = store.policy["Statement"]
    assert statement["Resource"] == ["arn:aws:s3:::my-tf-test-bucket*"]
    assert statement["Effect"] == "Allow"
    assert any("resources unknown until apply" in g.reason for g in loaded.gaps)
    assert store.provenance.at("policy").endswith("aws_s3_bucket_policy.allow_access_from_another_account")


def test_nested_modules_and_public_settings() -> None:
    found = stores("s3-nested-modules.tfplan.json")
    public = found["my-s3-bucket"]
    assert (public.public_acl, public.public_access_blocked) == (True, False)
    assert public.provenance.at("public_acl").endswith("module.s3_bucket.aws_s3_bucket_acl.this[0]")
    # three resources in three modules name the same bucket: one store after merging
    inventory = load_inventory([str(PLANS / "s3-nested-modules.tfplan.json")])
    assert sorted(inventory.stores) == ["my-s3-bucket", "testing"]
    assert inventory.stores["testing"].public_access_blocked is True


def test_lifecycle_rules_that_cover_only_tagged_objects_keep_the_rest() -> None:
    store = stores("s3-lifecycle.tfplan.json")["my_bucket"]
    assert "retention_days" in store.model_fields_set
    assert store.retention_days is None


def test_inline_encryption_and_public_access_block() -> None:
    store = stores("s3-public-access-block.tfplan.json")["example"]
    assert (store.encryption, store.public_access_blocked) == ("AES256", True)


def test_iam_roles_users_and_unknown_trust() -> None:
    principals = {p.id: p for p in load(PLANS / "iam-policies.tfplan.json").document.principals}
    assert principals["example"].kind == "user"
    assert principals["example"].policies[0]["Statement"][0]["Action"] == "iam:*"
    oidc = load(PLANS / "iam-oidc-trust.tfplan.json")
    trusts = {p.id: p.trust_policy for p in oidc.document.principals}
    assert trusts["r8"]["Statement"][0]["Principal"] == {"Federated": ["cognito-identity.amazonaws.com"]}
    # an unknown federated identity in an Allow reads as anyone: reported, never a silent narrowing
    assert trusts["r7"]["Statement"][0]["Principal"] == {"Federated": ["*"]}
    assert any("principals unknown until apply, read as everyone" in g.reason for g in oidc.gaps)


def test_utf16_plan_with_crlf_is_read() -> None:
    assert list(stores("utf16-encoded.tfplan.json")) == ["test"]


def test_corrupted_plan_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("run", str(PLANS / "corrupted.tfplan.json"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "Terraform JSON that is not a plan" in result.stderr
    assert "terraform show -json" in result.stderr
    assert not (tmp_path / "out").exists()


def test_truncated_plan_names_the_line(tmp_path: Path) -> None:
    text = (TF / "base.tfplan.json").read_text()
    broken = tmp_path / "broken.tfplan.json"
    broken.write_text(text[: len(text) // 2])
    result = invoke("validate", str(broken))
    assert result.exit_code == 2
    assert str(broken) in result.stderr


@pytest.mark.parametrize(("plan", "code"), [("base", 0), ("head-benign", 0), ("head-leak", 1)])
def test_the_gate(tmp_path: Path, plan: str, code: int) -> None:
    result = invoke(
        "run",
        str(TF / f"{plan}.tfplan.json"),
        str(TF / "overlay.yaml"),
        "--out",
        str(tmp_path),
        "--format",
        "json,sarif",
    )
    assert result.exit_code == code, result.stdout + result.stderr


def test_the_leak_is_a_path_citing_every_resource_that_opens_it() -> None:
    report = audit_sources(TF / "head-leak.tfplan.json", TF / "overlay.yaml")
    (finding,) = [f for f in report.findings if f.check == "ISO-001"]
    assert [h.node for h in finding.path] == ["api-logs", "trainer", "nightly-finetune"]
    assert finding.kind == "potential"
    cited = {e.location.split(" ")[1] for h in finding.path for e in h.evidence if e.kind == "iam-statement"}
    assert cited == {
        "module.training.aws_iam_role_policy.eval_read",
        "module.data_platform.aws_s3_bucket_policy.api_logs",
        "module.data_platform.aws_kms_key.api_logs",
    }


def test_the_base_plan_is_clean_where_it_can_be_judged() -> None:
    report = audit_sources(TF / "base.tfplan.json", TF / "overlay.yaml")
    assert report.findings == []
    verdicts = {c.id: c.verdict for c in report.claims}
    assert verdicts["C1"] == "no-evidence-contradicting"
    assert verdicts["C9"] == "no-evidence-contradicting"


def test_plans_are_committed_as_generated() -> None:
    """The CI fixtures are what tests.support.tfplan writes (regenerate them with it)."""
    from tests.support import tfplan

    for name, resources in (
        ("base", tfplan.base()),
        ("head-leak", tfplan.with_leak()),
        ("head-benign", tfplan.with_logging()),
    ):
        assert json.loads((TF / f"{name}.tfplan.json").read_text()) == tfplan.plan(resources)
