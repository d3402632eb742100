"""The content scan: one plan, two engines.

The scan reads the training datasets (training sinks) and, for fingerprints, the protected
stores' datasets. On pandas it streams every object in chunks:

1. protected records are fingerprinted into a scalable Bloom filter (and their planted
   canaries looked for, to show they are there to be found);
2. each training chunk is fingerprinted and tested against the filter, yielding
   candidates; planted canaries are searched for; the expectation suites run through GX;
3. the protected records are read again and every candidate is re-checked exactly
   (equal fingerprint *and* equal normalised text), so no false hit reaches the report.

On Spark (:mod:`audit.content.spark`), the same records are read by the same code inside
``mapInPandas``, the fingerprint join is a Spark SQL join on (fingerprint, text) and the
suites run on GX's Spark datasource; both end in the same :class:`ContentResults`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audit.content.bloom import ScalableBloomFilter
from audit.content.datasets import OBJECT, ROW, DataObject, Dataset, ReadFault, Storage, display, plan_datasets
from audit.content.expectations import GxRunner, SuiteFile, load_suite_file, named_columns, plan
from audit.content.normalise import (
    CANARY,
    CONFIRMERS,
    canary_hits,
    canary_pattern,
    digest,
    fingerprints,
    mask_cards,
    normalise_text,
)
from audit.content.requests import (
    ContentOptions,
    ContentRequest,
    ExpectationRequest,
    FingerprintRequest,
)
from audit.content.results import (
    EXAMPLES,
    ContentGap,
    ContentResults,
    DatasetStats,
    Example,
    ExpectationOutcome,
    MatchSet,
)
from audit.inventory import Inventory
from audit.redact import redact_text

__all__ = ["ContentOptions", "ContentRequest", "ExpectationRequest", "FingerprintRequest", "run_scan"]


@dataclass(frozen=True, order=True)
class MatchRow:
    """One confirmed match: a training record holding a protected store's record or canary."""

    protected: str
    training: str
    object_index: int
    row: int
    column: str
    kind: str
    location: str
    source: str
    digest: str
    value: str | None = None


def shown(value: str | None, show_values: bool) -> str | None:
    """A value as the report may show it: only when asked, never a secret or a whole card."""
    if not show_values or value is None:
        return None
    text = redact_text(mask_cards(value))
    return text if len(text) <= 200 else text[:199] + "…"


def aggregate(rows: Iterable[MatchRow]) -> list[MatchSet]:
    """Match sets per (protected store, training store): distinct records, per kind, and the
    first records in object and row order as examples."""
    groups: dict[tuple[str, str], list[MatchRow]] = {}
    for row in rows:
        groups.setdefault((row.protected, row.training), []).append(row)
    sets = []
    for (protected, training), members in sorted(groups.items()):
        members.sort()
        records = {(m.object_index, m.row) for m in members}
        by_kind: dict[str, int] = {}
        for kind in sorted({m.kind for m in members}):
            by_kind[kind] = len({(m.object_index, m.row) for m in members if m.kind == kind})
        examples: list[Example] = []
        seen: set[tuple[int, int]] = set()
        for m in members:
            if (m.object_index, m.row) in seen:
                continue
            seen.add((m.object_index, m.row))
            examples.append(Example(m.object_index, m.row, m.location, m.column, m.kind, m.source, m.digest, m.value))
            if len(examples) >= EXAMPLES:
                break
        sets.append(
            MatchSet(
                protected=protected,
                training=training,
                rows=len(records),
                by_kind=by_kind,
                canaries=sorted({m.digest for m in members if m.kind == CANARY}),
                examples=examples,
            )
        )
    return sets


def location_of(obj: DataObject, row: int) -> str:
    return f"{display(obj.uri)}#row={row}"


