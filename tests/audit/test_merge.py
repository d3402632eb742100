"""The merge layer: one entity per identity, conflicts reported and resolved strictly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from audit.inventory import Inventory
from audit.merge import merge_documents
from audit.model import InventoryDocument
from audit.sources import described, load_inventory
from tests.conftest import MINIMAL_ORG, WriteYaml


def as_collected(path: Path) -> InventoryDocument:
    """A described file relabelled as if a collector (not an auditor) had produced it."""
    document = described.load(path).document
    assert document is not None
    for section in ("accounts", "stores", "principals", "jobs"):
        for entity in getattr(document, section):
            assert entity.provenance is not None
            entity.provenance = replace(entity.provenance, source="aws")
    return document


def collected_and_overlay(write_yaml: WriteYaml) -> Inventory:
    overlay = described.load(write_yaml(OVERLAY, "overlay.yaml")).document
    assert overlay is not None
    return merge_documents([as_collected(write_yaml(COLLECTED, "collected.yaml")), overlay])


COLLECTED = (
    MINIMAL_ORG
    + """
stores:
  - id: example-api-request-logs
    arn: arn:aws:s3:::example-api-request-logs
    account: serving
    classes: [commercial-api]
    retention_days: 30
    encryption: aws:kms
    tls_only: true
principals:
  - id: trainer
    arn: arn:aws:iam::222222222222:role/trainer
    can_read: [example-api-request-logs]
"""
)

OVERLAY = """
version: 1
stores:
  - id: api-logs
    arn: arn:aws:s3:::example-api-request-logs
    classes: [commercial-api, feedback]
    retention_days: 400
    encryption: AES256
    tls_only: false
jobs:
  - {id: eval, runs_as: trainer, reads: [api-logs]}
