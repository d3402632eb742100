"""Every claim states its basis, and its verdict in words is built from it: "full coverage"
only when nothing in scope went unexamined, a configuration audit says the data was not read,
a sampled scan states the leak rate it rules out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from audit.content.datasets import sampled
from audit.report import ClaimResult, Report
from reports import html, junit, markdown, sarif
from tests.conftest import EXAMPLE_ORG, audit_sources
from tests.content.conftest import audit_content
from tests.support.datasets import LEAKS, build


def _claim(report: Report, claim_id: str) -> ClaimResult:
    return next(c for c in report.claims if c.id == claim_id)


@pytest.fixture(scope="module")
def default_report() -> Report:
    return audit_sources(EXAMPLE_ORG)


def test_a_configuration_audit_says_the_data_was_not_examined(default_report: Report) -> None:
    c6 = _claim(default_report, "C6")
    assert c6.verdict == "no-evidence-contradicting"
    assert c6.basis is not None
    assert c6.basis.full_coverage is False
    assert c6.basis.content is None
    assert {(c.id, c.status) for c in c6.basis.checks} == {("ISO-004", "ran"), ("PII-001", "ran")}
    assert all(c.evidence and "content-full" not in c.evidence for c in c6.basis.checks)
    assert any(
        n.startswith("content not scanned: the default suite is a configuration audit") for n in c6.basis.not_examined
    )
    assert c6.statement.startswith("No evidence contradicting the claim on configuration alone: training data is")
    assert "PII-001 (Data that may hold personal data reaches training only through a PII scrub)" in c6.statement
    assert "the data itself was not examined" in c6.statement
    assert "full coverage" not in c6.statement


def test_a_claim_only_configuration_bears_on_has_full_coverage(default_report: Report) -> None:
    c9 = _claim(default_report, "C9")  # encryption: the configuration is the evidence
    assert c9.basis is not None
    assert c9.basis.full_coverage is True
    assert c9.basis.not_examined == []
    assert c9.statement.startswith("No evidence contradicting the claim, with full coverage: client data is")


def test_a_claim_with_a_gap_never_says_full_coverage() -> None:
    report = audit_sources(EXAMPLE_ORG, "fixtures/leaks/unclassified-scratch")
    c1 = _claim(report, "C1")
    assert c1.verdict == "insufficient-evidence"
    assert c1.basis is not None
    assert c1.basis.full_coverage is False
    assert "full coverage" not in c1.statement


def test_a_full_content_scan_has_full_coverage(tmp_path: Path) -> None:
    report = audit_content(build(tmp_path / "org").parent)
    c6 = _claim(report, "C6")
    assert c6.basis is not None
    assert c6.basis.full_coverage is True
    assert c6.basis.content is not None
    assert (c6.basis.content.sample_rate, c6.basis.content.records, c6.basis.content.examined) == (None, 600, 600)
    assert c6.basis.checks[0].evidence == ["content-full"]
    assert c6.statement.startswith("No evidence contradicting the claim, with full coverage: training data")
    assert "every one of 600 records of 2 training datasets examined" in c6.statement


def test_a_sample_that_misses_a_planted_record_states_its_bound_not_full_coverage(tmp_path: Path) -> None:
    # plant an Acme document in a pretrain-mix record the 10% sample does not draw (the
    # sample is a function of the object's URI and the row, so it depends on tmp_path)
    part = (tmp_path / "org/data/pretrain-mix/part-0000.parquet").resolve()
    drawn = sampled(str(part), np.arange(1, 201), 0.1)
    row = next(r for r in range(1, 201) if not drawn[r - 1])

    def plant(data: dict[str, list[dict[str, object]]]) -> None:
        data["pretrain-mix"][row - 1]["text"] = str(data["acme-workspace"][9]["body"]).upper()

    root = build(tmp_path / "org", edit=plant).parent
    assert any(f.check == "DAT-001" for f in audit_content(root).findings), "the full scan finds the copy"
    report = audit_content(root, sample_rate=0.1)
    assert report.findings == [], "the 10% sample misses it"
    c2 = _claim(report, "C2")
    assert c2.verdict == "no-evidence-contradicting"
    assert c2.basis is not None
    assert c2.basis.full_coverage is False
    content = c2.basis.content
    assert content is not None
    assert content.sample_rate == 0.1
    assert content.leak_rate_ruled_out_95 is not None
    assert report.content is not None
    bounds = [d["leak_rate_ruled_out_95"] for d in report.content["datasets"] if d["role"] == "training"]
    assert content.leak_rate_ruled_out_95 == max(bounds)
    assert f"no contradicting record in a 10% sample ({content.examined} of 600 records); a leak rate" in c2.statement
    stated = re.search(r"a leak rate above ([0-9.]+)% is ruled out at 95% confidence", c2.statement)
    assert stated is not None
    assert float(stated.group(1)) == pytest.approx(content.leak_rate_ruled_out_95 * 100, rel=0.01)
    assert "full coverage" not in c2.statement


def test_a_sample_that_finds_a_record_rules_nothing_out(tmp_path: Path) -> None:
    report = audit_content(build(tmp_path / "org", leaks=LEAKS).parent, sample_rate=0.5)
    contradicted = [c for c in report.claims if c.verdict == "contradicted"]
    assert contradicted
    for claim in contradicted:
        assert "contradicting records found in a 50% sample" in claim.statement
        assert "ruled out" not in claim.statement


def test_every_format_carries_the_statement(default_report: Report) -> None:
    c6 = _claim(default_report, "C6")
    assert c6.statement in html.render(default_report).decode().replace("&#39;", "'")
    assert f"- **C6** {c6.statement}." in markdown.render(default_report).decode()
    properties = json.loads(sarif.render(default_report))["runs"][0]["properties"]
    assert properties["claim_statements"]["C6"] == c6.statement
    assert properties["claim_full_coverage"] == {
        c.id: bool(c.basis and c.basis.full_coverage) for c in default_report.claims
    }
    tree = ElementTree.fromstring(junit.render(default_report))
    values = {p.get("name"): p.get("value") for p in tree.iter("property")}
    assert values["claim C6"] == c6.statement
    assert "checked with full coverage" not in html.render(default_report).decode()


def test_report_json_keeps_the_basis(default_report: Report) -> None:
    data = json.loads(default_report.to_json())
    c6 = next(c for c in data["claims"] if c["id"] == "C6")
    assert set(c6["basis"]) == {"checks", "content", "not_examined", "full_coverage", "summary"}
    assert Report.model_validate(data) == default_report
