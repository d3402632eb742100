"""Phone numbers confirmed with phonenumbers: precision on a labelled sample, the
number-triplet text that used to contradict C6, and its clean twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit.content.detectors import has_phone_number, looks_personal
from tests.content.conftest import audit_content
from tests.support.datasets import build
from tests.support.phones import measure

REGIONS = ["US", "GB", "DE", "FR"]


def test_precision_and_recall_on_the_labelled_sample() -> None:
    figures: Any = measure()
    assert figures["texts"] == 440
    confirmed = figures["regex_and_phonenumbers"]
    assert confirmed["precision"] >= 0.97, figures
    assert confirmed["recall"] >= 0.95, figures
    assert figures["regex_only"]["precision"] < 0.6, "the prefilter alone flags every digit group"


@pytest.mark.parametrize(
    "text",
    [
        "Call (415) 555-0134 today",
        "Office: +44 20 7946 0958",
        "Berlin 030 1234 5678",
        "Paris 01 23 45 67 89",
        "Tokyo +81 3-1234-5678",
    ],
)
def test_real_numbers_are_phone_numbers(text: str) -> None:
    assert has_phone_number(text, REGIONS)


@pytest.mark.parametrize(
    "text",
    [
        "scored 120 340 560 points",
        "shipped 2026-11-01 10:30",
        "order 4471-2209-8831",
        "card 4992 6418 7271 6991",
        "release 4.12.0 on 12.03.2025",
        "",
    ],
)
def test_digit_groups_of_prose_are_not(text: str) -> None:
    assert not has_phone_number(text, REGIONS)
    assert not has_phone_number(None, REGIONS)


def test_a_national_number_counts_only_in_the_regions_named() -> None:
    assert has_phone_number("Paris 01 23 45 67 89", ["FR"])
    assert not has_phone_number("Paris 01 23 45 67 89", ["US"])
    assert has_phone_number("Paris +33 1 23 45 67 89", ["US"]), "a + number is read in its own country"


def test_looks_personal() -> None:
    assert looks_personal("jane.doe@example.com")
    assert looks_personal("+44 20 7946 0958")
    assert not looks_personal("web_crawl")


def _sft_text(tmp_path: Path, text: str) -> Path:
    def edit(data: dict[str, list[dict[str, Any]]]) -> None:
        data["sft-chats"][30]["text"] = text

    return build(tmp_path / "org", edit=edit).parent


def test_the_number_triplet_text_does_not_contradict_c6(tmp_path: Path) -> None:
    report = audit_content(_sft_text(tmp_path, "The team scored 120 340 560 points in the quarterly review."))
    assert report.findings == []
    assert {c.id: c.verdict for c in report.claims}["C6"] == "no-evidence-contradicting"


def test_a_phone_number_in_training_text_contradicts_c6(tmp_path: Path) -> None:
    report = audit_content(_sft_text(tmp_path, "Call me on (415) 555-0134 about the quarterly review."))
    (finding,) = report.findings
    assert finding.message == "Phone number in 1 of 200 records of sft-chats (column 'text')"
    assert finding.claim_ids == ["C6"]
    assert finding.details["examples"][0]["location"].endswith("sft-chats/part-0000.jsonl#row=31")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    regions: [US]\n", "regions apply to confirm: phone only"),
        ("    confirm: phone\n    regions: [XX]\n", "'XX' is not a region libphonenumber knows"),
    ],
)
def test_bad_confirmation_settings_are_input_errors(tmp_path: Path, extra: str, message: str) -> None:
    from audit.errors import InputError

    root = build(tmp_path / "org").parent
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "name: mine\nexpectations:\n  - id: digits\n    label: Digits\n"
        "    type: expect_column_values_to_not_match_regex\n    columns: text\n"
        '    kwargs: {regex: "[0-9]{7}"}\n' + extra
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: s\nclaims:\n  - {{id: C6, text: T, checks: [DAT-004]}}\nparams:\n  DAT-004: {{suites: ['{mine}']}}\n"
    )
    with pytest.raises(InputError) as caught:
        audit_content(root, suite=str(suite))
    assert message in str(caught.value.problems[0])