class OutcomeBook:
    """Expectation results per (check, expectation, store, column), summed over chunks."""

    def __init__(self, show_values: bool) -> None:
        self.show_values = show_values
        self.outcomes: dict[tuple[str, str, str, str], ExpectationOutcome] = {}
        self._matched: dict[tuple[str, str, str, str], set[str]] = {}

    def absorb(self, planned: Any, store: str, objects: Sequence[DataObject], result: Mapping[str, Any]) -> str | None:
        """Add one GX result; returns an error message when GX could not evaluate it."""
        spec = planned.spec
        key = (planned.check, spec.id, store, planned.column)
        outcome = self.outcomes.get(key)
        if outcome is None:
            outcome = ExpectationOutcome(
                check=planned.check,
                expectation=spec.id,
                label=spec.label,
                gx_type=spec.type,
                store=store,
                column=planned.column,
                arguments={k: v for k, v in spec.kwargs.items() if k != "meta"}
                | ({"row_condition": spec.row_condition.model_dump(exclude_none=True)} if spec.row_condition else {}),
            )
            self.outcomes[key] = outcome
        if "error" in result:
            return str(result["error"])
        outcome.evaluated += int(result.get("element_count") or 0)
        outcome.missing += int(result.get("missing_count") or 0)
        confirm = CONFIRMERS.get(spec.confirm) if spec.confirm else None
        regex = re.compile(spec.kwargs["regex"]) if spec.report == "matches" else None
        rows: list[tuple[int, int, Any]] = []
        for item in result.get("unexpected_index_list") or []:
            value = item.get(planned.column)
            if confirm is not None and not confirm(value):
                continue
            rows.append((int(item[OBJECT]), int(item[ROW]), value))
        rows.sort(key=lambda r: (r[0], r[1]))
        outcome.unexpected += len(rows)
        if regex is not None:
            found = self._matched.setdefault(key, set())
            for _, _, value in rows:
                if isinstance(value, str):
                    found.update(match.casefold() for match in regex.findall(value) if isinstance(match, str))
            outcome.matched = sorted(found)
        examples = list(outcome.examples)
        for obj_index, row, value in rows[:EXAMPLES]:
            text = value if isinstance(value, str) else ("" if value is None else str(value))
            examples.append(
                Example(
                    obj_index,
                    row,
                    location_of(objects[obj_index], row),
                    planned.column,
                    "expectation",
                    "",
                    digest(normalise_text(text) or ""),
                    shown(text, self.show_values),
                )
            )
        outcome.examples = sorted(examples)[:EXAMPLES]
        return None

    def discard(self, check: str, expectation: str, store: str) -> None:
        """Forget an expectation's results on a dataset (it could not be checked there)."""
        for key in [k for k in self.outcomes if k[:3] == (check, expectation, store)]:
            del self.outcomes[key]

    def results(self) -> list[ExpectationOutcome]:
        return [self.outcomes[k] for k in sorted(self.outcomes)]


@dataclass
class Plan:
    """Everything the engines need: datasets (listed), requests, loaded suites, the canaries."""

    protected: list[Dataset]
    training: list[Dataset]
    fingerprint: FingerprintRequest | None
    suites: list[tuple[str, list[SuiteFile]]]
    options: ContentOptions
    results: ContentResults
    stats: dict[tuple[str, str], DatasetStats] = field(default_factory=dict)

    @property
    def training_checks(self) -> tuple[str, ...]:
        checks = [check for check, _ in self.suites]
        if self.fingerprint is not None:
            checks.append(self.fingerprint.check)
        return tuple(sorted(set(checks)))

    def canaries(self) -> dict[str, tuple[str, str, str]]:
        """Normalised canary -> (its store, its digest, where it was planted)."""
        found: dict[str, tuple[str, str, str]] = {}
        for dataset in self.protected:
            for canary in dataset.canaries:
                text = normalise_text(canary)
                if text:
                    found.setdefault(text, (dataset.store, digest(text), dataset.canaries_at))
        return found

    def fault(self, dataset: Dataset, error: ReadFault, partial: bool) -> None:
        stats = self.stats[(dataset.store, dataset.role)]
        stats.faults.append(str(error))
        checks = self.training_checks if dataset.role == "training" else (self.fingerprint.check,)  # type: ignore[union-attr]
        what = "training dataset" if dataset.role == "training" else "protected store"
        consequence = (
            "the records of that object read before the fault were scanned, the rest of it were not"
            if partial
            else "its content was not scanned"
        )
        self.results.gaps.append(
            ContentGap(
                scope=f"store:{dataset.store}",
                reason=f"{what} {dataset.store} could not be read: {error}; {consequence}",
                checks=checks,
            )
        )


