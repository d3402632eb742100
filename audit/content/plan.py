"""The scan's plan: the datasets to read (listed), the requests merged, the suites loaded,
and a stats record per dataset; listing faults and missing locations become gaps here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from audit.content.datasets import Dataset, ReadFault, Storage, display, plan_datasets
from audit.content.expectations import SuiteFile, load_suite_file
from audit.content.normalise import digest, normalise_text
from audit.content.requests import (
    ContentOptions,
    ContentRequest,
    ExpectationRequest,
    FingerprintRequest,
    LabelRequest,
)
from audit.content.results import ContentGap, ContentResults, DatasetStats
from audit.inventory import Inventory


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
    label_checks: tuple[str, ...] = ()
    label_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # training store -> census columns

    @property
    def training_checks(self) -> tuple[str, ...]:
        checks = [check for check, _ in self.suites] + list(self.label_checks)
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
    label_requests = [r for r in requests if isinstance(r, LabelRequest)]
    label_columns = {
        store.id: tuple(sorted({c for r in label_requests for c in r.columns_of(store.id)}))
        for store in training_stores
        if label_requests
    }
    scan_plan = Plan(
        protected=plan_datasets(inventory, "protected", sorted(protected_stores, key=lambda s: s.id)),
        training=plan_datasets(inventory, "training", sorted(training_stores, key=lambda s: s.id)),
        fingerprint=fingerprint,
        suites=suites,
        options=options,
        results=results,
        label_checks=tuple(sorted({r.check for r in label_requests})),
        label_columns=label_columns,
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
