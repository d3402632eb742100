"""The pandas engine: streams every object in chunks (see :mod:`audit.content.scan`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from audit.content.bloom import ScalableBloomFilter
from audit.content.datasets import OBJECT, ROW, DataObject, Dataset, ReadFault, Storage
from audit.content.expectations import GxRunner
from audit.content.labels import CensusBook, count_chunk
from audit.content.matches import MatchRow, aggregate, count_hit_rows, locate_in, location_of, shown
from audit.content.normalise import CANARY, canary_hits, canary_pattern, digest, fingerprints
from audit.content.outcomes import OutcomeBook, absorb_all, finish_dataset, planned_for
from audit.content.plan import Plan
from audit.content.requests import FingerprintRequest


class PandasScan:
    def __init__(self, scan_plan: Plan, storage: Storage) -> None:
        self.plan = scan_plan
        self.storage = storage
        self.options = scan_plan.options

    def _chunks(self, dataset: Dataset, rate: float) -> Iterator[tuple[DataObject, Any]]:
        """Every chunk of a dataset; a fault ends its object (a gap), not the dataset."""
        stats = self.plan.stats[(dataset.store, dataset.role)]
        for index, obj in enumerate(dataset.objects):
            try:
                for chunk in _read(self.storage, obj, index, self.options.chunk_rows, rate):
                    stats.rows += chunk.rows_read
                    stats.scanned += len(chunk.frame)
                    yield obj, chunk
            except ReadFault as error:
                self.plan.fault(dataset, error, partial=True)

    def run(self) -> None:
        scan_plan = self.plan
        fingerprint = scan_plan.fingerprint
        canaries = scan_plan.canaries()
        pattern = canary_pattern(canaries)
        readable_protected = [d for d in scan_plan.protected if d.objects]
        bloom = self._protected_prints(readable_protected, fingerprint) if fingerprint else None
        runner = GxRunner("pandas") if scan_plan.suites else None
        book = OutcomeBook(self.options.show_values)
        census = CensusBook(scan_plan.label_columns)
        candidates: list[pd.DataFrame] = []
        candidate_count = 0
        matches: list[MatchRow] = []
        for dataset in [d for d in scan_plan.training if d.objects]:  # 2. the training records
            columns_seen: set[str] = set()
            locate = partial(locate_in, dataset.objects)
            for obj, chunk in self._chunks(dataset, self.options.sample_rate):
                frame = chunk.frame
                columns = [c for c in frame.columns if c not in (OBJECT, ROW)]
                columns_seen.update(columns)
                if not len(frame):
                    continue
                if bloom is not None and fingerprint is not None:
                    prints = fingerprints(frame, chunk.text_columns, fingerprint.min_chars, fingerprint.records)
                    hit = bloom.contains(prints["hash"].to_numpy(dtype=np.uint64))
                    if hit.any() and candidate_count < self.options.max_candidates:
                        picked = prints.loc[hit].head(self.options.max_candidates - candidate_count).copy()
                        picked["training"] = dataset.store
                        candidates.append(picked)
                        candidate_count += len(picked)
                        if candidate_count >= self.options.max_candidates:
                            scan_plan.results.notes.append(
                                f"more than {self.options.max_candidates} fingerprint candidates: counts of "
                                "copied records are lower bounds"
                            )
                if fingerprint is not None and pattern is not None:
                    matches.extend(self._canaries(frame, chunk.text_columns, pattern, canaries, dataset, obj))
                if dataset.store in scan_plan.label_columns:
                    census.absorb(dataset.store, count_chunk(frame, scan_plan.label_columns[dataset.store]), locate)
                if runner is not None:
                    planned, missing = planned_for(scan_plan, columns, chunk.text_columns)
                    if missing:
                        # a column this chunk lacks (but others may have) holds nothing here: as
                        # on Spark, whose schema is the union of the dataset's, its values are missing
                        frame = frame.assign(**dict.fromkeys(missing))
                    absorb_all(scan_plan, book, runner.validate(frame, planned), planned, dataset)
            finish_dataset(scan_plan, book, dataset, columns_seen)
            census.saw(dataset.store, columns_seen)
        if candidates and fingerprint is not None:  # 3. exact re-check against the protected records
            matches.extend(self._recheck(pd.concat(candidates, ignore_index=True), readable_protected, fingerprint))
        scan_plan.results.matches = aggregate(matches)
        scan_plan.results.outcomes = book.results()
        scan_plan.results.labels = census.results()
        count_hit_rows(scan_plan, matches)

    def _protected_prints(self, readable: list[Dataset], fingerprint: FingerprintRequest) -> ScalableBloomFilter:
        """1. The fingerprints of the protected records, and their own canaries seen."""
        bloom = ScalableBloomFilter()
        for dataset in readable:
            own = canary_pattern(dataset.canaries)
            seen: set[str] = set()
            for _, chunk in self._chunks(dataset, 1.0):
                prints = fingerprints(chunk.frame, chunk.text_columns, fingerprint.min_chars, fingerprint.records)
                bloom.add(prints["hash"].to_numpy(dtype=np.uint64))
                if own is not None:
                    seen.update(canary_hits(chunk.frame, chunk.text_columns, own)["canary"])
            self.plan.stats[(dataset.store, dataset.role)].canaries_seen = len(seen)
        return bloom

    def _canaries(
        self,
        frame: pd.DataFrame,
        text_columns: Sequence[str],
        pattern: re.Pattern[str],
        canaries: Mapping[str, tuple[str, str, str]],
        dataset: Dataset,
        obj: DataObject,
    ) -> list[MatchRow]:
        found = []
        hits = canary_hits(frame, text_columns, pattern)
        for obj_index, row, column, canary in zip(hits[OBJECT], hits[ROW], hits["column"], hits["canary"], strict=True):
            store, canary_digest, planted = canaries[str(canary)]
            found.append(
                MatchRow(
                    store,
                    dataset.store,
                    int(obj_index),
                    int(row),
                    str(column),
                    CANARY,
                    location_of(obj, int(row)),
                    planted,
                    canary_digest,
                    shown(str(canary), self.options.show_values),
                )
            )
        return found

    def _recheck(
        self, candidates: pd.DataFrame, protected: list[Dataset], fingerprint: FingerprintRequest
    ) -> list[MatchRow]:
        wanted = np.unique(candidates["hash"].to_numpy(dtype=np.uint64))
        by_key: dict[tuple[int, str], list[int]] = {}
        for position, (h, norm) in enumerate(zip(candidates["hash"], candidates["norm"], strict=True)):
            by_key.setdefault((int(h), norm), []).append(position)
        first_source: dict[tuple[int, str], tuple[int, int, str]] = {}  # (candidate, protected store) -> min loc
        for dataset in protected:
            for obj, chunk in _quiet_chunks(self.storage, dataset, self.options.chunk_rows):
                prints = fingerprints(chunk.frame, chunk.text_columns, fingerprint.min_chars, fingerprint.records)
                hashes = prints["hash"].to_numpy(dtype=np.uint64)
                near = np.isin(hashes, wanted)
                if not near.any():
                    continue
                for h, norm, obj_index, row in zip(
                    hashes[near], prints["norm"][near], prints[OBJECT][near], prints[ROW][near], strict=True
                ):
                    for position in by_key.get((int(h), norm), []):
                        key = (position, dataset.store)
                        place = (int(obj_index), int(row), location_of(obj, int(row)))
                        if key not in first_source or place[:2] < first_source[key][:2]:
                            first_source[key] = place
        confirmed = []
        objects_of = {d.store: d.objects for d in self.plan.training}
        for (position, protected_store), (_, _, source) in first_source.items():
            item = candidates.iloc[position]
            training_objects = objects_of[item["training"]]
            obj_index, row = int(item[OBJECT]), int(item[ROW])
            confirmed.append(
                MatchRow(
                    protected_store,
                    str(item["training"]),
                    obj_index,
                    row,
                    str(item["column"]),
                    str(item["kind"]),
                    location_of(training_objects[obj_index], row),
                    source,
                    digest(str(item["norm"])),
                    shown(str(item["norm"]), self.options.show_values),
                )
            )
        return confirmed


def _read(storage: Storage, obj: DataObject, index: int, chunk_rows: int, rate: float) -> Iterator[Any]:
    from audit.content.datasets import read_chunks

    return read_chunks(storage, obj, index, chunk_rows, rate)


def _quiet_chunks(storage: Storage, dataset: Dataset, chunk_rows: int) -> Iterator[tuple[DataObject, Any]]:
    """The second read of a protected dataset: a fault was already reported by the first."""
    for index, obj in enumerate(dataset.objects):
        try:
            for chunk in _read(storage, obj, index, chunk_rows, 1.0):
                yield obj, chunk
        except ReadFault:
            continue
