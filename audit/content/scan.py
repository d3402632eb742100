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

from collections.abc import Sequence

from audit.content.datasets import Storage
from audit.content.plan import prepare
from audit.content.requests import (
    ContentOptions,
    ContentRequest,
    ExpectationRequest,
    FingerprintRequest,
)
from audit.content.results import ContentResults
from audit.inventory import Inventory

__all__ = ["ContentOptions", "ContentRequest", "ExpectationRequest", "FingerprintRequest", "run_scan"]


def run_scan(inventory: Inventory, requests: Sequence[ContentRequest], options: ContentOptions) -> ContentResults:
    storage = Storage(options.s3_client)
    scan_plan = prepare(inventory, requests, options, storage)
    if options.engine == "spark":
        from audit.content.spark import SparkScan

        SparkScan(scan_plan, storage).run()
    else:
        from audit.content.pandas_engine import PandasScan

        PandasScan(scan_plan, storage).run()
    return scan_plan.results
