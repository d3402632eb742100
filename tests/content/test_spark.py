"""The content checks on Apache Spark (local mode): the same findings, the same counts,
the same gaps as on pandas, for the same data; S3 read by the executors themselves."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from audit.report import Report
from tests.conftest import invoke
from tests.content.conftest import audit_content
from tests.content.test_scan import EXPECTED, EXPECTED_GAPS, _findings
from tests.support.datasets import LEAKS, build

pytestmark = pytest.mark.spark

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's server on loopback, in the environment before Spark's JVM (and so its Python
    workers) start: executors find S3 the way they would on a cluster, by their environment."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": url}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield url
        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()
    server.stop()


def _comparable(report: Report) -> dict[str, Any]:
    content = dict(report.content or {})
    content.pop("engine")
    return {
        "findings": [f.model_dump() for f in report.findings],
        "claims": [(c.id, c.verdict) for c in report.claims],
        "gaps": sorted((g.scope, g.reason) for g in report.coverage.gaps),
        "content": content,
    }


@pytest.mark.usefixtures("endpoint")
def test_spark_gives_the_same_findings_as_pandas(leaky_org: Path) -> None:
    pandas = audit_content(leaky_org, chunk_rows=64)
    spark = audit_content(leaky_org, chunk_rows=64, engine="spark", spark_master="local[2]")
    assert _findings(spark) == EXPECTED
    assert _comparable(spark) == _comparable(pandas)
    assert (spark.content or {})["engine"] == "spark"


@pytest.mark.usefixtures("endpoint")
def test_spark_samples_and_fails_alike(tmp_path: Path) -> None:
    root = build(tmp_path / "org", leaks=LEAKS).parent
    broken = root / "data/sft-chats/part-0001.jsonl"
    broken.write_text('{"text": "fine", "source": "consumer-opt-in", "consent": "opt-in"}\n{"text": \n')
    pandas = audit_content(root, sample_rate=0.5, chunk_rows=50)
    spark = audit_content(root, sample_rate=0.5, chunk_rows=50, engine="spark", spark_master="local[2]")
    assert any("part-0001.jsonl:2" in g.reason for g in spark.coverage.gaps)
    assert _comparable(spark) == _comparable(pandas)


def test_spark_executors_read_s3(endpoint: str, tmp_path: Path) -> None:
    root = build(tmp_path / "org", leaks=LEAKS).parent
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="spark-content-lab")
    for path in sorted((root / "data").rglob("*")):
        if path.is_file():
            s3.put_object(Bucket="spark-content-lab", Key=str(path.relative_to(root)), Body=path.read_bytes())
    s3_org = tmp_path / "s3-org"
    s3_org.mkdir()
    inventory = (
        (root / "inventory.yaml").read_text().replace("location: data/", "location: s3://spark-content-lab/data/")
    )
    (s3_org / "inventory.yaml").write_text(inventory)
    report = audit_content(s3_org, engine="spark", spark_master="local[2]")
    assert _findings(report) == EXPECTED
    assert {g.reason for g in report.coverage.gaps} == EXPECTED_GAPS
    assert os.environ["AWS_ENDPOINT_URL"] == endpoint


@pytest.mark.usefixtures("endpoint")
def test_cli_engine_spark(leaky_org: Path, tmp_path: Path) -> None:
    result = invoke(
        "run",
        str(leaky_org),
        "--suite",
        "content",
        "--engine",
        "spark",
        "--spark-master",
        "local[2]",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 1, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["content"]["engine"] == "spark"
    assert len(report["findings"]) == len(EXPECTED)
