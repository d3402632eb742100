"""--format pdf: the expanded HTML report printed by headless Chromium; without a browser,
a usage error that says how to get one, before anything runs or is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import EXAMPLE_ORG, LEAKS, invoke


def test_pdf_carries_the_whole_report_with_evidence_expanded(tmp_path: Path) -> None:
    result = invoke(
        "run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path), "--format", "pdf,json"
    )
    assert result.exit_code == 1, result.stderr
    pdf = PdfReader(tmp_path / "report.pdf")
    text = "\n".join(page.extract_text() for page in pdf.pages)
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(pdf.pages) > 3
    assert "Example AI Lab" in text
    for section in ("Executive summary", "Observe: what was collected", "Orient: the data map", "Decide:", "Act:"):
        assert section in text
    (finding,) = [f for f in report["findings"] if f["check"] == "ISO-004"]
    assert finding["id"] in text
    # evidence blocks are collapsed on screen but open in print: their locations are in the PDF
    locations = [e["location"] for hop in finding["path"] for e in hop["evidence"]]
    assert locations
    assert all(loc.replace(" ", "") in text.replace(" ", "").replace("\n", "") for loc in locations)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "report.pdf" in {o["path"] for o in manifest["outputs"]}


def test_without_chromium_pdf_is_a_usage_error_before_the_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("TENANT_AUDIT_CHROMIUM", raising=False)
    out = tmp_path / "out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "html,pdf")
    assert result.exit_code == 2
    assert "--format pdf needs headless Chromium" in result.stderr
    assert "apt-get install -y chromium" in result.stderr
    assert not out.exists(), "nothing is half-written"


def test_a_configured_browser_that_is_missing_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANT_AUDIT_CHROMIUM", str(tmp_path / "no-such-chrome"))
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path / "out"), "--format", "pdf")
    assert result.exit_code == 2
    assert "no-such-chrome is not an executable" in result.stderr


def test_a_browser_that_cannot_print_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TENANT_AUDIT_CHROMIUM", str(fake))
    out = tmp_path / "out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "html,pdf")
    assert result.exit_code == 2
    assert "could not print the PDF (exit 3: cannot open display)" in result.stderr
    assert not out.exists()
