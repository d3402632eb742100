"""--format pdf: the expanded HTML report printed by headless Chromium; without a browser,
a usage error that says how to get one, before anything runs or is written."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader

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


HEADINGS = {
    "Executive summary",
    "Key findings",
    "Decide: findings and their evidence",
    "Act: remediation, most severe first",
    "Basis and limitations",
    "Scope and method",
    "Observe: what was collected",
    "Coverage gaps",
    "Orient: the data map",
    "Zones and accounts",
    "Data classes",
    "Gates and training sinks",
    "Checks run",
    "Attestation and sign-off",
    "Attestation and sign-oﬀ",
}


def _pages(out: Path) -> list[list[str]]:
    return [
        [line.strip() for line in page.extract_text().splitlines() if line.strip()] for page in PdfReader(out).pages
    ]


@pytest.fixture(scope="module")
def signed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdf")
    sources = [str(EXAMPLE_ORG), *(str(LEAKS / leak) for leak in ("debug-export", "eval-harness-grant"))]
    result = invoke(
        "run", *sources, "--out", str(out), "--format", "pdf,json", "--fail-on", "none", "--fail-on-claims", "none"
    )
    assert result.exit_code == 0, result.stderr
    return out


def test_every_page_is_numbered_x_of_y_under_a_running_header_and_footer(signed_pdf: Path) -> None:
    report = json.loads((signed_pdf / "report.json").read_text())
    report_id = hashlib.sha256((signed_pdf / "report.json").read_bytes()).hexdigest()[:12]
    pages = _pages(signed_pdf / "report.pdf")
    assert len(pages) > 3
    for number, lines in enumerate(pages, start=1):
        text = " ".join(lines)
        assert f"Page {number} of {len(pages)}" in text
        assert report["organisation"] in text
        assert "Automated tenant data isolation assessment" in text
        # NFKC: a PDF's text layer may hold a ligature ("ff" as U+FB00) where the id has two letters
        assert f"Report {report_id}" in unicodedata.normalize("NFKC", text).replace(" ·", " ·")
        assert report["run"]["finished_at"][:10] in text


def test_the_default_paper_is_a4_and_letter_is_asked_for(signed_pdf: Path, tmp_path: Path) -> None:
    box = PdfReader(signed_pdf / "report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path), "--format", "pdf", "--paper", "letter")
    assert result.exit_code == 0, result.stderr
    box = PdfReader(tmp_path / "report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter


def _lowest_text(page: PageObject) -> float:
    """How far down the page its body text reaches, as a share of the area between the margins."""
    height = float(page.mediabox.height)
    margin = 20 / 25.4 * 72  # the print stylesheet's 20 mm top margin, which holds the running header
    ys: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            ys.append(cm[1] * tm[4] + cm[3] * tm[5] + cm[5])

    page.extract_text(visitor_text=visit)
    body = [y for y in ys if margin < y < height - margin]
    return (height - margin - min(body)) / (height - 2 * margin) if body else 0.0


def _size(page: Any) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


def test_no_page_ends_on_a_heading_and_none_is_near_empty(signed_pdf: Path) -> None:
    reader = PdfReader(signed_pdf / "report.pdf")
    pages = _pages(signed_pdf / "report.pdf")
    furniture = ("Page ", "Report ", "Example AI Lab")
    for number, lines in enumerate(pages, start=1):
        body = [line for line in lines if not line.startswith(furniture)]
        assert body, f"page {number} is empty"
        assert body[-1] not in HEADINGS, f"page {number} ends on the heading {body[-1]!r}"
        # the page before the landscape map page ends where its section ends (a named page
        # forces the break): it may be short, whatever the content before it
        before_wide = number < len(pages) and _size(reader.pages[number]) != _size(reader.pages[number - 1])
        if number < len(pages) and not before_wide:
            filled = _lowest_text(reader.pages[number - 1])
            assert filled > 0.25, f"page {number} is near-empty ({filled:.0%} used): {body}"
    text = "\n".join(line for lines in pages for line in lines)
    assert "Attestation and sign" in text  # (the font may set "ff" as one ligature)
    assert "Signature" in text


def test_the_data_map_gets_a_landscape_page_of_the_same_paper(signed_pdf: Path) -> None:
    reader = PdfReader(signed_pdf / "report.pdf")
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    (wide,) = [number for number, size in enumerate(sizes) if size == (842, 595)]
    assert "Orient: the data map" in reader.pages[wide].extract_text()
    assert all(size == (595, 842) for number, size in enumerate(sizes) if number != wide)
