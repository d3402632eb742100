"""The content suite on pandas: planted leaks found exactly, clean data yields nothing,
values never reach the report unless asked, faults and missing columns are gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.report import Report
from reports.html import render as render_html
from tests.content.conftest import audit_content
from tests.support.datasets import ACME_CUSTOMER_ID, CANARY, build

# (check, claims, message) of every finding the planted leaks must produce, and nothing else
EXPECTED = {
    ("DAT-001", ("C1",), "1 record of api-logs (commercial-api) is in training dataset pretrain-mix (1 canary match)"),
    ("DAT-001", ("C1",), "1 record of api-logs (commercial-api) is in training dataset sft-chats (1 cell match)"),
    ("DAT-001", ("C2",), "1 record of acme-workspace (enterprise) is in training dataset pretrain-mix (1 cell match)"),
    (
        "DAT-001",
        ("C3",),
        "1 record of consumer-chats-opt-out (consumer-opt-out) is in training dataset sft-chats (1 cell match)",
    ),
    (
        "DAT-002",
        ("C1",),
        "1 of 400 records of pretrain-mix name commercial-api as their source (column 'source': 'commercial-api' (1))",
    ),
    (
        "DAT-003",
        ("C2",),
        "Identifier of a protected tenant in 1 of 400 records of pretrain-mix (column 'text'): acme-corp (enterprise)",
    ),
    ("DAT-004", ("C6",), "Email address in 1 of 200 records of sft-chats (column 'text')"),
    ("DAT-004", ("C6",), "Payment card number (Luhn-valid) in 1 of 200 records of sft-chats (column 'text')"),
    (
        "DAT-005",
        ("C3",),
        "1 of 200 records of sft-chats are consumer records that opted out (column 'consent': 'opt-out' (1))",
    ),
}
# a record with no source, a consumer record with no consent: no evidence of a violation, so gaps
EXPECTED_GAPS = {
    "training dataset pretrain-mix: provenance: 1 of 400 records of pretrain-mix state no source (column "
    "'source'): where they came from is unknown",
    "training dataset sft-chats: consent: 1 of 200 records of sft-chats are consumer records with no consent "
    "value (column 'consent')",
}


def _findings(report: Report) -> set[tuple[str, tuple[str, ...], str]]:
    return {(f.check, tuple(f.claim_ids), f.message) for f in report.findings}


@pytest.fixture(scope="module")
def leaky(leaky_org: Path) -> Report:
    return audit_content(leaky_org, chunk_rows=64)


def test_clean_data_yields_no_finding_and_full_coverage(clean_org: Path) -> None:
    report = audit_content(clean_org)
    assert report.findings == []
    assert report.coverage.gaps == []
    assert {c.id: c.verdict for c in report.claims} == dict.fromkeys(
        ["C1", "C2", "C3", "C6"], "no-evidence-contradicting"
    )
    assert report.content is not None
    scanned = {d["store"]: (d["role"], d["rows"], d["scanned_rows"]) for d in report.content["datasets"]}
    assert scanned == {
        "api-logs": ("protected", 200, 200),
        "acme-workspace": ("protected", 100, 100),
        "globex-workspace": ("protected", 100, 100),
        "consumer-chats-opt-out": ("protected", 100, 100),
        "sft-chats": ("training", 200, 200),
        "pretrain-mix": ("training", 400, 400),
    }
    api = next(d for d in report.content["datasets"] if d["store"] == "api-logs")
    assert api["canaries"] == {"planted": 1, "seen_in_store": 1}


def test_every_planted_leak_is_found_and_nothing_else(leaky: Report) -> None:
    assert _findings(leaky) == EXPECTED
    assert {g.reason for g in leaky.coverage.gaps} == EXPECTED_GAPS
    assert {c.id: c.verdict for c in leaky.claims} == dict.fromkeys(["C1", "C2", "C3", "C6"], "contradicted")
    assert all(f.severity == "critical" for f in leaky.findings if f.check == "DAT-001")
    assert all(f.kind == "declared" for f in leaky.findings)


def test_findings_locate_the_records_they_found(leaky: Report, leaky_org: Path) -> None:
    (copy,) = [f for f in leaky.findings if f.check == "DAT-001" and "acme-workspace" in f.message]
    (example,) = copy.details["examples"]
    assert example["location"].endswith("data/pretrain-mix/part-0000.parquet#row=124")
    assert example["copies"].endswith("data/acme-workspace/documents.csv#row=10")
    assert example["kind"] == "cell"
    assert example["column"] == "text"
    assert example["digest"].startswith("sha256:")
    assert [hop.node for hop in copy.path] == ["acme-workspace", "pretrain-mix"]
    (canary,) = [f for f in leaky.findings if "canary" in f.message]
    assert canary.details["examples"][0]["location"].endswith("part-0001.parquet#row=102")
    planted = next(
        n for n, line in enumerate((leaky_org / "inventory.yaml").read_text().splitlines(), 1) if "canaries:" in line
    )
    assert canary.details["examples"][0]["copies"].endswith(f"inventory.yaml:{planted}")  # where it was planted
    (card,) = [f for f in leaky.findings if "card" in f.message]
    assert card.details["evaluated"] == 200
    assert card.details["examples"][0]["location"].endswith("sft-chats/part-0000.jsonl#row=62")


def test_values_never_reach_the_report_by_default(leaky: Report) -> None:
    text = leaky.to_json() + render_html(leaky).decode()
    for secret in ("jane.doe@example.com", "4539 1488 0343 6467", ACME_CUSTOMER_ID, CANARY, CANARY.lower()):
        assert secret not in text
    assert "Escalation for customer" not in text


def test_show_values_shows_matches_with_secrets_and_cards_masked(tmp_path: Path) -> None:
    root = build(tmp_path / "org", leaks={"pii"}).parent
    sft = root / "data/sft-chats/part-0000.jsonl"
    lines = sft.read_text().splitlines()
    record = json.loads(lines[62])
    record["text"] = "Use key AKIAIOSFODNN7EXAMPLE from the deploy notes."
    lines[62] = json.dumps(record)
    sft.write_text("\n".join(lines) + "\n")
    report = audit_content(root, show_values=True)
    values = [e.get("value") for f in report.findings for e in f.details.get("examples", [])]
    assert "Please contact jane.doe@example.com about the invoice before the audit." in values
    assert "Card [card …6467] was charged twice for the quarterly invoice." in values
    assert "4539 1488 0343 6467" not in report.to_json()
    assert "AKIAIOSFODNN7EXAMPLE" not in report.to_json()
    assert any(f.message.startswith("API key, token or secret") for f in report.findings)


def test_near_misses_are_not_findings(clean_org: Path) -> None:
    # the clean data holds a 16-digit order reference with a wrong check digit, and short
    # phrases common to client and training data: neither is a finding
    sft = (clean_org / "data/sft-chats/part-0000.jsonl").read_text()
    assert "4111 1111 1111 1112" in sft
    assert audit_content(clean_org).findings == []


def test_sampling_reports_the_leak_rate_it_rules_out(clean_org: Path) -> None:
    from scipy.stats import beta

    report = audit_content(clean_org, sample_rate=0.5)
    assert report.content is not None
    pretrain = next(d for d in report.content["datasets"] if d["store"] == "pretrain-mix")
    assert pretrain["sampled"] is True
    assert pretrain["rows"] == 400
    assert 150 < pretrain["scanned_rows"] < 250
    assert pretrain["leak_rate_ruled_out_95"] == pytest.approx(beta.ppf(0.95, 1, pretrain["scanned_rows"]))
    assert pretrain["leak_rate_ruled_out_95"] == pytest.approx(3 / pretrain["scanned_rows"], rel=0.05)
    api = next(d for d in report.content["datasets"] if d["store"] == "api-logs")
    assert api["sampled"] is False, "protected records are always read in full"
    assert any("sampled at rate 0.5" in note for note in report.content["notes"])


def test_a_sample_still_finds_what_it_samples(leaky_org: Path) -> None:
    full = audit_content(leaky_org)
    half = audit_content(leaky_org, sample_rate=0.5)
    assert {f.id for f in half.findings} <= {f.id for f in full.findings}
    assert half.findings, "half of the records still hold some of the leaks"
    again = audit_content(leaky_org, sample_rate=0.5)
    assert _findings(again) == _findings(half), "the sample is deterministic"


def test_unreadable_objects_are_gaps_and_the_rest_is_still_scanned(tmp_path: Path) -> None:
    root = build(tmp_path / "org", leaks={"api-copy", "canary"}).parent
    broken = root / "data/pretrain-mix/part-0001.parquet"
    broken.write_bytes(broken.read_bytes()[:200])
    report = audit_content(root)
    gap = next(g for g in report.coverage.gaps if "pretrain-mix" in g.scope)
    assert "part-0001.parquet" in gap.reason
    assert "unreadable Parquet" in gap.reason
    assert set(gap.claim_ids) == {"C1", "C2", "C3", "C6"}
    # the copy in sft-chats is still found; the canary lived in the broken object
    assert any("sft-chats (1 cell match)" in f.message for f in report.findings)
    assert not any("canary" in f.message for f in report.findings)
    verdicts = {c.id: c.verdict for c in report.claims}
    assert verdicts["C1"] == "contradicted"
    assert verdicts["C6"] == "insufficient-evidence"


def test_stores_without_location_and_missing_columns_are_gaps(tmp_path: Path) -> None:
    root = build(tmp_path / "org").parent
    inventory = root / "inventory.yaml"
    text = inventory.read_text().replace("    location: data/sft-chats/\n", "")
    inventory.write_text(text)
    for part in (root / "data/pretrain-mix").iterdir():  # pretrain-mix loses its provenance column
        import pyarrow.parquet as pq

        table = pq.read_table(part)
        pq.write_table(table.drop(["source"]), part)
    report = audit_content(root)
    reasons = [g.reason for g in report.coverage.gaps]
    assert any("sft-chats has no location" in r for r in reasons)
    assert any("pretrain-mix: allowed-source: the dataset has no column 'source'" in r for r in reasons)
    assert any("pretrain-mix: consent-opt-in: the dataset has no column 'source'" in r for r in reasons)
    assert report.findings == []
    assert {c.verdict for c in report.claims} == {"insufficient-evidence"}


def test_no_training_sink_is_nothing_in_scope(tmp_path: Path) -> None:
    root = build(tmp_path / "org").parent
    inventory = root / "inventory.yaml"
    inventory.write_text(inventory.read_text().replace("classes: [training]", "classes: [licensed]"))
    report = audit_content(root)
    assert {c.verdict for c in report.claims} == {"insufficient-evidence"}
    assert any("no training sink" in g.reason for g in report.coverage.gaps)


def test_candidate_cap_is_reported(leaky_org: Path) -> None:
    report = audit_content(leaky_org, max_candidates=1)
    assert report.content is not None
    assert any("lower bounds" in note for note in report.content["notes"])


def test_user_suites_extend_the_checks(tmp_path: Path) -> None:
    root = build(tmp_path / "org").parent
    (tmp_path / "codenames.yaml").write_text(
        """
