"""The read-only guard is an allowlist of exact operations, the auditor policy's, and a guarded
client cannot presign."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from audit.sources.aws.session import ALLOWED_CALLS, AUDITOR_POLICY, ReadOnlyViolation, read_only_session


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("sts", "get_session_token", {}),
        ("sts", "get_federation_token", {"Name": "auditor"}),
        ("s3", "get_object_torrent", {"Bucket": "existing", "Key": "k"}),
        ("s3", "get_object", {"Bucket": "existing", "Key": "k"}),  # data, not configuration
        ("s3", "head_bucket", {"Bucket": "existing"}),  # a read, but not one the audit makes
        ("iam", "list_access_keys", {}),
        ("kms", "get_public_key", {"KeyId": "alias/k"}),
    ],
)
def test_reads_by_name_outside_the_auditor_policy_are_refused(service: str, call: str, kwargs: dict[str, Any]) -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    guarded = read_only_session().client(service, region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation, match="refused to call"):
        getattr(guarded, call)(**kwargs)


@pytest.mark.usefixtures("aws")
def test_the_calls_of_the_auditor_policy_pass() -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    guarded = read_only_session().client("s3", region_name="us-east-1")
    assert guarded.list_buckets()["Buckets"][0]["Name"] == "existing"
    assert "LocationConstraint" in guarded.get_bucket_location(Bucket="existing")
    assert read_only_session().client("sts", region_name="us-east-1").get_caller_identity()["Account"]


def test_the_allowlist_is_the_auditor_policy() -> None:
    actions = json.loads(AUDITOR_POLICY.read_text())["Statement"][0]["Action"]
    assert len(ALLOWED_CALLS) == len(actions) + 2  # the policy's calls, GetCallerIdentity and AssumeRole
    assert ("s3", "ListBuckets") in ALLOWED_CALLS
    assert ("s3control", "GetPublicAccessBlock") in ALLOWED_CALLS
    assert not [c for c in ALLOWED_CALLS if c[1].startswith(("Put", "Create", "Delete", "Update"))]


@pytest.mark.usefixtures("aws")
def test_a_guarded_client_cannot_presign() -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    guarded = read_only_session().client("s3", region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation, match="presign"):
        guarded.generate_presigned_url("put_object", Params={"Bucket": "existing", "Key": "planted"})
    with pytest.raises(ReadOnlyViolation, match="presign"):
        guarded.generate_presigned_post("existing", "planted")
    assert boto3.client("s3").list_objects_v2(Bucket="existing").get("KeyCount") == 0


@pytest.mark.usefixtures("aws")
def test_an_unguarded_client_still_presigns_so_the_refusal_is_the_guards() -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    url = boto3.client("s3").generate_presigned_url("put_object", Params={"Bucket": "existing", "Key": "k"})
    assert url.startswith("https://")


@pytest.mark.usefixtures("aws")
def test_the_content_reader_may_read_objects_and_nothing_else() -> None:
    from audit.sources.aws.session import CONTENT_CALLS

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="k", Body=b"x")
    reader = read_only_session(allowed=CONTENT_CALLS).client("s3", region_name="us-east-1")
    assert reader.get_object(Bucket="data", Key="k")["Body"].read() == b"x"
    assert reader.list_objects_v2(Bucket="data")["KeyCount"] == 1
    with pytest.raises(ReadOnlyViolation):
        reader.put_object(Bucket="data", Key="planted", Body=b"y")
    with pytest.raises(ReadOnlyViolation):
        reader.get_bucket_policy(Bucket="data")  # the collector's calls are not the reader's
    with pytest.raises(ReadOnlyViolation, match="presign"):
        reader.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "k"})
