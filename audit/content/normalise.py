"""What makes two records "the same": normalisation, fingerprints, canaries, card numbers.

These functions are the single definition both engines use (Spark calls them inside
``mapInPandas``), so a copy found on pandas is found on Spark and vice versa.

A value is normalised by Unicode NFKC, case folding and collapsing every run of
whitespace to one space: a re-cased or re-spaced copy of a record is still a copy. A text
cell of at least ``min_chars`` normalised characters is a *cell* fingerprint; a whole
record (every column, by name) whose values add up to ``min_chars`` is a *record*
fingerprint. Fingerprints are 64-bit keyed SipHash values (pandas' ``hash_array``); a
match of fingerprints is only a candidate until the normalised texts compare equal.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from audit.content.datasets import OBJECT, ROW
from audit.content.detectors import CARD_CANDIDATE, has_card_number, luhn_valid, mask_cards

HASH_KEY = "tenant-audit/v1\x00"  # 16 bytes: pandas' SipHash key; changing it changes every fingerprint
RECORD = "record"
CELL = "cell"
CANARY = "canary"
__all__ = [
    "CARD_CANDIDATE",
    "has_card_number",
    "luhn_valid",
    "mask_cards",
]
FINGERPRINT_COLUMNS = ["hash", "norm", OBJECT, ROW, "column", "kind"]


def normalise_text(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def normalise(values: Iterable[str | None]) -> list[str | None]:
    return [normalise_text(v) for v in values]


def hash64(texts: Sequence[str]) -> np.ndarray:
    """64-bit fingerprints of normalised texts (deterministic across runs and machines)."""
    if not len(texts):
        return np.empty(0, dtype=np.uint64)
    array = np.asarray(texts, dtype=object)
    return pd.util.hash_array(array, hash_key=HASH_KEY, categorize=False)


def digest(text: str) -> str:
    """What the report shows instead of a value: a short SHA-256 of its normalised form."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def data_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in (OBJECT, ROW)]


def fingerprints(frame: pd.DataFrame, text_columns: Sequence[str], min_chars: int, records: bool) -> pd.DataFrame:
    """Every fingerprint of a chunk: one row per long text cell, and one per record."""
    parts: list[pd.DataFrame] = []
    objects = frame[OBJECT].to_numpy()
    rows = frame[ROW].to_numpy()
    normalised: dict[str, list[str | None]] = {}
    for column in data_columns(frame):
        normalised[column] = normalise(frame[column].tolist())
    for column in text_columns:
        if column not in normalised:
            continue
        values = normalised[column]
        keep = np.fromiter((v is not None and len(v) >= min_chars for v in values), dtype=bool, count=len(values))
        if not keep.any():
            continue
        texts = [v for v, k in zip(values, keep, strict=True) if k and v is not None]
        parts.append(
            pd.DataFrame(
                {
                    "hash": hash64(texts),
                    "norm": pd.Series(texts, dtype=object),
                    OBJECT: objects[keep],
                    ROW: rows[keep],
                    "column": column,
                    "kind": CELL,
                }
            )
        )
    columns = sorted(normalised)
    if records and len(columns) >= 2:
        records_text: list[str] = []
        keep_list: list[bool] = []
        for index in range(len(frame)):
            cells = [normalised[c][index] or "" for c in columns]
            keep_list.append(sum(len(v) for v in cells) >= min_chars)
            records_text.append("\x1f".join(f"{c}\x1e{v}" for c, v in zip(columns, cells, strict=True)))
        keep = np.asarray(keep_list, dtype=bool)
        if keep.any():
            kept = [t for t, k in zip(records_text, keep_list, strict=True) if k]
            parts.append(
                pd.DataFrame(
                    {
                        "hash": hash64(kept),
                        "norm": pd.Series(kept, dtype=object),
                        OBJECT: objects[keep],
                        ROW: rows[keep],
                        "column": "*",
                        "kind": RECORD,
                    }
                )
            )
    if not parts:
        return empty_fingerprints()
    return pd.concat(parts, ignore_index=True)


def empty_fingerprints() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hash": np.empty(0, dtype=np.uint64),
            "norm": pd.Series([], dtype=object),
            OBJECT: np.empty(0, dtype=np.int32),
            ROW: np.empty(0, dtype=np.int64),
            "column": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
        }
    )


def canary_pattern(canaries: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern finding any of the (normalised) canaries inside normalised text."""
    texts = sorted({t for t in (normalise_text(c) for c in canaries) if t}, key=lambda t: (-len(t), t))
    return re.compile("|".join(re.escape(t) for t in texts)) if texts else None


def canary_hits(frame: pd.DataFrame, columns: Sequence[str], pattern: re.Pattern[str] | None) -> pd.DataFrame:
    """(object, row, column, canary) for every cell holding a planted canary."""
    found: list[tuple[int, int, str, str]] = []
    if pattern is not None:
        objects = frame[OBJECT].to_numpy()
        rows = frame[ROW].to_numpy()
        for column in columns:
            if column not in frame.columns:
                continue
            for index, value in enumerate(frame[column].tolist()):
                if value is None:
                    continue
                text = normalise_text(value) or ""
                for canary in sorted(set(pattern.findall(text))):
                    found.append((int(objects[index]), int(rows[index]), column, canary))
    return pd.DataFrame(found, columns=[OBJECT, ROW, "column", "canary"])
