"""`tenant-audit synth --aws-endpoint`: the synthetic estate built in moto's server, audited
live over HTTP, gives what its inventory gives, and every planted violation is found."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest

from audit.estate import account_sessions
from audit.synth import found_in_report, missed_in_report
from tests.conftest import invoke

SMALL = ("--stores", "60", "--roles", "24", "--jobs", "40", "--tenants", "3")


def _report(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "report.json").read_text()))


def test_the_live_estate_audits_like_its_inventory(moto_server: str, tmp_path: Path) -> None:
    result = invoke("synth", *SMALL, "--out", str(tmp_path / "estate"), "--aws-endpoint", moto_server)
    assert result.exit_code == 0, result.stderr
    estate = tmp_path / "estate"
    planted = json.loads((estate / "planted.json").read_text())
    assert len(planted) == 7

    # the estate is really there: the buckets of the inventory, with their tags
    stores = json.loads((estate / "inventory" / "stores.json").read_text())["stores"]
    serving = [s["id"] for s in stores if s["account"] == "111111111111"]
    s3 = account_sessions(boto3.client("sts"))("111111111111").client("s3")  # AWS_ENDPOINT_URL: the server
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(serving) <= buckets
    tenant_bucket = next(s for s in stores if s.get("tenant"))
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=tenant_bucket["id"])["TagSet"]}
    assert tags["tenant"] == tenant_bucket["tenant"]

    live = invoke(
        "run",
        "aws",
        str(estate / "aws" / "overlay.json"),
        "--accounts",
        str(estate / "aws" / "accounts.json"),
        "--assume-role",
        "auditor",
        "--out",
        str(tmp_path / "live"),
        "--format",
        "json",
    )
    assert live.exit_code == 1, live.stderr  # the planted violations are findings
    described = invoke("run", str(estate / "inventory"), "--out", str(tmp_path / "described"), "--format", "json")
    assert described.exit_code == 1, described.stderr

    live_report, described_report = _report(tmp_path / "live"), _report(tmp_path / "described")
    assert missed_in_report(planted, live_report) == []
    assert found_in_report(live_report) == found_in_report(described_report)
    assert {c["id"]: c["verdict"] for c in live_report["claims"]} == {
        c["id"]: c["verdict"] for c in described_report["claims"]
    }


def test_an_endpoint_off_this_machine_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = invoke("synth", *SMALL, "--out", str(tmp_path / "estate"), "--aws-endpoint", "https://s3.amazonaws.com")
    assert result.exit_code == 2
    assert "not an emulator on this machine" in result.stderr
    assert not (tmp_path / "estate").exists()


def test_no_emulator_listening_is_a_usage_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = invoke("synth", *SMALL, "--out", str(tmp_path / "estate"), "--aws-endpoint", f"http://127.0.0.1:{port}")
    assert result.exit_code == 2
    assert "no AWS emulator answers" in result.stderr
    assert not (tmp_path / "estate").exists()