def prepare(
    inventory: Inventory, requests: Sequence[ContentRequest], options: ContentOptions, storage: Storage
) -> Plan:
    fingerprint_requests = [r for r in requests if isinstance(r, FingerprintRequest)]
    fingerprint = None
    if fingerprint_requests:
        first = fingerprint_requests[0]
        fingerprint = FingerprintRequest(
            check=first.check,
            protected_classes=tuple(sorted({c for r in fingerprint_requests for c in r.protected_classes})),
            min_chars=min(r.min_chars for r in fingerprint_requests),
            records=any(r.records for r in fingerprint_requests),
        )
    suites = [
        (r.check, [load_suite_file(path, r.values) for path in r.suites])
        for r in requests
        if isinstance(r, ExpectationRequest)
    ]
    training_stores = [s for s in inventory.stores.values() if inventory.is_training_sink(s)]
    protected_stores = (
        [
            s
            for s in inventory.stores.values()
            if set(s.classes) & set(fingerprint.protected_classes) and not inventory.is_training_sink(s)
        ]
        if fingerprint
        else []
    )
    results = ContentResults(engine=options.engine, show_values=options.show_values)
    scan_plan = Plan(
        protected=plan_datasets(inventory, "protected", sorted(protected_stores, key=lambda s: s.id)),
        training=plan_datasets(inventory, "training", sorted(training_stores, key=lambda s: s.id)),
        fingerprint=fingerprint,
        suites=suites,
        options=options,
        results=results,
    )
    for dataset in [*scan_plan.protected, *scan_plan.training]:
        rate = options.sample_rate if dataset.role == "training" else 1.0
        stats = DatasetStats(
            store=dataset.store,
            role=dataset.role,
            location=display(dataset.location) if dataset.location else "",
            sample_rate=rate,
            canaries_planted=len(dataset.canaries),
        )
        scan_plan.stats[(dataset.store, dataset.role)] = stats
        results.datasets.append(stats)
        if not dataset.location:
            checks = scan_plan.training_checks if dataset.role == "training" else (fingerprint.check,)  # type: ignore[union-attr]
            results.gaps.append(
                ContentGap(
                    scope=f"store:{dataset.store}",
                    reason=(
                        f"{dataset.role} store {dataset.store} has no location (and no S3 ARN): "
                        "its content was not scanned (set its location)"
                    ),
                    checks=checks,
                )
            )
            continue
        try:
            dataset.objects = storage.list_objects(dataset)
        except ReadFault as error:
            scan_plan.fault(dataset, error, partial=False)
            continue
        stats.objects = len(dataset.objects)
        stats.bytes = sum(o.size for o in dataset.objects)
    if options.sample_rate < 1.0:
        results.notes.append(
            f"training records were sampled at rate {options.sample_rate:g} (a deterministic Bernoulli sample "
            "by object and row); protected records were read in full"
        )
    return scan_plan


