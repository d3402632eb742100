"""OpenLineage events shaped like those of the real integrations: Airflow (task-level jobs
named ``dag.task``, an ``airflow`` run facet, a parent run), Spark (``app.command`` job
names, S3 datasets with schema and symlinks facets, column lineage) and dbt (``dbt``
namespace, warehouse tables symlinked to their S3 files). Each run writes a START and a
COMPLETE (or FAIL) event, as producers do.

Regenerate fixtures/lineage/*.ndjson with:  python -m tests.support.lineage
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "lineage"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCERS = {
    "airflow": "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0",
    "spark": "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark",
    "dbt": "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt",
}
FACET = "https://openlineage.io/spec/facets/1-0-1/{}.json"


def _facet(name: str, producer: str, **body: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": FACET.format(name), **body}


def dataset(
    namespace: str,
    name: str,
    producer: str,
    fields: list[str] = (),
    symlink: tuple[str, str] | None = None,
    column_lineage: dict[str, list[tuple[str, str, str]]] | None = None,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if fields:
        facets["schema"] = _facet(
            "SchemaDatasetFacet", producer, fields=[{"name": f, "type": "string"} for f in fields]
        )
    if symlink:
        facets["symlinks"] = _facet(
            "SymlinksDatasetFacet",
            producer,
            identifiers=[{"namespace": symlink[0], "name": symlink[1], "type": "TABLE"}],
        )
    if column_lineage:
        facets["columnLineage"] = _facet(
            "ColumnLineageDatasetFacet",
            producer,
            fields={
                column: {"inputFields": [{"namespace": ns, "name": n, "field": f} for ns, n, f in inputs]}
                for column, inputs in column_lineage.items()
            },
        )
    return {"namespace": namespace, "name": name, "facets": facets}


def run_events(
    integration: str,
    namespace: str,
    job: str,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    start: datetime,
    outcome: str = "COMPLETE",
) -> list[dict[str, Any]]:
    producer = PRODUCERS[integration]
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{job}/{start.isoformat()}"))
    run_facets: dict[str, Any] = {}
    if integration == "airflow":
        dag, _, task = job.partition(".")
        run_facets["airflow"] = _facet("AirflowRunFacet", producer, dag={"dag_id": dag}, task={"task_id": task})
        run_facets["parent"] = _facet(
            "ParentRunFacet",
            producer,
            run={"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, dag))},
            job={"namespace": namespace, "name": dag},
        )
    job_type = {
        "airflow": ("BATCH", "AIRFLOW", "TASK"),
        "spark": ("BATCH", "SPARK", "JOB"),
        "dbt": ("BATCH", "DBT", "MODEL"),
    }[integration]
    job_facets = {
        "jobType": _facet(
            "JobTypeJobFacet", producer, processingType=job_type[0], integration=job_type[1], jobType=job_type[2]
        )
    }
    events = []
    for state, moment in (("START", start), (outcome, start + timedelta(minutes=17))):
        events.append(
            {
                "eventType": state,
                "eventTime": moment.isoformat().replace("+00:00", "Z"),
                "producer": producer,
                "schemaURL": SCHEMA_URL,
                "run": {"runId": run_id, "facets": run_facets},
                "job": {"namespace": namespace, "name": job, "facets": job_facets},
                "inputs": inputs,
                "outputs": outputs,
            }
        )
    return events


def example_org(day: datetime) -> list[dict[str, Any]]:
    """The example organisation's ETL, as its schedulers report it."""
    a, s, d = PRODUCERS["airflow"], PRODUCERS["spark"], PRODUCERS["dbt"]
    events: list[dict[str, Any]] = []
    events += run_events(
        "airflow",
        "airflow-prod",
        "consent_pipeline.filter_consented",
        [dataset("s3://example-consumer-chats-opt-in", "chats/2026/11/21", a, ["user_id", "consent", "text"])],
        [dataset("s3://example-consented-chats", "daily/2026-11-21", a, ["conversation_id", "text"])],
        day,
    )
    events += run_events(
        "spark",
        "spark-training",
        "pii_scrub.execute_insert_into_hadoop_fs_relation_command",
        [dataset("s3://example-consented-chats", "daily/2026-11-21", s, ["conversation_id", "text"])],
        [
            dataset(
                "s3://example-sft-chats",
                "v7/part-00000.parquet",
                s,
                ["conversation_id", "text_scrubbed"],
                column_lineage={"text_scrubbed": [("s3://example-consented-chats", "daily/2026-11-21", "text")]},
            )
        ],
        day + timedelta(hours=1),
    )
    events += run_events(
        "airflow",
        "airflow-prod",
        "feedback_pipeline.de_link",
        [dataset("s3://example-feedback-raw", "2026/11/21", a, ["user_id", "rating", "conversation"])],
        [dataset("s3://example-feedback-delinked", "2026/11/21", a, ["rating", "conversation"])],
        day,
    )
    events += run_events(
        "spark",
        "spark-training",
        "mix_builder.execute_insert_into_hadoop_fs_relation_command",
        [
            dataset("s3://example-public-web-crawl", "cc-2026-40", s),
            dataset("s3://example-licensed-corpus", "books", s),
            dataset("s3://example-feedback-delinked", "2026/11/21", s),
        ],
        [dataset("s3://example-pretrain-mix", "v12", s)],
        day + timedelta(hours=2),
    )
    events += run_events(
        "dbt",
        "dbt",
        "billing.usage_metrics",
        [dataset("s3://example-api-request-logs", "2026/11/21", d)],
        [
            dataset(
                "awsathena://athena.us-east-1.amazonaws.com",
                "awsdatacatalog.billing.usage_metrics",
                d,
                ["customer_id", "tokens"],
                symlink=("s3://example-billing-warehouse", "usage_metrics"),
            )
        ],
        day + timedelta(hours=3),
    )
    # yesterday's consent filter failed half way: it still read, and may have written
    events += run_events(
        "airflow",
        "airflow-prod",
        "consent_pipeline.filter_consented",
        [dataset("s3://example-consumer-chats-opt-in", "chats/2026/11/20", a)],
        [dataset("s3://example-consented-chats", "daily/2026-11-20", a)],
        day - timedelta(days=1),
        outcome="FAIL",
    )
    return events


def debug_export(day: datetime) -> list[dict[str, Any]]:
    """A one-off Spark job that copies raw opt-in chats into the consented bucket."""
    s = PRODUCERS["spark"]
    return run_events(
        "spark",
        "spark-adhoc",
        "chat_debug_export.execute_save_into_data_source_command",
        [dataset("s3://example-consumer-chats-opt-in", "chats/2026/11/21", s, ["user_id", "consent", "text"])],
        [dataset("s3://example-consented-chats", "debug/tokenizer-issue", s, ["text"])],
        day + timedelta(hours=5),
    )


def write(path: Path, events: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))


DAY = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    write(ROOT / "example-org.ndjson", example_org(DAY))
    (ROOT / "leaks").mkdir(exist_ok=True)
    write(ROOT / "leaks" / "debug-export.ndjson", debug_export(DAY))


if __name__ == "__main__":
    main()
