"""Write Terraform plan JSON in the shape ``terraform show -json`` gives (format 1.2):
planned_values with child modules, resource_changes with after_unknown, and a
configuration whose expressions carry references.

Used to (re)generate fixtures/terraform/*.tfplan.json:  python -m tests.support.tfplan
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "terraform"
PROVIDER = "registry.terraform.io/hashicorp/aws"


@dataclass
class Planned:
    address: str
    type: str
    values: dict[str, Any]
    action: str = "no-op"
    unknown: dict[str, Any] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "managed"

    @property
    def module(self) -> str:
        match = re.match(r"^((?:module\.[^.]+\.)*)", self.address)
        return match.group(1).rstrip(".") if match else ""

    @property
    def local(self) -> str:
        return self.address[len(self.module) + 1 :] if self.module else self.address


def plan(resources: list[Planned]) -> dict[str, Any]:
    modules: dict[str, list[dict[str, Any]]] = {}
    changes = []
    config: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        name = r.local.split(".")[-1]
        modules.setdefault(r.module, []).append(
            {
                "address": r.address,
                "mode": r.mode,
                "type": r.type,
                "name": name,
                "provider_name": PROVIDER,
                "schema_version": 0,
                "values": r.values,
                "sensitive_values": {},
            }
        )
        changes.append(
            {
                "address": r.address,
                **({"module_address": r.module} if r.module else {}),
                "mode": r.mode,
                "type": r.type,
                "name": name,
                "provider_name": PROVIDER,
                "change": {
                    "actions": [r.action if r.mode == "managed" else "read"],
                    "before": None if r.action == "create" else r.values,
                    "after": r.values,
                    "after_unknown": r.unknown,
                    "before_sensitive": False,
                    "after_sensitive": {},
                },
            }
        )
        expressions: dict[str, Any] = {
            key: {"constant_value": value}
            for key, value in r.values.items()
            if key not in r.references and not isinstance(value, list)
        }
        for key, references in r.references.items():
            expressions[key] = {"references": references}
        config.setdefault(r.module, []).append(
            {
                "address": r.local,
                "mode": r.mode,
                "type": r.type,
                "name": name,
                "provider_config_key": "aws",
                "expressions": expressions,
                "schema_version": 0,
            }
        )

    def module_values(path: str) -> dict[str, Any]:
        children = sorted(
            m
            for m in modules
            if m.startswith(f"{path}.module." if path else "module.")
            and m.count("module.") == path.count("module.") + 1
        )
        body: dict[str, Any] = {"resources": modules.get(path, [])}
        if path:
            body["address"] = path
        if children:
            body["child_modules"] = [module_values(child) for child in children]
        return body

    def module_config(path: str) -> dict[str, Any]:
        children = sorted(
            m
            for m in config
            if m.startswith(f"{path}.module." if path else "module.")
            and m.count("module.") == path.count("module.") + 1
        )
        return {
            "resources": config.get(path, []),
            "module_calls": {
                child.rsplit("module.", 1)[1].rstrip("."): {
                    "source": f"./modules/{child.rsplit('module.', 1)[1]}",
                    "module": module_config(child),
                }
                for child in children
            },
        }

    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": module_values("")},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER}},
            "root_module": module_config(""),
        },
    }


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


KEY = "arn:aws:kms:us-east-1:111111111111:key/3f1e-api-logs"
TRAINER = "arn:aws:iam::222222222222:role/trainer"
DP, TR = "module.data_platform", "module.training"


def base() -> list[Planned]:
    return [
        Planned(
            f"{DP}.aws_kms_key.api_logs",
            "aws_kms_key",
            {
                "arn": KEY,
                "enable_key_rotation": True,
                "description": "API request logs",
                "policy": policy(
                    {
                        "Sid": "Enable IAM User Permissions",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ),
            },
        ),
        Planned(
            f"{DP}.aws_s3_bucket.api_logs",
            "aws_s3_bucket",
            {
                "bucket": "acme-api-request-logs",
                "arn": "arn:aws:s3:::acme-api-request-logs",
                "tags": {"data-class": "commercial-api"},
            },
        ),
        Planned(
            f"{DP}.aws_s3_bucket_server_side_encryption_configuration.api_logs",
            "aws_s3_bucket_server_side_encryption_configuration",
            {
                "bucket": "acme-api-request-logs",
                "rule": [
                    {
                        "apply_server_side_encryption_by_default": [
                            {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
                        ],
                        "bucket_key_enabled": True,
                    }
                ],
            },
            references={"bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"]},
        ),
        Planned(
            f"{DP}.aws_s3_bucket_public_access_block.api_logs",
            "aws_s3_bucket_public_access_block",
            {
                "bucket": "acme-api-request-logs",
                "block_public_acls": True,
                "ignore_public_acls": True,
                "block_public_policy": True,
                "restrict_public_buckets": True,
            },
            references={"bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"]},
        ),
        Planned(
            f"{DP}.aws_s3_bucket_lifecycle_configuration.api_logs",
            "aws_s3_bucket_lifecycle_configuration",
            {
                "bucket": "acme-api-request-logs",
                "rule": [
                    {
                        "id": "expire",
                        "status": "Enabled",
                        "filter": [{"prefix": ""}],
                        "expiration": [{"days": 30}],
                        "noncurrent_version_expiration": [],
                    }
                ],
            },
            references={"bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"]},
        ),
        Planned(
            f"{DP}.aws_s3_bucket_versioning.api_logs",
            "aws_s3_bucket_versioning",
            {"bucket": "acme-api-request-logs", "versioning_configuration": [{"status": "Suspended"}]},
            references={"bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"]},
        ),
        Planned(
            f"{DP}.data.aws_iam_policy_document.api_logs",
            "aws_iam_policy_document",
            {
                "statement": [
                    {
                        "sid": "TlsOnly",
                        "effect": "Deny",
                        "actions": ["s3:*"],
                        "not_actions": None,
                        "resources": ["arn:aws:s3:::acme-api-request-logs", "arn:aws:s3:::acme-api-request-logs/*"],
                        "not_resources": None,
                        "principals": [{"type": "*", "identifiers": ["*"]}],
                        "not_principals": [],
                        "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
                    }
                ]
            },
            mode="data",
        ),
        Planned(
            f"{DP}.aws_s3_bucket_policy.api_logs",
            "aws_s3_bucket_policy",
            {"bucket": "acme-api-request-logs"},
            unknown={"policy": True},
            references={
                "bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"],
                "policy": ["data.aws_iam_policy_document.api_logs.json", "data.aws_iam_policy_document.api_logs"],
            },
        ),
        Planned(
            f"{TR}.aws_s3_bucket.training_mix",
            "aws_s3_bucket",
            {
                "bucket": "acme-training-mix",
                "arn": "arn:aws:s3:::acme-training-mix",
                "tags": {"data-class": "training"},
            },
        ),
        Planned(
            f"{TR}.data.aws_iam_policy_document.trainer_trust",
            "aws_iam_policy_document",
            {
                "statement": [
                    {
                        "effect": "Allow",
                        "actions": ["sts:AssumeRole"],
                        "resources": None,
                        "principals": [{"type": "Service", "identifiers": ["bedrock.amazonaws.com"]}],
                        "not_principals": [],
                        "condition": [],
                    }
                ]
            },
            mode="data",
        ),
        Planned(
            f"{TR}.aws_iam_role.trainer",
            "aws_iam_role",
            {"name": "trainer", "arn": TRAINER},
            unknown={"assume_role_policy": True},
            references={
                "assume_role_policy": [
                    "data.aws_iam_policy_document.trainer_trust.json",
                    "data.aws_iam_policy_document.trainer_trust",
                ]
            },
        ),
        Planned(
            f"{TR}.aws_iam_role_policy.trainer_read",
            "aws_iam_role_policy",
            {
                "name": "read-training-mix",
                "role": "trainer",
                "policy": policy(
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-training-mix/*"}
                ),
            },
            references={"role": ["aws_iam_role.trainer.id", "aws_iam_role.trainer"]},
        ),
        Planned(
            f"{TR}.aws_bedrock_custom_model.nightly",
            "aws_bedrock_custom_model",
            {
                "custom_model_name": "acme-assistant",
                "job_name": "nightly-finetune",
                "role_arn": TRAINER,
                "base_model_identifier": "amazon.titan-text-express-v1",
                "training_data_config": [{"s3_uri": "s3://acme-training-mix/sft/"}],
                "output_data_config": [{"s3_uri": "s3://acme-training-mix/output/"}],
            },
            references={"role_arn": ["aws_iam_role.trainer.arn", "aws_iam_role.trainer"]},
        ),
    ]


def with_leak() -> list[Planned]:
    """An evaluation grant: the trainer may now read the API logs (its role policy, the bucket
    policy and the key policy all change, as a real cross-account grant needs)."""
    resources = [r for r in base() if r.address != f"{DP}.data.aws_iam_policy_document.api_logs"]
    tls_only = next(r for r in base() if r.address == f"{DP}.data.aws_iam_policy_document.api_logs")
    statement = {
        "sid": "EvalFromTraining",
        "effect": "Allow",
        "actions": ["s3:GetObject"],
        "not_actions": None,
        "resources": ["arn:aws:s3:::acme-api-request-logs/*"],
        "not_resources": None,
        "principals": [{"type": "AWS", "identifiers": [TRAINER]}],
        "not_principals": [],
        "condition": [],
    }
    tls_only.values = {"statement": [*tls_only.values["statement"], statement]}
    resources.append(tls_only)
    key = next(r for r in resources if r.type == "aws_kms_key")
    key.action = "update"
    key.values = {
        **key.values,
        "policy": policy(
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "EvalFromTraining",
                "Effect": "Allow",
                "Principal": {"AWS": TRAINER},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ),
    }
    resources += [
        Planned(
            f"{TR}.data.aws_iam_policy_document.eval_read",
            "aws_iam_policy_document",
            {
                "statement": [
                    {
                        "sid": "ReadApiLogsForEval",
                        "effect": "Allow",
                        "actions": ["s3:GetObject", "kms:Decrypt"],
                        "resources": ["arn:aws:s3:::acme-api-request-logs/*", KEY],
                        "principals": [],
                        "not_principals": [],
                        "condition": [],
                    }
                ]
            },
            mode="data",
        ),
        Planned(
            f"{TR}.aws_iam_role_policy.eval_read",
            "aws_iam_role_policy",
            {"name": "eval-read-api-logs", "role": "trainer"},
            action="create",
            unknown={"policy": True, "id": True},
            references={
                "role": ["aws_iam_role.trainer.id", "aws_iam_role.trainer"],
                "policy": ["data.aws_iam_policy_document.eval_read.json", "data.aws_iam_policy_document.eval_read"],
            },
        ),
    ]
    return resources


def with_logging() -> list[Planned]:
    """A benign change: server access logging for the API logs."""
    return [
        *base(),
        Planned(
            f"{DP}.aws_s3_bucket_logging.api_logs",
            "aws_s3_bucket_logging",
            {"target_bucket": "acme-access-logs", "target_prefix": "api/"},
            action="create",
            unknown={"bucket": True, "id": True},
            references={"bucket": ["aws_s3_bucket.api_logs.id", "aws_s3_bucket.api_logs"]},
        ),
    ]


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    for name, resources in (("base", base()), ("head-leak", with_leak()), ("head-benign", with_logging())):
        (ROOT / f"{name}.tfplan.json").write_text(json.dumps(plan(resources), indent=2) + "\n")


if __name__ == "__main__":
    main()
