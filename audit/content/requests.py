"""What content checks ask the scan for, and how the run reads data (light: no pandas).

Checks import these to state their requests; :mod:`audit.content.scan` carries them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Engine = Literal["pandas", "spark"]


@dataclass(frozen=True)
class ContentOptions:
    engine: Engine = "pandas"
    show_values: bool = False
    sample_rate: float = 1.0  # share of training records examined (1: all)
    chunk_rows: int = 50_000
    max_candidates: int = 2_000_000
    spark_master: str = "local[*]"
    spark_conf: tuple[tuple[str, str], ...] = ()  # extra Spark settings (local default: 4g driver memory)
    s3_client: Any = None  # a factory of boto3 S3 clients (tests); default: read-only session


@dataclass(frozen=True)
class FingerprintRequest:
    """Look for the records and canaries of stores of these classes in training data."""

    check: str
    protected_classes: tuple[str, ...]
    min_chars: int = 24
    records: bool = True


@dataclass(frozen=True)
class ExpectationRequest:
    """Run these expectation suite files over every training dataset."""

    check: str
    suites: tuple[Path, ...]
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelRequest:
    """Count the distinct values of these columns in every training dataset (a census of
    its provenance and consent labels); ``per_store`` names other columns for some stores."""

    check: str
    columns: tuple[str, ...]
    per_store: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def columns_of(self, store: str) -> tuple[str, ...]:
        return tuple(self.per_store.get(store, self.columns))


ContentRequest = FingerprintRequest | ExpectationRequest | LabelRequest