"""


def test_an_overlay_merges_into_the_collected_store_by_arn(write_yaml: WriteYaml) -> None:
    inventory = collected_and_overlay(write_yaml)
    assert list(inventory.stores) == ["api-logs"]  # the auditor's id names the merged store
    store = inventory.stores["api-logs"]
    assert store.kind == "s3-bucket"  # inferred from the ARN
    # references under either name resolve to the one store
    assert inventory.principals["trainer"].can_read == ["api-logs"]
    assert inventory.jobs["eval"].reads == ["api-logs"]
    assert store.provenance is not None
    assert store.provenance.location.endswith("overlay.yaml:3")
    assert store.provenance.also[0].endswith("collected.yaml:8")


def test_disagreements_are_conflicts_resolved_to_the_strictest(write_yaml: WriteYaml) -> None:
    inventory = collected_and_overlay(write_yaml)
    store = inventory.stores["api-logs"]
    assert store.classes == ["commercial-api", "feedback"]
    assert store.retention_days == 400
    assert store.encryption == "AES256"
    assert store.tls_only is False
    conflicts = {(c.entity, c.field): c for c in inventory.conflicts}
    assert set(conflicts) == {("store:api-logs", f) for f in ("classes", "retention_days", "encryption", "tls_only")}
    retention = conflicts[("store:api-logs", "retention_days")]
    assert retention.chosen == "400"
    assert [v for v, _ in retention.values] == ["30", "400"]
    assert retention.values[0][1].endswith("collected.yaml:8")


def test_forever_is_the_longest_retention(write_yaml: WriteYaml) -> None:
    a = write_yaml(MINIMAL_ORG + "stores:\n  - {id: s, kind: table, retention_days: 30}\n", "a.yaml")
    b = write_yaml("version: 1\nstores:\n  - {id: s, retention_days: null}\n", "b.yaml")
    assert load_inventory([str(a), str(b)]).stores["s"].retention_days is None


def test_agreeing_sources_merge_silently_and_lists_union(write_yaml: WriteYaml) -> None:
    a = write_yaml(
        MINIMAL_ORG + "stores:\n  - {id: s, kind: table}\n  - {id: t, kind: table}\njobs:\n  - {id: j, reads: [s]}\n",
        "a.yaml",
    )
    b = write_yaml("version: 1\njobs:\n  - {id: j, reads: [s, t]}\n", "b.yaml")
    inventory = load_inventory([str(a), str(b)])
    assert inventory.jobs["j"].reads == ["s", "t"]
    assert inventory.conflicts == []
    provenance = inventory.jobs["j"].provenance
    assert provenance is not None
    assert provenance.at("reads[1]").endswith("b.yaml:3")


def test_two_tenants_for_one_store_is_a_gap_for_isolation(write_yaml: WriteYaml) -> None:
    a = write_yaml(
        MINIMAL_ORG + "tenants:\n  - {id: x, tier: enterprise}\n  - {id: y, tier: enterprise}\n"
        "stores:\n  - {id: s, kind: table, tenant: x}\n",
        "a.yaml",
    )
    b = write_yaml("version: 1\nstores:\n  - {id: s, tenant: y}\n", "b.yaml")
    inventory = load_inventory([str(a), str(b)])
    (gap,) = inventory.gaps
    assert gap.checks == ("ISO-006",)
    assert "x, y" in gap.reason


def test_data_class_disagreements_take_the_strictest(write_yaml: WriteYaml) -> None:
    a = write_yaml("version: 1\ndata_classes:\n  x: {protected: false, max_retention_days: 90}\n", "a.yaml")
    b = write_yaml("version: 1\ndata_classes:\n  x: {protected: true, max_retention_days: 30}\n", "b.yaml")
    inventory = load_inventory([str(a), str(b)])
    assert inventory.data_classes["x"].protected is True
    assert inventory.data_classes["x"].max_retention_days == 30
    assert {c.field for c in inventory.conflicts} == {"protected", "max_retention_days"}


def test_conflicts_reach_the_report(write_yaml: WriteYaml) -> None:
    from tests.conftest import audit_sources

    a = write_yaml(MINIMAL_ORG + "stores:\n  - {id: s, kind: table, retention_days: 30}\n", "a.yaml")
    b = write_yaml("version: 1\nstores:\n  - {id: s, retention_days: 90}\n", "b.yaml")
    report = audit_sources(a, b)
    (conflict,) = report.conflicts
    assert (conflict.entity, conflict.field, conflict.chosen) == ("store:s", "retention_days", "90")
    assert [v.value for v in conflict.values] == ["30", "90"]


def test_bucket_policies_that_disagree_keep_every_grant_and_only_shared_denies(write_yaml: WriteYaml) -> None:
    deny = {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}
    first = {
        "Sid": "A",
        "Effect": "Allow",
        "Principal": {"AWS": "222222222222"},
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    second = {"Sid": "B", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    lone = {"Sid": "OnlyHere", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    import yaml

    def source(name: str, *statements: dict[str, object]) -> Path:
        store = {
            "id": "logs",
            "arn": "arn:aws:s3:::logs",
            "policy": {"Version": "2012-10-17", "Statement": list(statements)},
        }
        return write_yaml(yaml.safe_dump({"version": 1, "stores": [store]}), name)

    inventory = load_inventory([str(source("a.yaml", first, deny)), str(source("b.yaml", second, deny, lone))])
    policy = inventory.stores["logs"].policy
    assert isinstance(policy, dict)
    assert [s["Sid"] for s in policy["Statement"]] == ["A", "B", "NoDelete"]  # OnlyHere is one source's word
    (conflict,) = [c for c in inventory.conflicts if c.field == "policy"]
    assert "every grant any source states" in conflict.rule
    # a stated document wins over a stated none, whatever the order
    none = write_yaml("version: 1\nstores:\n  - {id: logs, arn: 'arn:aws:s3:::logs', policy: none}\n", "none.yaml")
    inventory = load_inventory([str(none), str(source("c.yaml", first))])
    assert inventory.stores["logs"].policy == {"Version": "2012-10-17", "Statement": [first]}
