"""Content in S3 (moto, in-process): the same findings as on disk, read through read-only
clients only; denied and throttled reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from audit.content import datasets
from audit.sources.aws.session import CONTENT_CALLS, client, read_only_session
from tests.content.conftest import audit_content
from tests.content.test_scan import EXPECTED, EXPECTED_GAPS, _findings
from tests.support.datasets import LEAKS, build

BUCKET = "example-content-lab"
IAM_ACTION = {"ListObjectsV2": "s3:ListBucket", "GetObject": "s3:GetObject"}


def upload(root: Path) -> Path:
    """The org's data in a bucket; the inventory points at S3 (pretrain-mix by its ARN only)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted((root / "data").rglob("*")):
        if path.is_file():
            s3.put_object(Bucket=BUCKET, Key=str(path.relative_to(root)), Body=path.read_bytes())
    inventory = (root / "inventory.yaml").read_text()
    inventory = inventory.replace("location: data/pretrain-mix/", f"arn: arn:aws:s3:::{BUCKET}/data/pretrain-mix/*")
    inventory = inventory.replace("location: data/", f"location: s3://{BUCKET}/data/")
    s3_org = root.parent / "s3-org"
    s3_org.mkdir()
    (s3_org / "inventory.yaml").write_text(inventory)
    return s3_org


Wrap = Callable[[Any], Any]


def clients(*handlers: tuple[str, Callable[..., Any]], calls: list[str] | None = None) -> Callable[[], Any]:
    """A factory of the scan's read-only S3 clients, with test handlers registered."""

    def make() -> Any:
        made = client(read_only_session(region="us-east-1", allowed=CONTENT_CALLS), "s3")
        for event, handler in handlers:
            made.meta.events.register(event, handler)
        if calls is not None:
            made.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
        return made

    return make


@pytest.mark.usefixtures("aws")
def test_s3_content_gives_the_same_findings_as_local_files(tmp_path: Path) -> None:
    s3_org = upload(build(tmp_path / "org", leaks=LEAKS).parent)
    calls: list[str] = []
    report = audit_content(s3_org, s3_client=clients(calls=calls))
    assert _findings(report) == EXPECTED
    assert {g.reason for g in report.coverage.gaps} == EXPECTED_GAPS
    assert set(calls) == {"ListObjectsV2", "GetObject"}, "the scan only lists and reads"
    policy = json.loads((Path(datasets.__file__).parent / "content-reader-policy.json").read_text())
    granted = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {IAM_ACTION[c] for c in calls} <= granted, "the documented policy covers every call"
    locations = [e["location"] for f in report.findings for e in f.details["examples"]]
    assert all(loc.startswith(f"s3://{BUCKET}/data/") for loc in locations)
    pretrain = next(d for d in (report.content or {})["datasets"] if d["store"] == "pretrain-mix")
    assert pretrain["location"] == f"s3://{BUCKET}/data/pretrain-mix/"
    assert pretrain["objects"] == 2


@pytest.mark.usefixtures("aws")
def test_default_clients_are_read_only(tmp_path: Path) -> None:
    from audit.content.datasets import Storage
    from audit.sources.aws.session import ReadOnlyViolation

    upload(build(tmp_path / "org").parent)
    s3 = Storage()._s3()
    with pytest.raises(ReadOnlyViolation):
        s3.put_object(Bucket=BUCKET, Key="x", Body=b"x")


@pytest.mark.usefixtures("aws")
def test_a_denied_object_is_a_gap_and_the_rest_is_scanned(tmp_path: Path) -> None:
    s3_org = upload(build(tmp_path / "org", leaks={"api-copy", "canary"}).parent)

    def deny(params: dict[str, Any], **_: Any) -> None:
        if params["Key"].endswith("part-0001.parquet"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    report = audit_content(s3_org, s3_client=clients(("before-parameter-build.s3.GetObject", deny)))
    (gap,) = [g for g in report.coverage.gaps if g.scope == "store:pretrain-mix"]
    assert f"s3://{BUCKET}/data/pretrain-mix/part-0001.parquet: cannot read: AccessDenied" in gap.reason
    assert any("sft-chats (1 cell match)" in f.message for f in report.findings)
    assert report.summary.verdict == "fail"
    assert {c.id: c.verdict for c in report.claims}["C6"] == "insufficient-evidence"


@pytest.mark.usefixtures("aws")
def test_a_bucket_that_cannot_be_listed_is_a_gap(tmp_path: Path) -> None:
    s3_org = upload(build(tmp_path / "org").parent)

    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2")

    report = audit_content(s3_org, s3_client=clients(("before-call.s3.ListObjectsV2", deny)))
    assert {g.scope for g in report.coverage.gaps} >= {"store:sft-chats", "store:api-logs"}
    assert all("cannot list: AccessDenied" in g.reason for g in report.coverage.gaps)
    assert {c.verdict for c in report.claims} == {"insufficient-evidence"}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@pytest.mark.usefixtures("aws")
def test_throttled_reads_are_retried(tmp_path: Path) -> None:
    s3_org = upload(build(tmp_path / "org", leaks={"api-copy"}).parent)
    attempts: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if request.method == "GET" and "list-type" not in request.url:
            attempts.append(request.url)
            if len(attempts) <= 2:
                return AWSResponse(request.url, 503, {}, _Raw(b"<Error><Code>SlowDown</Code></Error>"))
        return None

    report = audit_content(s3_org, s3_client=clients(("before-send.s3.GetObject", throttle)))
    assert len(attempts) > 2
    assert report.coverage.gaps == []
    assert any("sft-chats (1 cell match)" in f.message for f in report.findings)
