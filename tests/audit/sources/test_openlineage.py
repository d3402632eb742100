"""OpenLineage: events shaped like Airflow's, Spark's and dbt's become declared edges citing
their run; bad lines become a coverage gap while good lines are used; a leak expressed
only through lineage is caught."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from audit.sources import SourceOptions, load_inventory
from audit.sources.openlineage import load
from tests.conftest import EXAMPLE_ORG, FIXTURES, LEAKS, SHARED, audit_sources, invoke
from tests.support import lineage

LINEAGE = FIXTURES / "lineage"
ORG = [EXAMPLE_ORG / "org.yaml", EXAMPLE_ORG / "stores.yaml", EXAMPLE_ORG / "access.yaml", LINEAGE / "jobs.yaml"]
OFFICIAL_SCHEMA = json.loads((SHARED / "openlineage" / "OpenLineage.schema.json").read_text())


@pytest.mark.parametrize("path", sorted(LINEAGE.rglob("*.ndjson")), ids=lambda p: p.name)
def test_fixture_events_validate_against_the_official_schema(path: Path) -> None:
    for line in path.read_text().splitlines():
        jsonschema.validate(json.loads(line), OFFICIAL_SCHEMA)


def test_fixtures_are_committed_as_generated() -> None:
    day = lineage.DAY
    expected = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in lineage.example_org(day))
    assert (LINEAGE / "example-org.ndjson").read_text() == expected


def test_events_become_declared_reads_and_writes() -> None:
    inventory = load_inventory([str(p) for p in [*ORG, LINEAGE / "example-org.ndjson"]])
    jobs = inventory.jobs
    # Airflow task, S3 datasets resolved to the stores that hold the paths
    consent = jobs["airflow-prod/consent_pipeline.filter_consented"]
    assert (consent.reads, consent.writes) == (["consumer-chats-opt-in"], ["consented-chats"])
    assert consent.gate == ["consent-filter"]  # from the overlay, by the job's OpenLineage name
    # dbt writes an Athena table; its symlink names the S3 files, which are the usage-metrics store
    assert jobs["dbt/billing.usage_metrics"].writes == ["usage-metrics"]
    spark = jobs["spark-training/mix_builder.execute_insert_into_hadoop_fs_relation_command"]
    assert sorted(spark.reads) == ["feedback-delinked", "licensed-corpus", "public-web-crawl"]
    provenance = consent.provenance
    assert provenance is not None
    assert provenance.at("reads[0]").startswith(str(LINEAGE / "example-org.ndjson") + ":")
    note = provenance.notes["reads[0]"]
    assert "producer https://github.com/apache/airflow" in note
    assert "FAIL at 2026-11-20" in note  # yesterday's failed run read the chats too, and counts
    assert "1 run, including failed runs" in note


def test_the_example_org_from_lineage_audits_like_the_described_one() -> None:
    described = audit_sources(EXAMPLE_ORG)
    from_lineage = audit_sources(*ORG, LINEAGE / "example-org.ndjson")
    assert {c.id: c.verdict for c in from_lineage.claims} == {c.id: c.verdict for c in described.claims}
    assert from_lineage.findings == []


def test_a_leak_expressed_only_in_lineage_is_caught() -> None:
    report = audit_sources(*ORG, LINEAGE / "example-org.ndjson", LINEAGE / "leaks" / "debug-export.ndjson")
    iso = [f for f in report.findings if f.check == "ISO-004"]
    assert [(f.kind, f.path[0].node, f.path[-1].node) for f in iso] == [
        ("declared", "consumer-chats-opt-in", "sft-chats")
    ]
    # the same leak described by hand is the same finding: the same route, cut at the same
    # store's edge (its id names the cut edge, whose job lineage names by its own job name)
    described = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    (by_hand,) = [f for f in described.findings if f.check == "ISO-004"]
    assert iso[0].cut_edge is not None
    assert by_hand.cut_edge is not None
    assert (iso[0].cut_edge["source"], iso[0].cut_edge["kind"]) == (
        by_hand.cut_edge["source"],
        by_hand.cut_edge["kind"],
    )
    assert (iso[0].path[0].node, iso[0].path[-1].node) == (by_hand.path[0].node, by_hand.path[-1].node)
    evidence = iso[0].path[1].evidence[0]
    assert evidence.location.endswith("debug-export.ndjson:2")
    assert evidence.kind == "openlineage"  # labelled as lineage, not "inventory at ...ndjson"
    assert "integration/spark" in evidence.detail


def test_bad_lines_are_a_gap_and_good_lines_still_count(tmp_path: Path) -> None:
    lines = (LINEAGE / "leaks" / "debug-export.ndjson").read_text().splitlines()
    broken = tmp_path / "events.ndjson"
    event = json.loads(lines[1])
    del event["producer"]
    broken.write_text("\n".join([lines[0], "{not json", json.dumps(event), lines[1], lines[1][: len(lines[1]) // 2]]))
    loaded = load(broken)
    assert loaded.events == 2
    (gap,) = loaded.gaps
    assert "3 of 5 lines could not be read" in gap.reason
    assert "line 2: not JSON" in gap.reason
    assert "line 3: not an OpenLineage event: (event): 'producer' is a required property" in gap.reason
    assert "line 5: not JSON" in gap.reason
    assert gap.checks == ("ISO-*", "SEP-*", "ERA-*")
    report = audit_sources(*ORG, LINEAGE / "example-org.ndjson", broken)
    assert any(f.check == "ISO-004" for f in report.findings)  # the good lines found the leak
    assert any("could not be read as OpenLineage events" in g.reason for g in report.coverage.gaps)


def test_since_limits_lineage_to_the_audit_period(tmp_path: Path) -> None:
    day = lineage.DAY
    inventory = load_inventory([str(p) for p in [*ORG, LINEAGE / "example-org.ndjson"]], SourceOptions(since=day))
    note = inventory.jobs["airflow-prod/consent_pipeline.filter_consented"].provenance.notes["reads[0]"]  # type: ignore[union-attr]
    assert "1 run" in note  # yesterday's failed run is outside the period
    later = load(LINEAGE / "example-org.ndjson", since=datetime(2027, 1, 1, tzinfo=UTC))
    assert later.document.jobs == []
    assert later.skipped_outside_window == 12
    result = invoke(
        "run",
        *map(str, ORG),
        str(LINEAGE / "example-org.ndjson"),
        "--since",
        "2026-11-21",
        "--out",
        str(tmp_path),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "report.json").read_text())["run"]["since"] == "2026-11-21T00:00:00+00:00"
    assert invoke("run", *map(str, ORG), "--since", "last week", "--out", str(tmp_path)).exit_code == 2


def test_non_s3_datasets_merge_with_overlay_stores_by_location(write_yaml) -> None:  # type: ignore[no-untyped-def]
    events = lineage.run_events(
        "dbt",
        "dbt",
        "crm.customers",
        [lineage.dataset("postgres://crm.internal:5432", "crm.public.accounts", lineage.PRODUCERS["dbt"])],
        [lineage.dataset("postgres://crm.internal:5432", "analytics.public.customers", lineage.PRODUCERS["dbt"])],
        lineage.DAY,
    )
    path = write_yaml("".join(json.dumps(e) + "\n" for e in events), "crm.ndjson")
    overlay = write_yaml(
        """
version: 1
stores:
  - {id: crm-accounts, kind: table, location: "postgres://crm.internal:5432/crm.public.accounts", classes: [enterprise]}
""",
        "overlay.yaml",
    )
    inventory = load_inventory([str(overlay), str(path)])
    assert inventory.jobs["dbt/crm.customers"].reads == ["crm-accounts"]
    assert inventory.jobs["dbt/crm.customers"].writes == ["postgres://crm.internal:5432/analytics.public.customers"]
