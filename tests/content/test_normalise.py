"""Normalisation, fingerprints, canaries and card numbers: the definitions both engines share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.content.datasets import OBJECT, ROW
from audit.content.normalise import (
    canary_hits,
    canary_pattern,
    fingerprints,
    has_card_number,
    hash64,
    luhn_valid,
    mask_cards,
    normalise_text,
)


def _frame(**columns: list[str | None]) -> pd.DataFrame:
    count = len(next(iter(columns.values())))
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    frame[OBJECT] = np.zeros(count, dtype=np.int32)
    frame[ROW] = np.arange(1, count + 1, dtype=np.int64)
    return frame


@pytest.mark.parametrize(
    "variant",
    [
        "Summarise the quarterly forecast for the renewal pipeline.",
        "SUMMARISE THE QUARTERLY FORECAST FOR THE RENEWAL PIPELINE.",
        "  Summarise   the quarterly\tforecast\nfor the renewal pipeline.  ",
        # full-width letters: the same text under NFKC
        "".join(chr(ord(c) + 0xFEE0) for c in "Summarise") + " the quarterly forecast for the renewal pipeline.",
    ],
)
def test_recased_respaced_and_compatibility_variants_normalise_alike(variant: str) -> None:
    assert normalise_text(variant) == "summarise the quarterly forecast for the renewal pipeline."


def test_different_texts_stay_different() -> None:
    assert normalise_text("the renewal pipeline") != normalise_text("the renewal pipe line")
    assert normalise_text(None) is None


def test_fingerprints_are_stable_across_runs() -> None:
    # a change of hash key or function would silently break comparisons with stored scans
    assert int(hash64(["summarise the quarterly forecast"])[0]) == int(hash64(["summarise the quarterly forecast"])[0])
    assert hash64(["a"]).dtype == np.uint64
    assert len(set(hash64([f"text {i}" for i in range(10_000)]).tolist())) == 10_000


def test_cells_below_min_chars_are_not_fingerprinted_records_are() -> None:
    frame = _frame(text=["short", "a long enough text to be a fingerprint"], tag=["x", "y"])
    prints = fingerprints(frame, ["text", "tag"], min_chars=24, records=True)
    cells = prints[prints["kind"] == "cell"]
    assert cells["column"].tolist() == ["text"]
    assert cells[ROW].tolist() == [2]
    records = prints[prints["kind"] == "record"]
    assert records[ROW].tolist() == [2], "the short record's values add up to fewer than 24 characters"


def test_record_fingerprint_ignores_column_order_but_not_names() -> None:
    first = fingerprints(_frame(a=["alpha beta gamma delta"], b=["epsilon zeta eta"]), [], 10, True)
    swapped = fingerprints(_frame(b=["epsilon zeta eta"], a=["alpha beta gamma delta"]), [], 10, True)
    renamed = fingerprints(_frame(a=["alpha beta gamma delta"], c=["epsilon zeta eta"]), [], 10, True)
    assert first["hash"].tolist() == swapped["hash"].tolist()
    assert first["hash"].tolist() != renamed["hash"].tolist()


def test_canaries_are_found_inside_text_whatever_the_case() -> None:
    pattern = canary_pattern(["CANARY-7f3a9c21", "marker-2"])
    frame = _frame(text=["nothing here", "see canary-7F3A9C21 in the notes", None, "MARKER-2 and canary-7f3a9c21"])
    hits = canary_hits(frame, ["text"], pattern)
    assert sorted(zip(hits[ROW], hits["canary"], strict=True)) == [
        (2, "canary-7f3a9c21"),
        (4, "canary-7f3a9c21"),
        (4, "marker-2"),
    ]
    assert canary_pattern([]) is None


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4539 1488 0343 6467", True),
        ("4539-1488-0343-6467", True),
        ("card 4539148803436467 charged", True),
        ("378282246310005", True),  # 15-digit Amex test number
        ("4111 1111 1111 1112", False),  # wrong check digit
        ("order 12345678", False),
        ("phone 415-555-0134", False),
        ("12345678901234567890123", False),  # a longer digit run is no card
    ],
)
def test_card_numbers_need_a_valid_luhn_digit(text: str, card: bool) -> None:
    assert has_card_number(text) is card


def test_luhn_and_masking() -> None:
    assert luhn_valid("4539148803436467")
    assert not luhn_valid("4539148803436468")
    assert not luhn_valid("79927398713"), "valid check digit, but too short for a card"
    assert mask_cards("paid with 4539 1488 0343 6467 today") == "paid with [card …6467] today"
    assert mask_cards("ref 4111 1111 1111 1112") == "ref 4111 1111 1111 1112"


@given(st.text(min_size=1, max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
