"""PII-001: every class the taxonomy marks as personal data reaches training only through a
pii-scrub gate; the marking is the organisation's to override."""

from __future__ import annotations

from pathlib import Path

from audit.taxonomy import BUILTIN_DATA_CLASSES
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources, verdicts

DELINKED = LEAKS / "delinked-unscrubbed"


def _overlay(tmp_path: Path, classes: str) -> Path:
    path = tmp_path / "classes.yaml"
    path.write_text(f"version: 1\ndata_classes:\n{classes}")
    return path


def test_the_default_marking() -> None:
    marked = {name for name, cls in BUILTIN_DATA_CLASSES.items() if cls.personal_data}
    assert marked == {
        "commercial-api",
        "enterprise",
        "gov",
        "education",
        "consumer-opt-out",
        "consumer-opt-in",
        "feedback",
    }


def test_delinked_feedback_without_a_scrub_contradicts_c6() -> None:
    report = audit_sources(EXAMPLE_ORG, DELINKED)
    assert {f.check for f in report.findings} == {"PII-001"}
    assert verdicts(report)["C6"] == "contradicted"
    assert verdicts(report)["C5"] == "no-evidence-contradicting", "it was de-linked: C5 holds"


def test_delinked_and_scrubbed_feedback_is_clean() -> None:
    report = audit_sources(EXAMPLE_ORG)  # the de-link job scrubs personal data too (gate: [de-link, pii-scrub])
    assert report.findings == []
    assert verdicts(report)["C6"] == "no-evidence-contradicting"


def test_an_organisation_can_unmark_a_class(tmp_path: Path) -> None:
    report = audit_sources(EXAMPLE_ORG, DELINKED, _overlay(tmp_path, "  feedback: {personal_data: false}\n"))
    assert not [f for f in report.findings if f.check == "PII-001"]
    assert verdicts(report)["C6"] == "no-evidence-contradicting"


def test_an_organisation_can_mark_a_class(tmp_path: Path) -> None:
    report = audit_sources(EXAMPLE_ORG, _overlay(tmp_path, "  public-web: {personal_data: true}\n"))
    (finding,) = report.findings
    assert finding.check == "PII-001"
    assert [h.node for h in finding.path] == ["public-web-crawl", "mix-builder", "pretrain-mix"]
    assert verdicts(report)["C6"] == "contradicted"


def test_protected_classes_are_held_to_the_scrub_only_when_asked(tmp_path: Path) -> None:
    leak = LEAKS / "feature-job"  # Acme's workspace reaches the pre-training mix: ISO-002, C2
    assert not [f for f in audit_sources(EXAMPLE_ORG, leak).findings if f.check == "PII-001"]
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: strict\nclaims:\n  - {id: C6, text: Training data is sanitised, checks: [PII-001]}\n"
        "params:\n  PII-001: {include_protected: true}\n"
    )
    report = audit_sources(EXAMPLE_ORG, leak, suite=str(suite))
    # one root cause, one finding (issue 18): the acme workspace is among the sources crossing its cut
    assert "acme-workspace" in {s for f in report.findings for s in f.details.get("sources", [])}
    assert verdicts(report)["C6"] == "contradicted"


def test_nothing_marked_in_scope_is_a_gap(tmp_path: Path) -> None:
    unmark = "".join(f"  {name}: {{personal_data: false}}\n" for name in ("feedback", "consumer-opt-in"))
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nclaims:\n  - {id: C6, text: Training data is sanitised, checks: [PII-001]}\n")
    report = audit_sources(EXAMPLE_ORG, _overlay(tmp_path, unmark), suite=str(suite))
    assert verdicts(report)["C6"] == "insufficient-evidence"
    assert any("no store holds a class marked personal_data" in g.reason for g in report.coverage.gaps)
