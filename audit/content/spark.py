"""The content scan on Apache Spark, for datasets that outgrow one machine.

Spark reads every object in parallel (one task per object) with the same reader the
pandas engine uses, inside ``mapInPandas``: one pass per object emits, chunk by chunk, the
chunk's record fingerprints, its canary hits, its records and its row counts, tagged by
kind, so both engines see exactly the same chunks (and the same sample). Then:

- the fingerprint join is a Spark SQL equi-join on (fingerprint, normalised text), which
  is exact: no Bloom filter is needed when the join itself is distributed;
- the expectation suites run on GX's Spark datasource over the dataset's records (the
  union of its objects' columns);
- findings are built by the same code as on pandas, from the same result structures.

Executors open S3 objects with their own read-only clients (the usual credential chain
and ``AWS_ENDPOINT_URL``); local paths must be visible to every executor (on a cluster:
a shared file system).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from audit.content.datasets import OBJECT, ROW, DataObject, Dataset, ReadFault, Storage, read_chunks
from audit.content.expectations import GxRunner
from audit.content.labels import CensusBook, count_chunk, decode, encode
from audit.content.matches import MatchRow, aggregate, count_hit_rows, locate_in, location_of, shown
from audit.content.normalise import CANARY, canary_hits, canary_pattern, fingerprints
from audit.content.outcomes import OutcomeBook, absorb_all, finish_dataset, planned_for
from audit.content.plan import Plan
from audit.errors import UsageError

INSTALL_HINT = "install the Spark extra: pip install 'tenant-audit[spark]' (PySpark, and Java 17 or newer)"
OUTPUT_SCHEMA = (
    "tag string, dataset int, __object int, __row long, hash long, norm string, col string, kind string, data string"
)


def check_available() -> None:
    """--engine spark without PySpark is a usage error, raised before the audit runs."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError("--engine spark needs PySpark, which is not installed", INSTALL_HINT) from None


def session(master: str, conf: dict[str, str] | None = None) -> Any:
    check_available()
    from pyspark.sql import SparkSession

    settings = {"spark.driver.memory": "4g"} if master.startswith("local") else {}
    settings.update(conf or {})
    try:
        builder = SparkSession.builder.master(master)
        for key, value in settings.items():
            builder = builder.config(key, value)
        return (
            builder.appName("tenant-audit")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        )
    except Exception as exc:  # the JVM would not start: no Java, or a broken installation
        raise UsageError(f"Spark could not start: {exc}".splitlines()[0], INSTALL_HINT) from None


