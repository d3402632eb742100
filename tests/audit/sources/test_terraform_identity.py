"""Terraform plans as Terraform writes them: resources are identified by address, two roles of
one name are two principals unless their ARNs are known to be equal, and JSON that is not a
plan says what it looks like."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.sources import load_inventory
from tests.conftest import FIXTURES, invoke
from tests.support.tfplan import Planned, plan, policy

READ_ALL = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"})


def _role(address: str, name: str, arn: str | None, unknown: bool = False) -> Planned:
    values: dict[str, Any] = {"name": name, "assume_role_policy": TRUST}
    if arn is not None:
        values["arn"] = arn
    return Planned(address, "aws_iam_role", values, action="create", unknown={"arn": True} if unknown else {})


def _write(tmp_path: Path, resources: list[Planned], name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(plan(resources)))
    return path


def test_two_roles_of_one_name_in_two_modules_are_two_principals(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _role("module.serving.aws_iam_role.app", "app", None, unknown=True),
            _role("module.training.aws_iam_role.app", "app", None, unknown=True),
        ],
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stderr
    inventory = load_inventory([str(path)])
    assert {"module.serving.aws_iam_role.app", "module.training.aws_iam_role.app"} <= set(inventory.principals)
    assert "app" not in inventory.principals


def test_for_each_roles_of_one_name_are_distinct_unless_their_arns_are_equal(tmp_path: Path) -> None:
    distinct = _write(
        tmp_path,
        [
            _role('aws_iam_role.reader["a"]', "reader", "arn:aws:iam::111111111111:role/reader"),
            _role('aws_iam_role.reader["b"]', "reader", "arn:aws:iam::222222222222:role/reader"),
        ],
        "distinct.json",
    )
    inventory = load_inventory([str(distinct)])
    assert {'aws_iam_role.reader["a"]', 'aws_iam_role.reader["b"]'} <= set(inventory.principals)
    same = _write(
        tmp_path,
        [
            _role('aws_iam_role.reader["a"]', "reader", "arn:aws:iam::111111111111:role/reader"),
            _role('aws_iam_role.reader["b"]', "reader", "arn:aws:iam::111111111111:role/reader"),
        ],
        "same.json",
    )
    merged = load_inventory([str(same)])
    arns = [p.arn for p in merged.principals.values() if p.arn == "arn:aws:iam::111111111111:role/reader"]
    assert len(arns) == 1  # one role, stated by two resources


def test_a_unique_role_name_stays_the_principal_id(tmp_path: Path) -> None:
    path = _write(tmp_path, [_role("module.training.aws_iam_role.trainer", "trainer", None, unknown=True)])
    assert "trainer" in load_inventory([str(path)]).principals


def test_the_committed_plans_still_load(tmp_path: Path) -> None:
    for name in ("base.tfplan.json", "head-leak.tfplan.json"):
        assert invoke("validate", str(FIXTURES / "terraform" / name)).exit_code == 0


def _message(tmp_path: Path, document: Any, name: str = "doc.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "version: 1" not in result.stderr  # the inventory's hint does not fit these
    return result.stderr


def test_a_plan_without_format_version_says_so(tmp_path: Path) -> None:
    document = plan([_role("aws_iam_role.a", "a", None)])
    del document["format_version"]
    assert "looks like a Terraform plan but has no format_version" in _message(tmp_path, document)


def test_a_state_file_is_not_a_plan(tmp_path: Path) -> None:
    state = {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {}}}
    assert "Terraform JSON that is not a plan but a state" in _message(tmp_path, state)


def test_an_event_over_several_lines_says_lineage_is_one_event_per_line(tmp_path: Path) -> None:
    event = {
        "eventTime": "2026-11-21T07:00:00Z",
        "eventType": "COMPLETE",
        "producer": "https://example.com/p",
        "run": {"runId": "7c70a413-3cfb-57bd-a7ff-184e59aa9bd5"},
        "job": {"namespace": "n", "name": "j"},
    }
    text = json.dumps(event, indent=2)
    assert "one OpenLineage event written over several lines" in _message(tmp_path, text)


def test_a_bucket_the_plan_sets_no_policy_for_has_none_and_one_known_after_apply_is_unknown() -> None:
    """Issue 17: unstated is unknown, not none; a plan states what it configures. A bucket
    with no policy resource in the plan has none (as configured); a policy whose document is
    known only after apply stays unknown."""
    import hashlib
    import json

    from audit.sources.terraform import transform

    resources = [
        Planned("aws_s3_bucket.quiet", "aws_s3_bucket", {"bucket": "quiet"}),
        Planned("aws_s3_bucket.later", "aws_s3_bucket", {"bucket": "later"}),
        Planned(
            "aws_s3_bucket_policy.later",
            "aws_s3_bucket_policy",
            {"bucket": "later"},
            unknown={"policy": True},
            references={"bucket": ["aws_s3_bucket.later.id", "aws_s3_bucket.later"]},
        ),
    ]
    data = plan(resources)
    loaded = transform(data, "plan.json", hashlib.sha256(json.dumps(data).encode()).hexdigest())
    stores = {s.id: s for s in loaded.document.stores}
    assert stores["quiet"].policy == "none"
    assert stores["later"].policy is None
    assert "policy" in stores["later"].model_fields_set  # stated as unknown, not left out
