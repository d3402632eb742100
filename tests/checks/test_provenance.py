"""DAT-002 and DAT-005: labels compare after folding, contradict only on evidence of the
violation, and an unknown label is a coverage gap with its counts and a redacted sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.report import Report
from tests.conftest import invoke
from tests.content.conftest import audit_content
from tests.support.datasets import build

Records = dict[str, list[dict[str, Any]]]


def _org(tmp_path: Path, edit: Callable[[Records], None], inventory: Callable[[str], str] | None = None) -> Path:
    path = build(tmp_path / "org", edit=edit)
    if inventory is not None:
        path.write_text(inventory(path.read_text()))
    return path.parent


def _verdicts(report: Report) -> dict[str, str]:
    return {c.id: c.verdict for c in report.claims}


def _gaps(report: Report, check: str) -> list[str]:
    return [g.reason for g in report.coverage.gaps if check in g.checks]


def _sources(*labels: str) -> Callable[[Records], None]:
    def edit(data: Records) -> None:
        for index, label in enumerate(labels):
            data["pretrain-mix"][index]["source"] = label

    return edit


def test_spelling_variants_of_allowed_sources_are_clean(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _sources("Public_Web", "public web", "PUBLIC-WEB", " Licensed ")))
    assert report.findings == []
    assert report.coverage.gaps == []
    assert _verdicts(report)["C1"] == _verdicts(report)["C2"] == "no-evidence-contradicting"


def test_a_protected_label_in_any_spelling_contradicts_its_own_claim_only(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _sources("Commercial_API", "commercial api")))
    (finding,) = report.findings
    assert finding.check == "DAT-002"
    assert finding.claim_ids == ["C1"]
    assert finding.message == (
        "2 of 400 records of pretrain-mix name commercial-api as their source "
        "(column 'source': 'Commercial_API' (1), 'commercial api' (1))"
    )
    assert finding.details["examples"][0]["location"].endswith("pretrain-mix/part-0000.parquet#row=1")
    verdicts = _verdicts(report)
    assert verdicts["C1"] == "contradicted"
    assert verdicts["C2"] == "no-evidence-contradicting"


def test_a_protected_tenant_named_as_source_contradicts_its_tier_claim(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _sources("ACME_Corp")))
    (finding,) = report.findings
    assert finding.claim_ids == ["C2"]
    assert "name tenant acme-corp (enterprise) as their source" in finding.message
    assert _verdicts(report)["C1"] == "no-evidence-contradicting"


def test_an_unknown_label_is_a_gap_with_counts_and_a_redacted_sample(tmp_path: Path) -> None:
    report = audit_content(
        _org(tmp_path, _sources("web_crawl", "web_crawl", "web_crawl", "vendor-x", "jane.doe@example.com"))
    )
    # the address is personal data in training data (DAT-004, C6), not evidence of client data
    assert {f.check for f in report.findings} == {"DAT-004"}
    (reason,) = _gaps(report, "DAT-002")
    assert reason == (
        "training dataset pretrain-mix: provenance: 5 of 400 records of pretrain-mix (3 distinct labels) name a "
        "source that maps to no data class, tier or tenant: 'web_crawl' (3), '[REDACTED]' (1), 'vendor-x' (1); "
        "where they came from is unknown (map the labels under the store's vocabulary.provenance.values)"
    )
    assert "jane.doe" not in report.to_json()
    verdicts = _verdicts(report)
    assert verdicts["C1"] == verdicts["C2"] == "insufficient-evidence"
    assert verdicts["C3"] == "no-evidence-contradicting"


def test_a_store_vocabulary_maps_its_own_labels(tmp_path: Path) -> None:
    vocabulary = (
        "    location: data/pretrain-mix/\n"
        "    vocabulary:\n"
        "      provenance: {column: source, values: {web_crawl: public-web, Client-Logs: commercial-api}}\n"
    )
    root = _org(
        tmp_path,
        _sources("web_crawl", "WEB-CRAWL", "client_logs"),
        lambda text: text.replace("    location: data/pretrain-mix/\n", vocabulary),
    )
    report = audit_content(root)
    (finding,) = report.findings
    assert finding.claim_ids == ["C1"]
    assert "name commercial-api as their source (column 'source': 'client_logs' (1))" in finding.message
    assert report.coverage.gaps == []


def _consumers(source: str, *consents: Any) -> Callable[[Records], None]:
    def edit(data: Records) -> None:
        for index, consent in enumerate(consents):
            data["sft-chats"][index]["source"] = source
            data["sft-chats"][index]["consent"] = consent

    return edit


@pytest.mark.parametrize("label", ["Consumer-Opt-Out", "consumer_opt_out", "CONSUMER OPT OUT"])
def test_opted_out_rows_contradict_c3_whatever_the_spelling(tmp_path: Path, label: str) -> None:
    report = audit_content(_org(tmp_path, _consumers(label, "opt-out", "opt-in")))
    (finding,) = report.findings
    assert finding.check == "DAT-005"
    assert finding.claim_ids == ["C3"]
    assert finding.message == (
        f"2 of 200 records of sft-chats are opted-out consumer data (column 'source': {label!r} (2))"
    )
    verdicts = _verdicts(report)
    assert verdicts["C3"] == "contradicted"
    assert verdicts["C1"] == verdicts["C2"] == "no-evidence-contradicting", "the leak lands on C3, not C1/C2"


def test_opted_out_consent_in_any_spelling_contradicts_c3(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _consumers("Consumer_Opt_In", "OPT_OUT", "false", "No")))
    (finding,) = report.findings
    assert finding.message == (
        "3 of 200 records of sft-chats are consumer records that opted out "
        "(column 'consent': 'No' (1), 'OPT_OUT' (1), 'false' (1))"
    )


def test_opt_in_consent_in_any_spelling_is_clean(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _consumers("Consumer_Opt_In", "True", "OPT-IN", "opted in", "yes")))
    assert report.findings == []
    assert report.coverage.gaps == []
    assert _verdicts(report)["C3"] == "no-evidence-contradicting"


def test_unstated_or_unknown_consent_is_a_gap_not_a_contradiction(tmp_path: Path) -> None:
    report = audit_content(_org(tmp_path, _consumers("consumer", None, "maybe")))
    assert report.findings == []
    reasons = _gaps(report, "DAT-005")
    assert any("1 of 200 records of sft-chats are consumer records with no consent value" in r for r in reasons)
    assert any("consent means neither opted in nor opted out (column 'consent': 'maybe' (1))" in r for r in reasons)
    assert _verdicts(report)["C3"] == "insufficient-evidence"


def test_a_store_vocabulary_names_its_consent_values(tmp_path: Path) -> None:
    vocabulary = (
        "    location: data/sft-chats/\n"
        "    vocabulary:\n"
        "      consent: {column: consent, opted_in: [granted], opted_out: [withdrawn]}\n"
    )
    root = _org(
        tmp_path,
        _consumers("consumer", "granted", "Withdrawn"),
        lambda text: text.replace("    location: data/sft-chats/\n", vocabulary),
    )
    report = audit_content(root)
    (finding,) = report.findings
    assert "1 of 200 records of sft-chats are consumer records that opted out" in finding.message


def test_an_empty_consumer_scope_is_insufficient_evidence(tmp_path: Path) -> None:
    def no_consumers(data: Records) -> None:
        for record in data["sft-chats"]:
            record["source"] = "synthetic"

    def no_opt_out_store(text: str) -> str:
        start = text.index("  - id: consumer-chats-opt-out")
        end = text.index("  - id: sft-chats")
        return text[:start] + text[end:]

    report = audit_content(_org(tmp_path, no_consumers, no_opt_out_store))
    assert report.findings == []
    verdicts = _verdicts(report)
    assert verdicts["C3"] == "insufficient-evidence"
    assert verdicts["C1"] == verdicts["C2"] == "no-evidence-contradicting"
    c3 = next(c for c in report.claims if c.id == "C3")
    assert any("no store of consumer-opt-out was fingerprinted" in g for g in c3.gaps)
    assert any("no consumer record was examined in the training data" in g for g in c3.gaps)


def test_a_dataset_without_the_provenance_column_is_a_gap(tmp_path: Path) -> None:
    def drop(data: Records) -> None:
        for record in data["sft-chats"]:
            del record["source"]

    report = audit_content(_org(tmp_path, drop))
    assert any("sft-chats: consent-opt-in: the dataset has no column 'source'" in r for r in _gaps(report, "DAT-005"))
    assert _verdicts(report)["C3"] == "insufficient-evidence"


VOCABULARY_ERRORS = [
    (
        "unknown-class",
        "      provenance: {values: {web_crawl: public_web}}\n",
        "unknown data class 'public_web'",
    ),
    (
        "folded-clash",
        "      provenance: {values: {web_crawl: public-web, Web-Crawl: licensed}}\n",
        "are the same label once case and separators are folded",
    ),
    (
        "in-and-out",
        "      consent: {opted_in: [true, yes], opted_out: ['True']}\n",
        "true cannot mean both opted in and opted out",
    ),
]


@pytest.mark.parametrize(("line", "message"), [c[1:] for c in VOCABULARY_ERRORS], ids=[c[0] for c in VOCABULARY_ERRORS])
def test_bad_vocabulary_is_an_input_error_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    inventory = build(tmp_path / "org")
    text = inventory.read_text().replace(
        "    location: data/pretrain-mix/\n", "    location: data/pretrain-mix/\n    vocabulary:\n" + line
    )
    inventory.write_text(text)
    expected_line = text.splitlines().index(line.rstrip("\n")) + 1
    result = invoke("validate", str(inventory))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert any(
        ln.strip().startswith(f"{inventory}:{expected_line}: ") and message in ln for ln in result.stderr.splitlines()
    ), result.stderr
