"""Table-driven tests of the configuration checks: each case is a small inventory and what
one check must conclude about it (pass, a finding, or a coverage gap)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.checkapi import CheckContext
from audit.coverage import CoverageGap
from audit.findings import Finding
from audit.graph.build import build_graph
from audit.sources import load_inventory
from checks import load_registry

REGISTRY = load_registry(plugins=False)

BASE = """
version: 1
accounts:
  - {id: "111111111111", name: serving, zone: serving}
  - {id: "222222222222", name: training, zone: training}
data_classes:
  feedback: {max_retention_days: 365}
kms_keys:
  - {arn: "arn:aws:kms:us-east-1:111111111111:key/good", rotation_enabled: true}
  - {arn: "arn:aws:kms:us-east-1:111111111111:key/stale", rotation_enabled: false}
"""
GOOD = (
    "encryption: aws:kms, kms_key: 'arn:aws:kms:us-east-1:111111111111:key/good', public_access_blocked: true, "
    "tls_only: true, access_logging: true, versioning: false"
)


def store(spec: str) -> str:
    return f"  - {{kind: s3-bucket, account: serving, {spec}}}\n"


# (case, check, stores/extra yaml, expected: "pass" | "finding" | "gap", fragment of the message or reason)
CASES = [
    # RET-001 -----------------------------------------------------------------------------
    (
        "ret-within",
        "RET-001",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [commercial-api], retention_days: 30, {GOOD}"),
        "pass",
        "",
    ),
    (
        "ret-over",
        "RET-001",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [commercial-api], retention_days: 31, {GOOD}"),
        "finding",
        "31 days; its classes allow 30 days",
    ),
    (
        "ret-strictest-class",
        "RET-001",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [consumer-opt-in, commercial-api], retention_days: 100, {GOOD}"),
        "finding",
        "allow 30 days (commercial-api)",
    ),
    (
        "ret-unknown",
        "RET-001",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [commercial-api], {GOOD}"),
        "gap",
        "retention of a is unknown",
    ),
    (
        "ret-prefix-rule",
        "RET-001",
        store(f"id: b, arn: 'arn:aws:s3:::b', {GOOD}, lifecycle: [{{prefix: 'api/', expiration_days: 60}}]")
        + "  - {id: p, kind: s3-prefix, arn: 'arn:aws:s3:::b/api/*', classes: [commercial-api]}\n",
        "finding",
        "60 days",
    ),
    (
        "ret-prefix-rule-ok",
        "RET-001",
        store(f"id: b, arn: 'arn:aws:s3:::b', {GOOD}, lifecycle: [{{prefix: 'api/', expiration_days: 7}}]")
        + "  - {id: p, kind: s3-prefix, arn: 'arn:aws:s3:::b/api/*', classes: [commercial-api]}\n",
        "pass",
        "",
    ),
    (
        "ret-bucket-setting-inherited",
        "RET-001",
        store(f"id: b, arn: 'arn:aws:s3:::b', {GOOD}, retention_days: 10")
        + "  - {id: p, kind: s3-prefix, arn: 'arn:aws:s3:::b/api/*', classes: [commercial-api]}\n",
        "pass",
        "",
    ),
    (
        "ret-no-class-limit",
        "RET-001",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], retention_days: 9999, {GOOD}"),
        "gap",
        "no store holding a class with a maximum retention",
    ),
    # RET-002 -----------------------------------------------------------------------------
    (
        "ret-forever",
        "RET-002",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [commercial-api], retention_days: null, {GOOD}"),
        "finding",
        "kept forever",
    ),
    (
        "ret-expires",
        "RET-002",
        store(f"id: a, arn: 'arn:aws:s3:::a', classes: [commercial-api], retention_days: 400, {GOOD}"),
        "pass",
        "",
    ),
    # RET-003 -----------------------------------------------------------------------------
    (
        "ret-versioned-forever",
        "RET-003",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [feedback], retention_days: 30, versioning: true"),
        "finding",
        "noncurrent versions forever",
    ),
    (
        "ret-versioned-too-long",
        "RET-003",
        store(
            "id: a, arn: 'arn:aws:s3:::a', classes: [feedback], retention_days: 300, versioning: true, noncurrent_retention_days: 100"
        ),
        "finding",
        "400 days",
    ),
    (
        "ret-versioned-ok",
        "RET-003",
        store(
            "id: a, arn: 'arn:aws:s3:::a', classes: [feedback], retention_days: 300, versioning: true, noncurrent_retention_days: 30"
        ),
        "pass",
        "",
    ),
    (
        "ret-versioning-unknown",
        "RET-003",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [feedback], retention_days: 30"),
        "gap",
        "versioned is unknown",
    ),
    # ENC ---------------------------------------------------------------------------------------
    (
        "enc-none",
        "ENC-001",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], encryption: none"),
        "finding",
        "unencrypted at rest",
    ),
    (
        "enc-aes",
        "ENC-001",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], encryption: AES256"),
        "pass",
        "",
    ),
    (
        "enc-unknown",
        "ENC-001",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise]"),
        "gap",
        "encryption at rest of a is unknown",
    ),
    (
        "enc-unprotected-ignored",
        "ENC-001",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], encryption: AES256")
        + store("id: c, arn: 'arn:aws:s3:::c', classes: [public-web], encryption: none"),
        "pass",
        "",
    ),
    (
        "enc-no-protected-store",
        "ENC-001",
        store("id: c, arn: 'arn:aws:s3:::c', classes: [public-web], encryption: none"),
        "gap",
        "no store of a protected class",
    ),
    (
        "tls-off",
        "ENC-002",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [gov], tls_only: false"),
        "finding",
        "accepts plain HTTP",
    ),
    (
        "tls-from-bucket",
        "ENC-002",
        store("id: b, arn: 'arn:aws:s3:::b', tls_only: true")
        + "  - {id: p, kind: s3-prefix, arn: 'arn:aws:s3:::b/gov/*', classes: [gov]}\n",
        "pass",
        "",
    ),
    (
        "tls-table-not-s3",
        "ENC-002",
        "  - {id: t, kind: table, account: serving, classes: [gov]}\n"
        + store("id: a, arn: 'arn:aws:s3:::a', classes: [gov], tls_only: true"),
        "pass",
        "",
    ),
    (
        "key-stale",
        "ENC-003",
        store(
            "id: a, arn: 'arn:aws:s3:::a', classes: [education], encryption: aws:kms, kms_key: 'arn:aws:kms:us-east-1:111111111111:key/stale'"
        ),
        "finding",
        "does not rotate",
    ),
    (
        "key-undescribed",
        "ENC-003",
        store(
            "id: a, arn: 'arn:aws:s3:::a', classes: [education], encryption: aws:kms, kms_key: 'arn:aws:kms:us-east-1:111111111111:key/other'"
        ),
        "gap",
        "rotation of the KMS key",
    ),
    (
        "key-aes-not-applicable",
        "ENC-003",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [education], encryption: AES256"),
        "pass",
        "",
    ),
    # EXP-003 / ACC-002 -------------------------------------------------------------------------
    (
        "pab-off",
        "EXP-003",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], public_access_blocked: false"),
        "finding",
        "Block Public Access off",
    ),
    (
        "pab-unknown",
        "EXP-003",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise]"),
        "gap",
        "Block Public Access protects a is unknown",
    ),
    (
        "logging-off",
        "ACC-002",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], access_logging: false"),
        "finding",
        "no access logging",
    ),
    (
        "logging-on",
        "ACC-002",
        store("id: a, arn: 'arn:aws:s3:::a', classes: [enterprise], access_logging: true"),
        "pass",
        "",
    ),
    # SEP-001 --------------------------------------------------------------------------------
    (
        "sink-in-training",
        "SEP-001",
        "  - {id: mix, kind: s3-bucket, account: training, classes: [training]}\n",
        "pass",
        "",
    ),
    (
        "sink-in-serving",
        "SEP-001",
        "  - {id: mix, kind: s3-bucket, account: serving, classes: [training]}\n",
        "finding",
        "training set mix runs in account serving",
    ),
    (
        "sink-without-account",
        "SEP-001",
        "  - {id: mix, kind: s3-bucket, classes: [training]}\n",
        "gap",
        "zone of store mix is unknown",
    ),
    ("no-sink", "SEP-001", store("id: a, arn: 'arn:aws:s3:::a'"), "gap", "no training sink"),
]


def outcomes(tmp_path: Path, check_id: str, stores_yaml: str) -> list[Finding | CoverageGap]:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(BASE).lstrip() + "stores:\n" + stores_yaml)
    inventory = load_inventory([str(path)])
    check = REGISTRY.checks[check_id]
    context = CheckContext(
        check=check,
        inventory=inventory,
        graph=build_graph(inventory),
        params=check.params.model_validate(dict(check.defaults)),
        now=datetime.now(UTC),
    )
    return [o for o in check.evaluate(context) if isinstance(o, Finding | CoverageGap)]


@pytest.mark.parametrize(
    ("check_id", "stores_yaml", "expected", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_configuration_check(tmp_path: Path, check_id: str, stores_yaml: str, expected: str, fragment: str) -> None:
    found = outcomes(tmp_path, check_id, stores_yaml)
    findings = [o for o in found if isinstance(o, Finding)]
    gaps = [o for o in found if isinstance(o, CoverageGap)]
    if expected == "pass":
        assert found == []
    elif expected == "finding":
        assert len(findings) == 1, found
        assert fragment in findings[0].message
        assert findings[0].path[0].evidence, "a configuration finding cites where the setting was stated"
        assert not gaps
    else:
        assert not findings, found
        assert any(fragment in g.reason for g in gaps), gaps
