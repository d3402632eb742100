"""Lineage done right: static lineage (JobEvents) gives edges, DatasetEvents are read, a job is
(namespace, name) in every file, formats are checked, and every line is counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.sources import load_inventory
from audit.sources.openlineage import transform
from tests.conftest import EXAMPLE_ORG, FIXTURES, WriteYaml, audit_sources, findings_of, invoke

LINEAGE = FIXTURES / "lineage"
ORG = [EXAMPLE_ORG / "org.yaml", EXAMPLE_ORG / "stores.yaml", EXAMPLE_ORG / "access.yaml", LINEAGE / "jobs.yaml"]
BASE = LINEAGE / "example-org.ndjson"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark"


def _dataset(namespace: str, name: str) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": {}}


def _job_event(namespace: str, name: str, inputs: list[Any], outputs: list[Any]) -> dict[str, Any]:
    return {
        "eventTime": "2026-11-21T07:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": namespace, "name": name, "facets": {}},
        "inputs": inputs,
        "outputs": outputs,
    }


def _run_event(namespace: str, name: str, inputs: list[Any], outputs: list[Any]) -> dict[str, Any]:
    event = _job_event(namespace, name, inputs, outputs)
    event["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    event["eventType"] = "COMPLETE"
    event["run"] = {"runId": "7c70a413-3cfb-57bd-a7ff-184e59aa9bd5", "facets": {}}
    return event


def _write(tmp_path: Path, name: str, events: list[dict[str, Any]]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


API_LOGS = _dataset("s3://example-api-request-logs", "2026/11/21")
PRETRAIN = _dataset("s3://example-pretrain-mix", "mix/v7")
PUBLIC_WEB = _dataset("s3://example-public-web-crawl", "crawl/2026-11")
SCRATCH = _dataset("s3://example-feedback-archive", "scratch")


def test_static_lineage_gives_the_same_finding_as_a_run(tmp_path: Path) -> None:
    static = _write(tmp_path, "static.ndjson", [_job_event("adhoc", "export", [API_LOGS], [PRETRAIN])])
    run = _write(tmp_path, "run.ndjson", [_run_event("adhoc", "export", [API_LOGS], [PRETRAIN])])
    from_static = findings_of(audit_sources(*ORG, BASE, static), "ISO-001")
    from_run = findings_of(audit_sources(*ORG, BASE, run), "ISO-001")
    assert from_static == from_run
    assert ("declared", "api-logs", "pretrain-mix") in from_static
    inventory = load_inventory([str(p) for p in [*ORG, BASE, static]])
    job = inventory.jobs["adhoc/export"]
    assert job.provenance is not None
    assert "static lineage (JobEvent)" in job.provenance.notes["reads[0]"]
    assert "line 1" in job.provenance.notes["reads[0]"]


def test_static_lineage_of_a_clean_job_stays_quiet(tmp_path: Path) -> None:
    static = _write(tmp_path, "static.ndjson", [_job_event("adhoc", "crawl-mix", [PUBLIC_WEB], [PRETRAIN])])
    report = audit_sources(*ORG, BASE, static)
    assert findings_of(report, "ISO-001") == []
    assert "adhoc/crawl-mix" in load_inventory([str(p) for p in [*ORG, BASE, static]]).jobs


def test_a_dataset_event_declares_a_known_dataset_and_is_counted(tmp_path: Path) -> None:
    declared = {
        "eventTime": "2026-11-21T07:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": _dataset("postgres://crm.internal:5432", "crm.public.accounts"),
    }
    path = _write(tmp_path, "datasets.ndjson", [declared, {"eventTime": "broken"}])
    inventory = load_inventory([str(path)])
    store = inventory.stores["postgres://crm.internal:5432/crm.public.accounts"]
    assert store.provenance is not None
    assert store.provenance.location == f"{path}:1"
    (gap,) = [g for g in inventory.gaps if g.scope == f"lineage:{path}"]
    assert "1 of 2 lines" in gap.reason  # the DatasetEvent is counted with the bad line


def test_same_name_in_two_namespaces_is_two_jobs_across_files(tmp_path: Path) -> None:
    # one "etl" job copies API logs to a scratch area, another of the same name in another
    # namespace builds the training mix from public data: merged, they would invent a path
    first = _write(tmp_path, "a.ndjson", [_run_event("team-a", "etl", [API_LOGS], [SCRATCH])])
    second = _write(tmp_path, "b.ndjson", [_run_event("team-b", "etl", [PUBLIC_WEB], [PRETRAIN])])
    inventory = load_inventory([str(p) for p in [*ORG, BASE, first, second]])
    assert {"team-a/etl", "team-b/etl"} <= set(inventory.jobs)
    assert findings_of(audit_sources(*ORG, BASE, first, second), "ISO-001") == []
    # within one file the identity is the same
    both = _write(
        tmp_path,
        "both.ndjson",
        [_run_event("team-a", "etl", [API_LOGS], [SCRATCH]), _run_event("team-b", "etl", [PUBLIC_WEB], [PRETRAIN])],
    )
    assert {"team-a/etl", "team-b/etl"} <= set(load_inventory([str(p) for p in [*ORG, BASE, both]]).jobs)


def test_one_job_in_two_files_is_one_job(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.ndjson", [_run_event("team-a", "etl", [API_LOGS], [SCRATCH])])
    second = _write(tmp_path, "b.ndjson", [_run_event("team-a", "etl", [SCRATCH], [PRETRAIN])])
    report = audit_sources(*ORG, BASE, first, second)
    assert ("declared", "api-logs", "pretrain-mix") in findings_of(report, "ISO-001")


def test_an_overlay_names_a_job_by_a_unique_bare_name_or_by_namespace_and_name(
    tmp_path: Path, write_yaml: WriteYaml
) -> None:
    first = _write(tmp_path, "a.ndjson", [_run_event("team-a", "etl", [API_LOGS], [SCRATCH])])
    bare = write_yaml("version: 1\njobs:\n  - {id: etl, runs_as: trainer}\n", "bare.yaml")
    inventory = load_inventory([str(p) for p in [*ORG, BASE, first, bare]])
    assert inventory.jobs["team-a/etl"].runs_as == "trainer"
    assert "etl" not in inventory.jobs
    second = _write(tmp_path, "b.ndjson", [_run_event("team-b", "etl", [PUBLIC_WEB], [PRETRAIN])])
    result = invoke("validate", *[str(p) for p in [*ORG, BASE, first, second, bare]])
    assert result.exit_code == 2
    assert "'etl' names 2 lineage jobs: team-a/etl and team-b/etl" in result.stderr
    assert f"{bare}:3: jobs[0].id" in result.stderr
    qualified = write_yaml("version: 1\njobs:\n  - {id: team-b/etl, runs_as: trainer}\n", "qualified.yaml")
    inventory = load_inventory([str(p) for p in [*ORG, BASE, first, second, qualified]])
    assert inventory.jobs["team-b/etl"].runs_as == "trainer"
    assert inventory.jobs["team-a/etl"].runs_as is None


def test_schema_formats_are_checked(tmp_path: Path) -> None:
    good = _run_event("team-a", "etl", [API_LOGS], [SCRATCH])
    bad_time = {**good, "eventTime": "yesterday"}
    bad_run = {**good, "run": {"runId": "not-a-uuid", "facets": {}}}
    bad_uri = {**good, "producer": "not a uri"}
    path = _write(tmp_path, "formats.ndjson", [good, bad_time, bad_run, bad_uri])
    inventory = load_inventory([str(path)])
    (gap,) = [g for g in inventory.gaps if g.scope == f"lineage:{path}"]
    assert "3 of 4 lines" in gap.reason
    for line, field in ((2, "eventTime"), (3, "run/runId"), (4, "producer")):
        assert f"line {line}: not an OpenLineage event: {field}" in gap.reason
    assert "team-a/etl" in inventory.jobs


def test_since_counts_an_unreadable_time_as_a_bad_line(tmp_path: Path) -> None:
    good = _run_event("team-a", "etl", [API_LOGS], [SCRATCH])
    old = {**good, "eventTime": "2020-01-01T00:00:00Z"}
    path = _write(tmp_path, "since.ndjson", [good, old, {**good, "eventTime": "2026-02-30T00:00:00Z"}])
    result = invoke("validate", str(path), "--since", "2026-01-01")
    assert result.exit_code == 0, result.stderr
    loaded = transform(path.read_text(), str(path), "0" * 64, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert (loaded.events, loaded.skipped_outside_window) == (1, 1)
    (gap,) = loaded.gaps
    assert "1 of 3 lines" in gap.reason


def test_every_line_is_counted_in_the_coverage_figures(tmp_path: Path) -> None:
    declared = {
        "eventTime": "2026-11-21T07:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": _dataset("postgres://crm.internal:5432", "crm.public.accounts"),
    }
    events = [
        _run_event("team-a", "etl", [PUBLIC_WEB], [SCRATCH]),
        _job_event("team-a", "etl", [PUBLIC_WEB], [SCRATCH]),
        declared,
        {**_run_event("team-a", "etl", [PUBLIC_WEB], [SCRATCH]), "eventTime": "2020-01-01T00:00:00Z"},
        {"not": "an event"},
    ]
    path = _write(tmp_path, "all.ndjson", events)
    config_since = invoke(
        "run",
        *[str(p) for p in [*ORG, path]],
        "--since",
        "2026-01-01",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "json",
    )
    assert config_since.exit_code in (0, 1), config_since.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["coverage"]["observed"]["inputs"][str(path)] == {
        "lines": 5,
        "run_events": 1,
        "job_events": 1,
        "dataset_events": 1,
        "outside_period": 1,
        "unreadable": 1,
    }
