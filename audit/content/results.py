"""What a content scan found, in a form both engines produce identically.

Nothing here holds a raw value unless the user asked for values (``--show-values``): a
match is described by where it is (object and row), what kind it is and the digest of
its normalised text, so the report cannot re-leak what it found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXAMPLES = 20  # record locations kept per finding (all are counted)


@dataclass
class DatasetStats:
    store: str
    role: str  # protected | training
    location: str
    objects: int = 0
    bytes: int = 0
    rows: int = 0  # records read
    scanned: int = 0  # records examined (the sample, when sampling)
    sample_rate: float = 1.0
    hit_rows: int = 0  # training records holding any confirmed match (fingerprint or canary)
    canaries_seen: int = 0  # (protected) planted canaries present in their own store
    canaries_planted: int = 0
    faults: list[str] = field(default_factory=list)

    def leak_rate_bound(self, confidence: float = 0.95) -> float | None:
        """With sampling: the leak rate the sample rules out (one-sided Clopper-Pearson upper
        bound on the share of records holding client data); None for a full scan."""
        if self.role != "training" or self.sample_rate >= 1.0 or self.scanned == 0:
            return None
        from scipy.stats import beta

        hits = min(self.hit_rows, self.scanned)
        if hits >= self.scanned:
            return 1.0
        return float(beta.ppf(confidence, hits + 1, self.scanned - hits))

    def as_dict(self) -> dict[str, Any]:
        bound = self.leak_rate_bound()
        return {
            "store": self.store,
            "role": self.role,
            "location": self.location,
            "objects": self.objects,
            "bytes": self.bytes,
            "rows": self.rows,
            "scanned_rows": self.scanned,
            "sampled": self.sample_rate < 1.0,
            "sample_rate": self.sample_rate,
            "hit_rows": self.hit_rows,
            "leak_rate_ruled_out_95": bound,
            "canaries": {"planted": self.canaries_planted, "seen_in_store": self.canaries_seen}
            if self.role == "protected"
            else None,
            "faults": self.faults,
        }


@dataclass(frozen=True, order=True)
class Example:
    """One matching record: where it is, and (for fingerprints) the protected record it copies.
    Examples sort by object and row, the order the records are in."""

    object_index: int
    row: int
    location: str  # uri#row=N of the training record
    column: str
    kind: str  # record | cell | canary | expectation
    source: str = ""  # the protected record (uri#row=N) or where the canary was planted
    digest: str = ""  # sha256 of the normalised matching text
    value: str | None = None  # only with --show-values, secrets masked


@dataclass
class MatchSet:
    """Everything of one protected store found in one training store."""

    protected: str
    training: str
    rows: int = 0  # distinct training records
    by_kind: dict[str, int] = field(default_factory=dict)  # distinct training records per kind
    canaries: list[str] = field(default_factory=list)  # digests of the canaries found
    examples: list[Example] = field(default_factory=list)


@dataclass
class ExpectationOutcome:
    """One expectation on one column of one training dataset, over all its records."""

    check: str
    expectation: str
    label: str
    gx_type: str
    store: str
    column: str
    arguments: dict[str, Any]
    evaluated: int = 0
    missing: int = 0
    unexpected: int = 0
    matched: list[str] = field(default_factory=list)  # distinct pattern matches, when the suite asks
    examples: list[Example] = field(default_factory=list)


@dataclass
class LabelCount:
    """Records holding one distinct label combination, and where the first of them are."""

    records: int = 0
    first: list[str] = field(default_factory=list)  # uri#row=N


@dataclass
class LabelCensus:
    """The distinct values of some columns of one training dataset (see audit.content.labels)."""

    store: str
    columns: tuple[str, ...]
    present: set[str] = field(default_factory=set)  # the columns some record of the dataset has
    counts: dict[tuple[str | None, ...], LabelCount] = field(default_factory=dict)
    overflow: int = 0  # records whose combination came after the distinct-label cap

    def column(self, name: str) -> int:
        return self.columns.index(name)


@dataclass(frozen=True)
class ContentGap:
    scope: str
    reason: str
    checks: tuple[str, ...]


@dataclass
class ContentResults:
    engine: str
    show_values: bool
    datasets: list[DatasetStats] = field(default_factory=list)
    matches: list[MatchSet] = field(default_factory=list)
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    gaps: list[ContentGap] = field(default_factory=list)
    labels: list[LabelCensus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: str = ""  # the scan broke: nothing it did not finish may be read as a pass

    def for_check(self, check: str) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.check == check]

    def census(self, store: str) -> LabelCensus | None:
        return next((c for c in self.labels if c.store == store), None)

    def dataset(self, store: str, role: str) -> DatasetStats | None:
        return next((d for d in self.datasets if d.store == store and d.role == role), None)

    def summary(self) -> dict[str, Any]:
        """report.json's ``content`` section: what was scanned, how, and with what confidence."""
        return {
            "engine": self.engine,
            "values_shown": self.show_values,
            "failed": self.failed or None,
            "datasets": [d.as_dict() for d in sorted(self.datasets, key=lambda d: (d.role, d.store))],
            "notes": self.notes,
        }