name: codenames
expectations:
  - id: codename
    label: Internal project codename
    type: expect_column_values_to_not_match_regex
    columns: text
    kwargs: {regex: "(?i)renewal pipeline"}
"""
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"""
name: mine
claims:
  - {{id: C6, text: Training data is sanitised, checks: [DAT-004]}}
params:
  DAT-004: {{suites: [personal-data, "{tmp_path / "codenames.yaml"}"]}}
"""
    )
    report = audit_content(root, suite=str(suite))
    assert {f.details["expectation"] for f in report.findings} == {"codename"}
    assert all(f.message.startswith("Internal project codename in ") for f in report.findings)


def test_bad_expectation_suite_is_an_input_error(tmp_path: Path) -> None:
    from audit.errors import InputError

    root = build(tmp_path / "org").parent
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nexpectations:\n  - {id: x, label: X, type: expect_column_values_to_be_shiny, columns: text}\n"
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: s\nclaims:\n  - {{id: C6, text: T, checks: [DAT-004]}}\nparams:\n  DAT-004: {{suites: ['{bad}']}}\n"
    )
    with pytest.raises(InputError) as caught:
        audit_content(root, suite=str(suite))
    assert "expect_column_values_to_be_shiny is not a Great Expectations column-map expectation" in str(
        caught.value.problems[0]
    )


def test_content_checks_are_clean_in_the_html_report(leaky: Report) -> None:
    html = render_html(leaky).decode()
    assert 'id="content-scanned"' in html
    assert "every record examined" in html


def test_a_dataset_no_rule_could_examine_is_a_gap(tmp_path: Path) -> None:
    def numbers_only(data: dict[str, list[dict[str, object]]]) -> None:
        data["sft-chats"][:] = [{"turns": record["turns"]} for record in data["sft-chats"]]

    report = audit_content(build(tmp_path / "org", edit=numbers_only).parent)
    reasons = {g.reason for g in report.coverage.gaps if {"DAT-003", "DAT-004"} & set(g.checks)}
    assert reasons == {
        f"training dataset sft-chats: no record was examined by {check}'s rules (200 records read; no column "
        "they apply to holds a value)"
        for check in ("DAT-003", "DAT-004")
    }
    assert {c.id: c.verdict for c in report.claims}["C6"] == "insufficient-evidence"
