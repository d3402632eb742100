"""report.json: the canonical form, read back by ``explain`` and ``diff``."""

from __future__ import annotations

from audit.report import Report


def render(report: Report) -> bytes:
    return report.to_json().encode("utf-8")
