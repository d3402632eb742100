"""Every source reads TLS enforcement from the bucket policy with one function: a described
inventory's ``policy`` as the AWS collector's GetBucketPolicy and a Terraform plan's
``aws_s3_bucket_policy``. A policy that denies only ``s3:PutObject`` without TLS leaves reads
over plain HTTP open, whichever source states it; ENC-002 reports it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import yaml

from audit.checkapi import CheckContext
from audit.findings import Finding
from audit.graph.build import build_graph
from audit.sources import load_inventory
from audit.sources.aws import AwsOptions, collect
from audit.sources.terraform import transform
from checks import load_registry
from tests.conftest import WriteYaml
from tests.support.tfplan import Planned, plan

PLAIN_HTTP = {"Bool": {"aws:SecureTransport": "false"}}


def deny(action: str, bucket: str) -> dict[str, Any]:
    return {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": PLAIN_HTTP,
    }


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# ---- described inventories ---------------------------------------------------------------------


def described(write_yaml: WriteYaml, **store: Any) -> tuple[Any, list[str]]:
    """The store as loaded, and the ENC-002 messages about it."""
    text = yaml.safe_dump(
        {
            "version": 1,
            "accounts": [{"id": "111111111111", "name": "serving", "zone": "serving"}],
            "stores": [
                {"id": "api-logs", "arn": "arn:aws:s3:::api-logs", "account": "serving", "classes": ["commercial-api"]}
                | store
            ],
        },
        sort_keys=False,
    )
    inventory = load_inventory([str(write_yaml(text))])
    check = load_registry(plugins=False).checks["ENC-002"]
    context = CheckContext(
        check=check, inventory=inventory, graph=build_graph(inventory), params=check.params(), now=datetime.now(UTC)
    )
    messages = [o.message for o in check.evaluate(context) if isinstance(o, Finding)]
    return inventory.stores["api-logs"], messages


def test_a_described_policy_that_denies_only_writes_does_not_enforce_tls(write_yaml: WriteYaml) -> None:
    store, messages = described(write_yaml, policy=document(deny("s3:PutObject", "api-logs")))
    assert store.tls_only is False
    assert messages == ["api-logs accepts plain HTTP: no bucket policy denies aws:SecureTransport = false"]
    assert store.provenance.at("tls_only") == store.provenance.at("policy"), "the finding cites the policy"


def test_a_described_policy_that_denies_plain_http_enforces_tls(write_yaml: WriteYaml) -> None:
    store, messages = described(write_yaml, policy=document(deny("s3:*", "api-logs")))
    assert store.tls_only is True
    assert messages == []


def test_a_stated_tls_only_the_policy_does_not_bear_out_is_false(write_yaml: WriteYaml) -> None:
    store, messages = described(write_yaml, tls_only=True, policy=document(deny("s3:PutObject", "api-logs")))
    assert store.tls_only is False
    assert len(messages) == 1


@pytest.mark.parametrize("stated", [True, False])
def test_a_stated_tls_only_stands_without_a_policy(write_yaml: WriteYaml, stated: bool) -> None:
    store, messages = described(write_yaml, tls_only=stated)
    assert store.tls_only is stated
    assert len(messages) == (0 if stated else 1)


def test_a_stated_false_stays_false_whatever_the_policy(write_yaml: WriteYaml) -> None:
    store, _ = described(write_yaml, tls_only=False, policy=document(deny("s3:*", "api-logs")))
    assert store.tls_only is False


def test_a_policy_for_another_bucket_enforces_nothing_here(write_yaml: WriteYaml) -> None:
    store, _ = described(write_yaml, policy=document(deny("s3:*", "other-bucket")))
    assert store.tls_only is False


# ---- the AWS collector (moto) -------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("action", "enforced"), [("s3:PutObject", False), ("s3:*", True)])
def test_the_collector_reads_the_policy_the_same_way(action: str, enforced: bool) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="api-logs")
    s3.put_bucket_policy(Bucket="api-logs", Policy=json.dumps(document(deny(action, "api-logs"))))
    (store,) = [s for s in collect(AwsOptions()).document.stores if s.id == "api-logs"]
    assert store.tls_only is enforced


# ---- a Terraform plan ---------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "enforced"), [("s3:PutObject", False), ("s3:*", True)])
def test_a_terraform_plan_is_read_the_same_way(action: str, enforced: bool) -> None:
    resources = [
        Planned("aws_s3_bucket.logs", "aws_s3_bucket", {"bucket": "api-logs", "arn": "arn:aws:s3:::api-logs"}),
        Planned(
            "aws_s3_bucket_policy.logs",
            "aws_s3_bucket_policy",
            {"bucket": "api-logs", "policy": json.dumps(document(deny(action, "api-logs")))},
            references={"bucket": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]},
        ),
    ]
    data = plan(resources)
    loaded = transform(data, "plan.json", hashlib.sha256(json.dumps(data).encode()).hexdigest())
    (store,) = [s for s in loaded.document.stores if s.arn == "arn:aws:s3:::api-logs"]
    assert store.tls_only is enforced
