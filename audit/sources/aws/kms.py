"""KMS keys used by SSE-KMS buckets: their key policies and rotation."""

from __future__ import annotations

import json
from typing import Any

from audit.inventory import arn_account
from audit.model import KmsKey, Provenance
from audit.sources.aws.fetch import FAILED, MISSING, Fetcher


def get_key(fetcher: Fetcher, kms: Any, key_arn: str) -> dict[str, Any]:
    scope = f"kms:{key_arn}"
    # an unreadable key policy does not restrict the audit (it is listed as unavailable
    # on each edge); rotation feeds the encryption checks
    return {
        "arn": key_arn,
        "metadata": fetcher.call(
            scope, f"kms:DescribeKey {key_arn}", kms.describe_key, KeyId=key_arn, checks=("ENC-*",)
        ),
        "policy": fetcher.call(
            scope,
            f"kms:GetKeyPolicy {key_arn}",
            kms.get_key_policy,
            KeyId=key_arn,
            PolicyName="default",
            checks=("ENC-*",),
        ),
        "rotation": fetcher.call(
            scope, f"kms:GetKeyRotationStatus {key_arn}", kms.get_key_rotation_status, KeyId=key_arn, checks=("ENC-*",)
        ),
    }


def transform_key(raw: dict[str, Any]) -> KmsKey:
    metadata, policy, rotation = raw["metadata"], raw["policy"], raw["rotation"]
    arn = raw["arn"]
    if isinstance(metadata, dict):
        arn = metadata.get("KeyMetadata", {}).get("Arn", arn)
    fields: dict[str, Any] = {"arn": arn, "account": arn_account(arn)}
    if isinstance(policy, dict):
        fields["policy"] = json.loads(policy["Policy"])
    if isinstance(rotation, dict):
        fields["rotation_enabled"] = bool(rotation.get("KeyRotationEnabled"))
    key = KmsKey(**fields)
    key.provenance = Provenance(
        source="aws",
        location=f"aws:kms:{arn}",
        fields={"policy": f"aws:kms:GetKeyPolicy {arn}", "rotation_enabled": f"aws:kms:GetKeyRotationStatus {arn}"},
    )
    return key


__all__ = ["FAILED", "MISSING", "get_key", "transform_key"]
