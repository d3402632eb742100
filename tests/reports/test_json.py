"""report.json round-trips through the canonical model."""

from __future__ import annotations

import json

from audit.report import Report
from reports.json import render
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources


def test_report_json_round_trips() -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / "shared-analytics")
    raw = render(report)
    data = json.loads(raw)
    assert data["schema"] == "tenant-audit/report@1"
    again = Report.model_validate_json(raw)
    assert again == report
    assert render(again) == raw
