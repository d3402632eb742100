"""Label censuses: the distinct values of a dataset's provenance and consent columns, counted.

A provenance or consent column holds vocabulary, not client data: a handful of distinct
labels (``public-web``, ``Consumer_Opt_Out``, ``true``) repeated over every record. The
scan counts each distinct combination of the requested columns per training dataset and
keeps the first few record locations of each; the checks then decide what each label
means (:func:`audit.labels.fold` makes ``Public_Web``, ``public web`` and ``PUBLIC-WEB`` one label).
Both engines count with :func:`count_chunk` and merge with :class:`CensusBook`, chunk by
chunk in object and row order, so they produce the same census.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from audit.content.datasets import OBJECT, ROW
from audit.content.results import LabelCensus, LabelCount
from audit.labels import label_text

FIRST = 3  # record locations kept per distinct label
MAX_LABELS = 10_000  # distinct combinations kept per dataset; past it, records are counted as overflow

Key = tuple[str | None, ...]


@dataclass
class ChunkCensus:
    """One chunk's counts: key -> (records, the first record positions)."""

    present: list[str]
    counts: dict[Key, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)


def count_chunk(frame: pd.DataFrame, columns: Sequence[str]) -> ChunkCensus:
    """The distinct combinations of ``columns`` in a chunk (a column it lacks reads as None)."""
    present = [c for c in columns if c in frame.columns]
    census = ChunkCensus(present=present)
    if not len(frame):
        return census
    values = [
        [label_text(v) for v in frame[c].tolist()] if c in frame.columns else [None] * len(frame) for c in columns
    ]
    objects = frame[OBJECT].tolist()
    rows = frame[ROW].tolist()
    for index, key in enumerate(zip(*values, strict=True)):
        count, first = census.counts.get(key, (0, []))
        if len(first) < FIRST:
            first = [*first, (int(objects[index]), int(rows[index]))]
        census.counts[key] = (count + 1, first)
    return census


class CensusBook:
    """The census of each training dataset, merged chunk by chunk."""

    def __init__(self, columns: Mapping[str, tuple[str, ...]]) -> None:
        self.columns = dict(columns)
        self.censuses: dict[str, LabelCensus] = {
            store: LabelCensus(store=store, columns=cols) for store, cols in self.columns.items()
        }

    def absorb(self, store: str, chunk: ChunkCensus, locate: Any) -> None:
        """Add one chunk's counts; ``locate(object, row)`` names a record's location."""
        census = self.censuses[store]
        census.present.update(chunk.present)
        for key, (count, first) in chunk.counts.items():
            entry = census.counts.get(key)
            if entry is None:
                if len(census.counts) >= MAX_LABELS:
                    census.overflow += count
                    continue
                entry = census.counts[key] = LabelCount()
            entry.records += count
            if len(entry.first) < FIRST:
                entry.first.extend(locate(o, r) for o, r in first[: FIRST - len(entry.first)])

    def saw(self, store: str, columns: Iterable[str]) -> None:
        """The columns some record of the dataset has (sampled out or not)."""
        census = self.censuses.get(store)
        if census is not None:
            census.present.update(c for c in columns if c in census.columns)

    def results(self) -> list[LabelCensus]:
        return [self.censuses[s] for s in sorted(self.censuses)]


def encode(chunk: ChunkCensus) -> dict[str, Any]:
    """A chunk census as JSON (Spark ships it from executor to driver)."""
    return {"present": chunk.present, "counts": [[list(k), c, first] for k, (c, first) in chunk.counts.items()]}


def decode(data: Mapping[str, Any]) -> ChunkCensus:
    chunk = ChunkCensus(present=list(data["present"]))
    for key, count, first in data["counts"]:
        chunk.counts[tuple(key)] = (int(count), [(int(o), int(r)) for o, r in first])
    return chunk