def _reader(
    tasks: list[dict[str, Any]],
    chunk_rows: int,
    min_chars: int,
    records: bool,
    fingerprinting: bool,
    patterns: dict[int, Any],
    s3_factory: Any,
    emit_records: bool,
) -> Any:
    """The function each executor runs: read its objects, emit tagged rows."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        storage = Storage(s3_factory)
        for batch in batches:
            for task_index in batch["task"].tolist():
                for frame in _read_task(storage, tasks[int(task_index)]):
                    yield _plain(frame)

    def _read_task(storage: Storage, task: dict[str, Any]) -> Iterator[pd.DataFrame]:
        obj = DataObject(task["uri"], task["size"], task["format"], task["gzip"])
        dataset = task["dataset"]
        try:
            for chunk in read_chunks(storage, obj, task["object"], chunk_rows, task["rate"]):
                frame = chunk.frame
                yield _tagged("stat", dataset, [task["object"]], [chunk.rows_read], hashes=[len(frame)], data=[None])
                kinds = {c: ("text" if c in chunk.text_columns else "scalar") for c in frame.columns if c[:2] != "__"}
                yield _tagged("schema", dataset, [task["object"]], [0], data=[json.dumps(kinds)])
                if not len(frame):
                    continue
                if fingerprinting:
                    prints = fingerprints(frame, chunk.text_columns, min_chars, records)
                    if len(prints):
                        yield pd.DataFrame(
                            {
                                "tag": "fp",
                                "dataset": dataset,
                                OBJECT: prints[OBJECT].astype(np.int32),
                                ROW: prints[ROW].astype(np.int64),
                                "hash": prints["hash"].to_numpy(dtype=np.uint64).view(np.int64),
                                "norm": prints["norm"],
                                "col": prints["column"],
                                "kind": prints["kind"],
                                "data": None,
                            }
                        )
                pattern = patterns.get(dataset)
                if pattern is not None:
                    hits = canary_hits(frame, chunk.text_columns, pattern)
                    if len(hits):
                        yield pd.DataFrame(
                            {
                                "tag": "canary",
                                "dataset": dataset,
                                OBJECT: hits[OBJECT].astype(np.int32),
                                ROW: hits[ROW].astype(np.int64),
                                "hash": 0,
                                "norm": hits["canary"],
                                "col": hits["column"],
                                "kind": CANARY,
                                "data": None,
                            }
                        )
                if task["labels"]:  # the census of provenance and consent labels
                    census = encode(count_chunk(frame, task["labels"]))
                    first = int(frame[ROW].iloc[0])
                    yield _tagged("label", dataset, [task["object"]], [first], data=[json.dumps(census)])
                if emit_records and task["role"] == "training":  # for the expectation suites
                    columns = [c for c in frame.columns if c[:2] != "__"]
                    values = frame[columns].to_dict("records")
                    yield pd.DataFrame(
                        {
                            "tag": "row",
                            "dataset": dataset,
                            OBJECT: frame[OBJECT].astype(np.int32),
                            ROW: frame[ROW].astype(np.int64),
                            "hash": 0,
                            "norm": None,
                            "col": None,
                            "kind": None,
                            "data": [
                                json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)
                                for row in values
                            ],
                        }
                    )
        except ReadFault as error:
            yield _tagged("fault", dataset, [task["object"]], [0], norms=[json.dumps([error.where, error.message])])

    return run


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: PySpark's Arrow conversion does not take pandas 3's
    Arrow-backed string columns."""
    for column in frame.columns:
        if frame[column].dtype != object and not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object)
    return frame


def _tagged(
    tag: str,
    dataset: int,
    objects: list[int],
    rows: list[int],
    hashes: list[int] | None = None,
    norms: list[str | None] | None = None,
    data: list[Any] | None = None,
) -> pd.DataFrame:
    count = len(objects)
    return pd.DataFrame(
        {
            "tag": tag,
            "dataset": dataset,
            OBJECT: np.asarray(objects, dtype=np.int32),
            ROW: np.asarray(rows, dtype=np.int64),
            "hash": np.asarray(hashes or [0] * count, dtype=np.int64),
            "norm": norms or [None] * count,
            "col": [None] * count,
            "kind": [None] * count,
            "data": data or [None] * count,
        }
    )


