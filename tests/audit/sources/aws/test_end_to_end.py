"""End to end over HTTP: moto's real server on loopback, the real console script pointed at
it through AWS_ENDPOINT_URL, several accounts entered with --assume-role."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import yaml

from audit.estate import EstateBuilder, SessionFor, account_sessions
from audit.sources import load_inventory
from tests.audit.sources.aws.conftest import ACCOUNTS
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources


def _snapshot(session_for: SessionFor) -> dict[str, Any]:
    """Everything the audit could have changed, per account."""
    state: dict[str, Any] = {}
    for account in ACCOUNTS:
        session = session_for(account)
        s3, iam = session.client("s3"), session.client("iam")
        buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
        state[account] = {
            "buckets": buckets,
            "tags": {b: s3.get_bucket_tagging(Bucket=b).get("TagSet") if _has_tags(s3, b) else None for b in buckets},
            "roles": sorted(
                (r["RoleName"], json.dumps(r["AssumeRolePolicyDocument"], sort_keys=True))
                for r in iam.list_roles()["Roles"]
            ),
        }
    return state


def _has_tags(s3: Any, bucket: str) -> bool:
    try:
        s3.get_bucket_tagging(Bucket=bucket)
    except s3.exceptions.ClientError:
        return False
    return True


def test_cli_audits_a_live_estate_over_http(moto_server: str, tmp_path: Path) -> None:
    sources = [EXAMPLE_ORG, LEAKS / "eval-harness-grant"]
    sessions = account_sessions(boto3.client("sts"))  # AWS_ENDPOINT_URL: the server
    overlay = EstateBuilder(load_inventory([str(s) for s in sources]), sessions).build()
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    (tmp_path / "accounts.yaml").write_text(yaml.safe_dump({"accounts": list(ACCOUNTS)}))
    before = _snapshot(sessions)

    script = Path(sys.executable).parent / "tenant-audit"
    result = subprocess.run(
        [
            str(script),
            "run",
            "aws",
            str(tmp_path / "overlay.yaml"),
            "--accounts",
            str(tmp_path / "accounts.yaml"),
            "--assume-role",
            "auditor",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "150"},
        timeout=300,
        check=False,
    )

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr  # the eval harness grant is a high finding
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    described = audit_sources(*sources)
    assert {c["id"]: c["verdict"] for c in report["claims"]} == {c.id: c.verdict for c in described.claims}
    assert {f["id"] for f in report["findings"]} == {f.id for f in described.findings}
    (finding,) = [f for f in report["findings"] if f["check"] == "ISO-001"]
    statements = [e for hop in finding["path"] for e in hop["evidence"] if e["kind"] == "iam-statement"]
    assert statements, "the potential path cites the IAM statements that allow it"
    assert any("GetAccountAuthorizationDetails role/eval-harness" in e["location"] for e in statements)
    assert [i["source"] for i in report["run"]["inputs"]] == ["aws", "inventory"]
    assert report["run"]["inputs"][0]["path_or_uri"] == "aws://" + ",".join(ACCOUNTS)
    # the audit is read-only: the estate is exactly as it was
    assert _snapshot(sessions) == before
