"""RET-003 reads only the lifecycle rules that cover the store: a noncurrent-version rule
filtered to another prefix does not expire the store's old versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.coverage import CoverageGap
from audit.findings import Finding
from tests.checks.test_hygiene import outcomes, store

API = "  - {id: api, kind: s3-prefix, arn: 'arn:aws:s3:::lake/api/*', classes: [commercial-api]}\n"


def lake(rules: str) -> str:
    """A versioned bucket whose objects expire after 20 days, with these extra rules, and the
    API logs (30 days at most) as a prefix inside it."""
    return (
        store(
            "id: lake, arn: 'arn:aws:s3:::lake', versioning: true, "
            f"lifecycle: [{{prefix: '', expiration_days: 20}}, {rules}]"
        )
        + API
    )


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # adversarial: a 1-day rule on tmp/ once "covered" the API logs (20 + 1 <= 30)
        ("{prefix: 'tmp/', noncurrent_days: 1}", "kept forever"),
        # a rule on a sibling whose name starts like the store's ('api-old/' is not 'api/')
        ("{prefix: 'api-old/', noncurrent_days: 1}", "kept forever"),
        # a rule inside the store covers only part of it
        ("{prefix: 'api/2026/', noncurrent_days: 1}", "kept forever"),
        # clean twins: a rule on the store's prefix, or one on the whole bucket
        ("{prefix: 'api/', noncurrent_days: 5}", "pass"),
        ("{prefix: '', noncurrent_days: 5}", "pass"),
        ("{prefix: 'ap', noncurrent_days: 5}", "pass"),
        # the shortest covering rule is the one S3 applies; a longer one adds nothing
        ("{prefix: 'api/', noncurrent_days: 5}, {prefix: '', noncurrent_days: 400}", "pass"),
        ("{prefix: 'api/', noncurrent_days: 15}", "35 days"),
    ],
)
def test_noncurrent_rules_count_only_where_their_prefix_covers_the_store(
    tmp_path: Path, rules: str, expected: str
) -> None:
    found = outcomes(tmp_path, "RET-003", lake(rules))
    findings = [o for o in found if isinstance(o, Finding) and o.path[0].node == "api"]
    assert not [o for o in found if isinstance(o, CoverageGap)], found
    if expected == "pass":
        assert findings == []
        return
    assert len(findings) == 1, found
    message = findings[0].message
    assert ("keeps noncurrent versions forever" in message) if expected == "kept forever" else (expected in message)


def test_the_finding_cites_the_covering_rule(tmp_path: Path) -> None:
    found = outcomes(
        tmp_path, "RET-003", lake("{prefix: 'api/', noncurrent_days: 15}, {prefix: 'tmp/', noncurrent_days: 1}")
    )
    (finding,) = [o for o in found if isinstance(o, Finding) and o.path[0].node == "api"]
    details = [e.detail for step in finding.path for e in step.evidence] + [e.detail for e in finding.evidence]
    assert any("prefix 'api/' expires noncurrent versions after 15 days" in d for d in details), details
    assert not any("'tmp/'" in d for d in details)