class SparkScan:
    def __init__(self, scan_plan: Plan, storage: Storage) -> None:
        self.plan = scan_plan
        self.options = scan_plan.options
        self.storage = storage

    def run(self) -> None:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        spark = session(self.options.spark_master, dict(self.options.spark_conf))
        scan_plan = self.plan
        fingerprint = scan_plan.fingerprint
        datasets: list[Dataset] = [d for d in [*scan_plan.protected, *scan_plan.training] if d.objects]
        if not datasets:
            scan_plan.results.outcomes = []
            return
        canaries = scan_plan.canaries()
        everything = canary_pattern(canaries) if fingerprint else None
        patterns: dict[int, Any] = {}
        tasks: list[dict[str, Any]] = []
        for number, dataset in enumerate(datasets):
            if dataset.role == "protected":
                patterns[number] = canary_pattern(dataset.canaries)
            elif everything is not None:
                patterns[number] = everything
            rate = self.options.sample_rate if dataset.role == "training" else 1.0
            for index, obj in enumerate(dataset.objects):
                tasks.append(
                    {
                        "dataset": number,
                        "role": dataset.role,
                        "object": index,
                        "uri": obj.uri,
                        "size": obj.size,
                        "format": obj.format,
                        "gzip": obj.gzip,
                        "rate": rate,
                        "labels": list(scan_plan.label_columns.get(dataset.store, ()))
                        if dataset.role == "training"
                        else [],
                    }
                )
        reader = _reader(
            tasks,
            self.options.chunk_rows,
            fingerprint.min_chars if fingerprint else 24,
            fingerprint.records if fingerprint else False,
            fingerprint is not None,
            patterns,
            None,  # executors make their own read-only S3 clients (credential chain, AWS_ENDPOINT_URL)
            bool(scan_plan.suites),
        )
        task_frame = spark.createDataFrame(pd.DataFrame({"task": list(range(len(tasks)))})).repartition(
            max(1, len(tasks)), "task"
        )
        tagged = task_frame.mapInPandas(reader, OUTPUT_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            self._collect_small(tagged, datasets)
            matches = self._canary_matches(tagged, datasets, canaries)
            if fingerprint is not None:
                matches.extend(self._fingerprint_matches(tagged, datasets, F))
            scan_plan.results.matches = aggregate(matches)
            count_hit_rows(scan_plan, matches)
            scan_plan.results.outcomes = self._expectations(spark, tagged, datasets, F)
            scan_plan.results.labels = self._labels(tagged, datasets)
        finally:
            tagged.unpersist()

    def _collect_small(self, tagged: Any, datasets: list[Dataset]) -> None:
        """Row counts, canaries seen in their own store, and read faults."""
        for row in tagged.filter("tag = 'stat'").groupBy("dataset").agg({"__row": "sum", "hash": "sum"}).collect():
            dataset = datasets[row["dataset"]]
            stats = self.plan.stats[(dataset.store, dataset.role)]
            stats.rows = int(row["sum(__row)"] or 0)
            stats.scanned = int(row["sum(hash)"] or 0)
        seen: dict[int, set[str]] = {}
        for row in tagged.filter("tag = 'canary'").select("dataset", "norm").distinct().collect():
            seen.setdefault(row["dataset"], set()).add(row["norm"])
        for number, dataset in enumerate(datasets):
            if dataset.role == "protected":
                self.plan.stats[(dataset.store, dataset.role)].canaries_seen = len(seen.get(number, set()))
        faults = tagged.filter("tag = 'fault'").select("dataset", OBJECT, "norm").collect()
        for row in sorted(faults, key=lambda r: (r["dataset"], r[OBJECT])):
            where, message = json.loads(row["norm"])
            self.plan.fault(datasets[row["dataset"]], ReadFault(where, message), partial=True)

    def _labels(self, tagged: Any, datasets: list[Dataset]) -> list[Any]:
        """The label census, merged in object and row order as on pandas."""
        census = CensusBook(self.plan.label_columns)
        if not self.plan.label_columns:
            return census.results()
        rows = tagged.filter("tag = 'label'").select("dataset", OBJECT, ROW, "data").collect()
        for row in sorted(rows, key=lambda r: (r["dataset"], r[OBJECT], r[ROW])):
            dataset = datasets[row["dataset"]]
            census.absorb(dataset.store, decode(json.loads(row["data"])), partial(locate_in, dataset.objects))
        for row in tagged.filter("tag = 'schema'").select("dataset", "data").collect():
            dataset = datasets[row["dataset"]]
            if dataset.role == "training":
                census.saw(dataset.store, json.loads(row["data"] or "{}"))
        return census.results()

    def _canary_matches(
        self, tagged: Any, datasets: list[Dataset], canaries: dict[str, tuple[str, str, str]]
    ) -> list[MatchRow]:
        found = []
        training = {n for n, d in enumerate(datasets) if d.role == "training"}
        rows = tagged.filter("tag = 'canary'").select("dataset", OBJECT, ROW, "col", "norm").collect()
        for row in rows:
            if row["dataset"] not in training:
                continue
            dataset = datasets[row["dataset"]]
            store, canary_digest, planted = canaries[row["norm"]]
            obj = dataset.objects[row[OBJECT]]
            found.append(
                MatchRow(
                    store,
                    dataset.store,
                    int(row[OBJECT]),
                    int(row[ROW]),
                    str(row["col"]),
                    CANARY,
                    location_of(obj, int(row[ROW])),
                    planted,
                    canary_digest,
                    shown(str(row["norm"]), self.options.show_values),
                )
            )
        return found

    def _fingerprint_matches(self, tagged: Any, datasets: list[Dataset], F: Any) -> list[MatchRow]:
        """The exact join of training fingerprints with protected ones (same hash, same text);
        for each training record and protected store, the first protected record it copies."""
        from pyspark.sql import Window

        from audit.content.normalise import digest

        roles = {n: d.role for n, d in enumerate(datasets)}
        protected_ids = [n for n, r in roles.items() if r == "protected"]
        training_ids = [n for n, r in roles.items() if r == "training"]
        if not protected_ids or not training_ids:
            return []
        prints = tagged.filter("tag = 'fp'")
        left = prints.filter(F.col("dataset").isin(training_ids)).select(
            F.col("dataset").alias("t_dataset"),
            F.col(OBJECT).alias("t_object"),
            F.col(ROW).alias("t_row"),
            "hash",
            "norm",
            F.col("col").alias("t_col"),
            F.col("kind").alias("t_kind"),
        )
        right = prints.filter(F.col("dataset").isin(protected_ids)).select(
            F.col("dataset").alias("p_dataset"),
            F.col(OBJECT).alias("p_object"),
            F.col(ROW).alias("p_row"),
            "hash",
            "norm",
        )
        joined = left.join(right, on=["hash", "norm"], how="inner")
        order = Window.partitionBy("t_dataset", "t_object", "t_row", "t_col", "t_kind", "norm", "p_dataset").orderBy(
            "p_object", "p_row"
        )
        first = joined.withColumn("rank", F.row_number().over(order)).filter("rank = 1")
        found = []
        for row in first.collect():
            training = datasets[row["t_dataset"]]
            protected = datasets[row["p_dataset"]]
            obj = training.objects[row["t_object"]]
            source = location_of(protected.objects[row["p_object"]], int(row["p_row"]))
            found.append(
                MatchRow(
                    protected.store,
                    training.store,
                    int(row["t_object"]),
                    int(row["t_row"]),
                    str(row["t_col"]),
                    str(row["t_kind"]),
                    location_of(obj, int(row["t_row"])),
                    source,
                    digest(str(row["norm"])),
                    shown(str(row["norm"]), self.options.show_values),
                )
            )
        return found

    def _expectations(self, spark: Any, tagged: Any, datasets: list[Dataset], F: Any) -> list[Any]:
        scan_plan = self.plan
        book = OutcomeBook(self.options.show_values)
        if not scan_plan.suites:
            return []
        runner = GxRunner("spark")
        schemas: dict[int, dict[str, str]] = {}
        for row in tagged.filter("tag = 'schema'").select("dataset", "data").collect():
            kinds = schemas.setdefault(row["dataset"], {})
            for column, kind in json.loads(row["data"] or "{}").items():
                if kinds.get(column) != "text":
                    kinds[column] = kind
        for number, dataset in enumerate(datasets):
            if dataset.role != "training" or number not in schemas:
                continue
            kinds = schemas[number]
            columns = sorted(kinds)
            text_columns = [c for c in columns if kinds[c] == "text"]
            parsed = F.from_json(F.col("data"), "map<string,string>")
            records = tagged.filter((F.col("tag") == "row") & (F.col("dataset") == number)).select(
                OBJECT, ROW, *[parsed.getItem(c).alias(c) for c in columns]
            )
            planned, missing = planned_for(scan_plan, columns, text_columns)
            for column in missing:
                records = records.withColumn(column, F.lit(None).cast("string"))
            records = records.cache()
            try:
                absorb_all(scan_plan, book, runner.validate(records, planned), planned, dataset)
            finally:
                records.unpersist()
            finish_dataset(scan_plan, book, dataset, set(kinds))
        return book.results()