def run_scan(inventory: Inventory, requests: Sequence[ContentRequest], options: ContentOptions) -> ContentResults:
    storage = Storage(options.s3_client)
    scan_plan = prepare(inventory, requests, options, storage)
    if options.engine == "spark":
        from audit.content.spark import SparkScan

        SparkScan(scan_plan, storage).run()
    else:
        PandasScan(scan_plan, storage).run()
    return scan_plan.results


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
        bloom = ScalableBloomFilter() if fingerprint else None
        readable_protected = [d for d in scan_plan.protected if d.objects]
        for dataset in readable_protected:  # 1. fingerprints of the protected records
            assert fingerprint is not None
            assert bloom is not None
            own = canary_pattern(dataset.canaries)
            seen: set[str] = set()
            for _, chunk in self._chunks(dataset, 1.0):
                prints = fingerprints(chunk.frame, chunk.text_columns, fingerprint.min_chars, fingerprint.records)
                bloom.add(prints["hash"].to_numpy(dtype=np.uint64))
                if own is not None:
                    seen.update(canary_hits(chunk.frame, chunk.text_columns, own)["canary"])
            scan_plan.stats[(dataset.store, dataset.role)].canaries_seen = len(seen)
        runner = GxRunner("pandas") if scan_plan.suites else None
        book = OutcomeBook(self.options.show_values)
        candidates: list[pd.DataFrame] = []
        candidate_count = 0
        matches: list[MatchRow] = []
        for dataset in [d for d in scan_plan.training if d.objects]:  # 2. the training records
            columns_seen: set[str] = set()
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
                if runner is not None:
                    planned, missing = planned_for(scan_plan, columns, chunk.text_columns)
                    if missing:
                        # a column this chunk lacks (but others may have) holds nothing here: as
                        # on Spark, whose schema is the union of the dataset's, its values are missing
                        frame = frame.assign(**dict.fromkeys(missing))
                    absorb_all(scan_plan, book, runner.validate(frame, planned), planned, dataset)
            finish_dataset(scan_plan, book, dataset, columns_seen)
        if candidates and fingerprint is not None:  # 3. exact re-check against the protected records
            matches.extend(self._recheck(pd.concat(candidates, ignore_index=True), readable_protected, fingerprint))
        scan_plan.results.matches = aggregate(matches)
        scan_plan.results.outcomes = book.results()
        _count_hit_rows(scan_plan, matches)

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


def planned_for(scan_plan: Plan, columns: Sequence[str], text_columns: Sequence[str]) -> tuple[list[Any], list[str]]:
    """Every check's expectations for records with these columns (validated together, in one
    GX run), and the named columns the records lack, to be added as empty."""
    absent: set[str] = set()
    for check, suites in scan_plan.suites:
        absent.update(column for _, column in plan(check, suites, columns, text_columns)[1])
    missing = sorted(absent)
    planned: list[Any] = []
    for check, suites in scan_plan.suites:
        planned.extend(plan(check, suites, [*columns, *missing], text_columns)[0])
    return planned, missing


def absorb_all(
    scan_plan: Plan,
    book: OutcomeBook,
    results: Mapping[str, Mapping[str, Any]],
    planned: Sequence[Any],
    dataset: Dataset,
) -> None:
    by_key = {p.key: p for p in planned}
    for key, result in results.items():
        chosen = by_key[key]
        error = book.absorb(chosen, dataset.store, dataset.objects, result)
        if error:
            _expectation_gap(scan_plan, chosen.check, dataset.store, f"{chosen.spec.id}: {error}")


def finish_dataset(scan_plan: Plan, book: OutcomeBook, dataset: Dataset, columns_seen: set[str]) -> None:
    """An expectation whose columns the whole dataset lacks was not checked there: a gap."""
    for check, suites in scan_plan.suites:
        for spec_id, named in named_columns(suites).items():
            never = sorted(c for c in named if c not in columns_seen)
            if never:
                book.discard(check, spec_id, dataset.store)
                _expectation_gap(
                    scan_plan,
                    check,
                    dataset.store,
                    f"{spec_id}: the dataset has no column {', '.join(repr(c) for c in never)}: "
                    "the rule was not checked",
                )


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


def _expectation_gap(scan_plan: Plan, check: str, store: str, reason: str) -> None:
    gap = ContentGap(scope=f"store:{store}", reason=f"training dataset {store}: {reason}", checks=(check,))
    if gap not in scan_plan.results.gaps:
        scan_plan.results.gaps.append(gap)


def _count_hit_rows(scan_plan: Plan, matches: Sequence[MatchRow]) -> None:
    rows: dict[str, set[tuple[int, int]]] = {}
    for match in matches:
        rows.setdefault(match.training, set()).add((match.object_index, match.row))
    for dataset in scan_plan.training:
        scan_plan.stats[(dataset.store, "training")].hit_rows = len(rows.get(dataset.store, set()))
