"""The HTML report in a real browser (headless Chromium): the claims read right, a finding
expands to its evidence, the filters work, printing opens everything, and the page makes no
network request and logs no error (a blocked inline script would be a console error)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ORG, LEAKS, invoke
from tests.support.browser import Session, open_report


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser")
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(LEAKS / "debug-export"),
        str(LEAKS / "eval-harness-grant"),
        str(LEAKS / "no-key-rotation"),
        "--out",
        str(out),
    )
    assert result.exit_code == 1, result.stderr
    return out


@pytest.fixture
def session(report_dir: Path) -> Iterator[Session]:
    with open_report(report_dir / "report.html") as opened:
        yield opened
        assert opened.foreign_requests == [], "the report must not touch the network"
        assert opened.blocked == []
        assert opened.errors == [], "the page logged errors"


def test_claims_read_with_their_verdicts(session: Session, report_dir: Path) -> None:
    report = json.loads((report_dir / "report.json").read_text())
    page = session.page
    items = page.locator("#summary li[id^='claim-']")
    assert items.count() == len(report["claims"]) == 12
    for claim in report["claims"]:
        item = page.locator(f"#claim-{claim['id']}")
        assert item.locator(".verdict").inner_text() == claim["verdict"]
        # the verdict in words, its basis behind a disclosure (issue 19's basis made it long)
        assert claim["statement"].split(". Basis: ")[0] in item.inner_text()
    contradicted = page.locator("#summary li:has(.v-contradicted)")
    assert contradicted.count() == sum(c["verdict"] == "contradicted" for c in report["claims"]) > 0
    cover = page.locator("#cover").inner_text()
    assert report["organisation"] in cover
    for source in report["run"]["inputs"]:
        assert source["sha256"] in cover


def test_claim_links_to_a_finding_whose_evidence_expands(session: Session, report_dir: Path) -> None:
    report = json.loads((report_dir / "report.json").read_text())
    (finding,) = [f for f in report["findings"] if f["check"] == "ISO-004"]
    page = session.page
    page.locator(f"#claim-C3 a[href='#{finding['id']}']").click()
    assert page.evaluate("location.hash") == f"#{finding['id']}"
    article = page.locator(f"article[id='{finding['id']}']")
    assert article.is_visible()
    assert article.locator("svg.path").is_visible(), "the witness path is drawn"
    evidence = article.locator("ol.hops details").first
    detail = evidence.locator(".evidence").first
    assert not detail.is_visible(), "evidence starts collapsed"
    evidence.locator("summary").click()
    assert detail.is_visible()
    assert "leak.yaml:" in detail.inner_text()
    session.page.screenshot(path=str(report_dir / "finding.png"))
    assert (report_dir / "finding.png").stat().st_size > 10_000


def test_filters_hide_and_show_findings(session: Session, report_dir: Path) -> None:
    report = json.loads((report_dir / "report.json").read_text())
    page = session.page
    rows = page.locator("[data-finding]")
    total = len(report["findings"])
    assert rows.count() == total

    def visible() -> int:
        return int(page.evaluate("document.querySelectorAll('[data-finding]:not([hidden])').length"))

    high = sum(f["severity"] == "high" for f in report["findings"])
    assert 0 < high < total
    page.locator("#filters input[value='high']").uncheck()
    assert visible() == total - high
    assert page.locator("#filter-count").inner_text() == f"{total - high} shown"
    page.locator("#filters input[value='high']").check()
    page.locator("#filter-claim").select_option("C3")
    assert visible() == sum("C3" in f["claim_ids"] for f in report["findings"])
    page.locator("#filter-claim").select_option("")
    page.locator("#filter-text").fill("chat-debug-export")
    assert visible() == sum(any(h["node"] == "chat-debug-export" for h in f["path"]) for f in report["findings"])


def test_printing_opens_every_evidence_block(session: Session) -> None:
    page = session.page
    page.locator("#filters input[value='high']").uncheck()
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") > 0
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    assert page.evaluate("document.querySelectorAll('[data-finding][hidden]').length") == 0
    pdf = page.pdf()  # the print stylesheet lays out without error
    assert pdf.startswith(b"%PDF")


def test_the_clean_example_org_screenshot(tmp_path: Path) -> None:
    out = tmp_path / "example-org"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out)).exit_code == 0
    with open_report(out / "report.html") as opened:
        page = opened.page
        assert page.locator("#summary .v-no-evidence-contradicting").count() == 12
        assert page.locator("svg.map").is_visible(), "the data map is drawn"
        assert "No findings." in page.locator("#decide").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"))
        assert opened.foreign_requests == []
        assert opened.errors == []
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
