"""The graph follows data wherever it can go (issue 17): containment, bucket policies over
prefixes, gate roles, classes that travel, opted-out data behind the consent filter,
unknown bucket policies. Each scenario is an estate less obvious than the leak fixtures,
with its clean twin, which must stay quiet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from audit.graph.build import build_graph
from audit.report import Report
from audit.sources import load_inventory
from tests.conftest import WriteYaml, audit_sources, verdicts

SERVING, TRAINING, FOREIGN = "111111111111", "222222222222", "999999999999"
CLEAN = {  # every setting a hygiene check asks about, stated and sound
    "encryption": "AES256",
    "public_access_blocked": True,
    "tls_only": True,
    "access_logging": True,
    "versioning": False,
    "retention_days": 30,
    "policy": "none",
}


def bucket(store_id: str, account: str = "serving", *, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": store_id,
        "kind": "s3-bucket",
        "account": account,
        "arn": f"arn:aws:s3:::{name or store_id}",
        **CLEAN,
        **extra,
    }


def prefix(store_id: str, path: str, classes: list[str], **extra: Any) -> dict[str, Any]:
    """A prefix store inside a bucket: it states its classes, the bucket its settings."""
    return {
        "id": store_id,
        "kind": "s3-prefix",
        "account": "serving",
        "arn": f"arn:aws:s3:::{path}*",
        "classes": classes,
        **extra,
    }


def role(role_id: str, account: str = TRAINING, **extra: Any) -> dict[str, Any]:
    return {"id": role_id, "arn": f"arn:aws:iam::{account}:role/{role_id}", "trusts": ["glue.amazonaws.com"], **extra}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


MIX = bucket("mix", "training", classes=["training"])
LAKE = [
    bucket("lake"),
    prefix("lake-api", "lake/api/", ["commercial-api"]),
    prefix("lake-web", "lake/web/", ["public-web"]),
]


def audit(write_yaml: WriteYaml, **sections: Any) -> Report:
    document = {
        "version": 1,
        "organisation": "Semantics Lab",
        "accounts": [
            {"id": SERVING, "name": "serving", "zone": "serving"},
            {"id": TRAINING, "name": "training", "zone": "training"},
        ],
        **sections,
    }
    return audit_sources(write_yaml(yaml.safe_dump(document, sort_keys=False)))


def found(report: Report, check: str) -> list[tuple[str, list[str]]]:
    """(kind, nodes of the path) of each finding of a check."""
    return sorted((f.kind, [h.node for h in f.path]) for f in report.findings if f.check == check)


def edges_of(report: Report, check: str) -> list[list[str | None]]:
    return [[h.edge for h in f.path] for f in report.findings if f.check == check]


# ---- 1. a bucket holds its prefixes -------------------------------------------------------


def test_a_job_reading_the_bucket_reads_the_protected_prefix_inside_it(write_yaml: WriteYaml) -> None:
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["lake"], "writes": ["mix"]}]
    report = audit(write_yaml, stores=[*LAKE, MIX], principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == [("declared", ["lake-api", "lake", "mixer", "mix"])]
    assert edges_of(report, "ISO-001") == [[None, "contained-in", "reads", "writes"]]
    (finding,) = [f for f in report.findings if f.check == "ISO-001"]
    containment = finding.path[1].evidence[0]
    assert containment.kind == "containment"
    assert "lake-api (arn:aws:s3:::lake/api/*) is inside lake" in containment.detail
    assert "job mixer reads lake" in finding.path[2].evidence[0].detail  # the container's own statement
    assert verdicts(report, ["C1"]) == {"C1": "contradicted"}


def test_clean_twin_a_job_reading_another_prefix_moves_nothing_protected(write_yaml: WriteYaml) -> None:
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["lake-web"], "writes": ["mix"]}]
    report = audit(write_yaml, stores=[*LAKE, MIX], principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == []
    assert verdicts(report, ["C1"]) == {"C1": "no-evidence-contradicting"}


def test_a_write_into_the_bucket_does_not_land_in_its_prefixes(write_yaml: WriteYaml) -> None:
    """Data written into a bucket is in the bucket, not in the prefix stores inside it: a
    job writing the lake from API data, then a reader of the web prefix, is no path."""
    jobs = [
        {"id": "dump", "runs_as": "dumper", "reads": ["api-logs"], "writes": ["lake"]},
        {"id": "mixer", "runs_as": "etl", "reads": ["lake-web"], "writes": ["mix"]},
    ]
    stores = [*LAKE, MIX, bucket("api-logs", classes=["commercial-api"])]
    report = audit(write_yaml, stores=stores, principals=[role("etl"), role("dumper", SERVING)], jobs=jobs)
    assert found(report, "ISO-001") == []


def test_replication_and_flows_of_the_bucket_carry_the_prefix(write_yaml: WriteYaml) -> None:
    replica = bucket("lake-copy", "training")
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["lake-copy"], "writes": ["mix"]}]
    lake = [{**LAKE[0], "replicates_to": ["lake-copy"]}, *LAKE[1:]]
    report = audit(write_yaml, stores=[*lake, replica, MIX], principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == [("declared", ["lake-api", "lake", "lake-copy", "mixer", "mix"])]
    flows = [{"from": "lake", "to": "mix", "note": "nightly sync"}]
    report = audit(write_yaml, stores=[*LAKE, MIX], flows=flows)
    assert found(report, "ISO-001") == [("declared", ["lake-api", "lake", "mix"])]
    # clean twin: the same replication of a bucket with nothing protected inside
    plain = [bucket("other", replicates_to=["lake-copy"]), prefix("other-web", "other/web/", ["public-web"])]
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["lake-copy"], "writes": ["mix"]}]
    report = audit(write_yaml, stores=[*plain, *LAKE, replica, MIX], principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == []


def test_a_prefix_holding_a_protected_sub_prefix(write_yaml: WriteYaml) -> None:
    stores = [
        bucket("lake"),
        prefix("team", "lake/team/", []),
        prefix("team-api", "lake/team/api/", ["commercial-api"]),
        MIX,
    ]
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["team"], "writes": ["mix"]}]
    report = audit(write_yaml, stores=stores, principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == [("declared", ["team-api", "team", "mixer", "mix"])]
    # reading the whole bucket reaches it too, through both containers' edges
    jobs = [{"id": "mixer", "runs_as": "etl", "reads": ["lake"], "writes": ["mix"]}]
    report = audit(write_yaml, stores=stores, principals=[role("etl")], jobs=jobs)
    assert found(report, "ISO-001") == [("declared", ["team-api", "lake", "mixer", "mix"])]


def _lineage(tmp_path: Path, namespace: str, name: str) -> Path:
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-20T02:00:00Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f1c9e3a-6a52-4b36-a0d6-2d0f3f7a9b10"},
        "job": {"namespace": "spark-prod", "name": "lake_mix"},
        "inputs": [{"namespace": namespace, "name": name}],
        "outputs": [{"namespace": "s3://mix", "name": "part-0000"}],
    }
    path = tmp_path / "lineage.ndjson"
    path.write_text(json.dumps(event) + "\n", encoding="utf-8")
    return path


def test_lineage_on_the_bucket_root_carries_the_prefix_and_on_a_sibling_part_does_not(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    inventory = write_yaml(
        yaml.safe_dump(
            {
                "version": 1,
                "accounts": [{"id": SERVING, "name": "serving", "zone": "serving"}],
                "stores": [*LAKE, {**MIX, "account": "serving"}],
            }
        )
    )
    report = audit_sources(inventory, _lineage(tmp_path, "s3://lake", "/"))
    assert [p[1][:2] for p in found(report, "ISO-001")] == [["lake-api", "lake"]]
    # the clean twin: the job reads another part of the bucket, not the API prefix
    report = audit_sources(inventory, _lineage(tmp_path, "s3://lake", "logs/2026/11/"))
    assert found(report, "ISO-001") == []


# ---- 2. a prefix is audited under its bucket's settings -----------------------------------


def test_a_bucket_policy_over_the_prefixes_grants_a_training_role(write_yaml: WriteYaml) -> None:
    trainer = role(
        "eval-harness",
        policies=[
            policy(
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake/*"},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::mix/*"},
            )
        ],
    )
    grant = {
        "Sid": "EvalRead",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{TRAINING}:role/eval-harness"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::lake/*",
    }
    lake = [{**LAKE[0], "policy": policy(grant)}, *LAKE[1:]]
    report = audit(write_yaml, stores=[*lake, MIX], principals=[trainer])
    assert found(report, "ISO-001") == [("potential", ["lake-api", "eval-harness", "mix"])]
    (finding,) = [f for f in report.findings if f.check == "ISO-001"]
    assert "EvalRead" in [e.statement.get("Sid") for e in finding.path[1].evidence if e.statement]
    assert verdicts(report, ["C1"]) == {"C1": "at-risk"}
    # clean twin: the bucket policy grants only the web prefix
    confined = {**grant, "Resource": "arn:aws:s3:::lake/web/*"}
    lake = [{**LAKE[0], "policy": policy(confined)}, *LAKE[1:]]
    report = audit(write_yaml, stores=[*lake, MIX], principals=[trainer])
    assert found(report, "ISO-001") == []


def test_a_same_account_bucket_policy_grant_needs_no_identity_policy(write_yaml: WriteYaml) -> None:
    reader = role(
        "reader",
        SERVING,
        policies=[policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::mix/*"})],
    )
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SERVING}:role/reader"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::lake/api/*",
    }
    lake = [{**LAKE[0], "policy": policy(grant)}, *LAKE[1:]]
    report = audit(write_yaml, stores=[*lake, {**MIX, "account": "serving"}], principals=[reader])
    assert found(report, "ISO-001") == [("potential", ["lake-api", "reader", "mix"])]


def test_public_read_of_a_sub_prefix_with_block_public_access_off(write_yaml: WriteYaml) -> None:
    public = {
        "Sid": "PublicSamples",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::lake/shared/*",
    }
    shared = prefix("shared", "lake/shared/", ["commercial-api"])
    lake = {**LAKE[0], "policy": policy(public), "public_access_blocked": False}
    report = audit(write_yaml, stores=[lake, shared, *LAKE[1:], MIX])
    assert found(report, "EXP-001") == [("potential", ["shared", "public"])]
    (finding,) = [f for f in report.findings if f.check == "EXP-001"]
    assert "PublicSamples" in [e.statement.get("Sid") for e in finding.path[1].evidence if e.statement]
    # Block Public Access is the bucket's: the prefix is audited under it
    exp003 = sorted(f.message for f in report.findings if f.check == "EXP-003")
    assert exp003 == sorted(f"{s} has S3 Block Public Access off" for s in ("lake-api", "shared"))
    assert verdicts(report, ["C10"]) == {"C10": "contradicted"}  # BPA off is itself a stated fact
    # clean twin: Block Public Access on at the bucket
    report = audit(write_yaml, stores=[{**lake, "public_access_blocked": True}, shared, *LAKE[1:], MIX])
    assert found(report, "EXP-001") == []
    assert verdicts(report, ["C10"]) == {"C10": "no-evidence-contradicting"}


def test_the_weaker_encryption_of_bucket_and_prefix_counts(write_yaml: WriteYaml) -> None:
    lake = [{**LAKE[0], "encryption": "none"}, *LAKE[1:]]
    report = audit(write_yaml, stores=[*lake, MIX])
    # the prefix is audited under its bucket's default encryption (the bucket itself holds no
    # protected class: containment does not give it the classes of what is inside)
    assert {f.message.split(" ")[0] for f in report.findings if f.check == "ENC-001"} == {"lake-api"}
    # the prefix stating strong encryption does not hide the bucket's none
    lake = [{**LAKE[0], "encryption": "none"}, {**LAKE[1], "encryption": "aws:kms"}, LAKE[2]]
    report = audit(write_yaml, stores=[*lake, MIX])
    assert "lake-api" in {f.message.split(" ")[0] for f in report.findings if f.check == "ENC-001"}
    report = audit(write_yaml, stores=[*LAKE, MIX])
    assert [f for f in report.findings if f.check == "ENC-001"] == []


# ---- 3. gates belong to what performs them ------------------------------------------------

CONSUMER = [
    bucket("chats-opt-in", classes=["consumer-opt-in"]),
    bucket("chats-opt-out", classes=["consumer-opt-out"]),  # read by nothing: in scope for ISO-003
    bucket("consented", "training", classes=["consumer-opt-in"], passed_gates=["consent-filter"]),
    bucket("sft", "training", classes=["training"]),
]
GATED_JOBS = [
    {
        "id": "consent-filter",
        "runs_as": "filter-role",
        "reads": ["chats-opt-in"],
        "writes": ["consented"],
        "gate": ["consent-filter"],
    },
    {"id": "pii-scrub", "runs_as": "scrub-role", "reads": ["consented"], "writes": ["sft"], "gate": ["pii-scrub"]},
]


def _gate_roles(**filter_role: Any) -> list[dict[str, Any]]:
    return [
        role("filter-role", can_read=["chats-opt-in"], can_write=["consented"], **filter_role),
        role("scrub-role", can_read=["consented"], can_write=["sft"]),
        role("sft-writer", can_write=["sft"]),
    ]


def test_a_gate_role_another_role_can_assume_is_no_gate(write_yaml: WriteYaml) -> None:
    """Whoever assumes the consent filter's role reads raw opted-in chats as it and can
    write them towards training around the filter: the role is not part of the gate."""
    principals = [*_gate_roles(trusts=["glue.amazonaws.com", "sft-writer"])]
    report = audit(write_yaml, stores=CONSUMER, principals=principals, jobs=GATED_JOBS)
    bypasses = [(f.details["bypassed_gate"], [h.node for h in f.path]) for f in report.findings if f.check == "ISO-004"]
    assert ("consent-filter", ["chats-opt-in", "filter-role", "sft-writer", "sft"]) in bypasses
    assert verdicts(report, ["C3"]) == {"C3": "at-risk"}
    # clean twin: only the Glue service assumes it (it runs the filter job): still the gate
    report = audit(write_yaml, stores=CONSUMER, principals=_gate_roles(), jobs=GATED_JOBS)
    assert [f for f in report.findings if f.check == "ISO-004"] == []
    assert verdicts(report, ["C3"]) == {"C3": "no-evidence-contradicting"}


def test_an_auditor_gate_mark_on_a_role_that_runs_an_export_is_not_applied(write_yaml: WriteYaml) -> None:
    jobs = [
        *GATED_JOBS,
        {"id": "chat-export", "runs_as": "filter-role", "reads": ["chats-opt-in"], "writes": ["consented"]},
    ]
    principals = _gate_roles(gate=["consent-filter"])
    report = audit(write_yaml, stores=CONSUMER, principals=principals, jobs=jobs)
    assert ("declared", ["chats-opt-in", "chat-export", "consented", "pii-scrub", "sft"]) in found(report, "ISO-004")
    gaps = [g for g in report.coverage.gaps if g.scope == "principal:filter-role"]
    assert gaps
    assert all("chat-export" in g.reason and "consent-filter" in g.reason for g in gaps)
    assert {"C3"} <= {c for g in gaps for c in g.claim_ids}
    # clean twin: the mark on a role whose every job is the filter is applied, and quiet
    report = audit(write_yaml, stores=CONSUMER, principals=principals, jobs=GATED_JOBS)
    assert not [g for g in report.coverage.gaps if g.scope == "principal:filter-role"]
    assert verdicts(report, ["C3"]) == {"C3": "no-evidence-contradicting"}


# ---- 4. data carries its classes ----------------------------------------------------------

API = bucket("api-logs", classes=["commercial-api"])


def test_an_unclassified_replica_of_the_api_logs_kept_400_days(write_yaml: WriteYaml) -> None:
    replica = bucket("api-logs-dr", retention_days=400)
    report = audit(write_yaml, stores=[{**API, "replicates_to": ["api-logs-dr"]}, replica])
    (finding,) = [f for f in report.findings if f.check == "RET-001"]
    assert finding.message == (
        "api-logs-dr keeps data for 400 days; its classes allow 30 days (commercial-api (derived from api-logs))"
    )
    assert verdicts(report, ["C4"]) == {"C4": "contradicted"}
    report = audit(write_yaml, stores=[{**API, "replicates_to": ["api-logs-dr"]}, {**replica, "retention_days": 30}])
    assert [f for f in report.findings if f.check.startswith("RET")] == []


def test_an_unencrypted_bucket_an_extract_job_fills_from_the_api_logs(write_yaml: WriteYaml) -> None:
    jobs = [{"id": "extract", "runs_as": "extractor", "reads": ["api-logs"], "writes": ["dump"]}]
    principals = [role("extractor", SERVING)]
    report = audit(write_yaml, stores=[API, bucket("dump", encryption="none")], principals=principals, jobs=jobs)
    (finding,) = [f for f in report.findings if f.check == "ENC-001"]
    assert "dump holds protected data (commercial-api (derived from api-logs via extract))" in finding.message
    assert verdicts(report, ["C9"]) == {"C9": "contradicted"}
    report = audit(write_yaml, stores=[API, bucket("dump")], principals=principals, jobs=jobs)
    assert [f for f in report.findings if f.check == "ENC-001"] == []


def test_a_gate_removes_only_the_classes_the_taxonomy_says(write_yaml: WriteYaml) -> None:
    """The consent filter drops opted-out records (their 30-day limit no longer applies
    downstream); it removes nothing else: the API data it also copies keeps its class."""
    stores = [
        bucket("chats", classes=["consumer-opt-out", "consumer-opt-in"]),
        bucket("filtered", "training", retention_days=365),
        {**API, "account": "serving"},
    ]
    jobs = [{"id": "filter", "runs_as": "f", "reads": ["chats"], "writes": ["filtered"], "gate": ["consent-filter"]}]
    report = audit(write_yaml, stores=stores, principals=[role("f")], jobs=jobs)
    assert [f for f in report.findings if f.check == "RET-001"] == []  # opt-in allows 5 years
    jobs[0]["reads"] = ["chats", "api-logs"]
    report = audit(write_yaml, stores=stores, principals=[role("f")], jobs=jobs)
    (finding,) = [f for f in report.findings if f.check == "RET-001"]
    assert "filtered keeps data for 365 days" in finding.message
    assert "commercial-api" in finding.message


# ---- 5. opted-out data reaches training only through the consent filter -------------------


def _mixed(write_yaml: WriteYaml, reads: list[str]) -> Report:
    stores = [
        bucket("chats", classes=["consumer-opt-in", "consumer-opt-out"]),
        bucket("consented", "training", classes=["consumer-opt-in"], passed_gates=["consent-filter"]),
        bucket("sft", "training", classes=["training"]),
    ]
    jobs = [
        {
            "id": "consent-filter",
            "runs_as": "filter-role",
            "reads": reads,
            "writes": ["consented"],
            "gate": ["consent-filter"],
        },
        {"id": "pii-scrub", "runs_as": "scrub-role", "reads": ["consented"], "writes": ["sft"], "gate": ["pii-scrub"]},
    ]
    principals = [role("filter-role"), role("scrub-role")]
    return audit(write_yaml, stores=stores, principals=principals, jobs=jobs)


def test_a_mixed_consumer_store_behind_the_consent_filter_audits_clean(write_yaml: WriteYaml) -> None:
    report = _mixed(write_yaml, ["chats"])
    assert [f for f in report.findings if f.check in ("ISO-003", "ISO-004")] == []
    assert verdicts(report, ["C3"]) == {"C3": "no-evidence-contradicting"}


def test_a_mixed_consumer_store_around_the_consent_filter_is_contradicted(write_yaml: WriteYaml) -> None:
    report = _mixed(write_yaml, ["chats"])
    stores = [
        bucket("chats", classes=["consumer-opt-in", "consumer-opt-out"]),
        bucket("sft", "training", classes=["training"]),
    ]
    jobs = [{"id": "chat-copy", "runs_as": "copier", "reads": ["chats"], "writes": ["sft"]}]
    report = audit(write_yaml, stores=stores, principals=[role("copier")], jobs=jobs)
    assert ("declared", ["chats", "chat-copy", "sft"]) in found(report, "ISO-003")
    assert verdicts(report, ["C3"]) == {"C3": "contradicted"}


# ---- 6. unknown is not none ---------------------------------------------------------------


def test_an_unstated_cross_account_bucket_policy_is_an_assumption_and_a_gap(write_yaml: WriteYaml) -> None:
    reader = role(
        "eval",
        policies=[
            policy(
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::api-logs/*"},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::mix/*"},
            )
        ],
    )
    unstated = {k: v for k, v in API.items() if k != "policy"}
    report = audit(write_yaml, stores=[unstated, MIX], principals=[reader])
    assert found(report, "ISO-001") == [("potential", ["api-logs", "eval", "mix"])]
    (finding,) = [f for f in report.findings if f.check == "ISO-001"]
    assert any(e.kind == "iam-assumption" and "bucket policy of api-logs" in e.detail for e in finding.path[1].evidence)
    (gap,) = [g for g in report.coverage.gaps if g.scope == "store:api-logs"]
    assert "public or a third party" in gap.reason
    assert "C10" in gap.claim_ids
    assert verdicts(report, ["C1", "C10"]) == {"C1": "at-risk", "C10": "insufficient-evidence"}
    # stated none: no cross-account grant, no gap
    report = audit(write_yaml, stores=[API, MIX], principals=[reader])
    assert found(report, "ISO-001") == []
    assert not [g for g in report.coverage.gaps if g.scope == "store:api-logs"]
    assert verdicts(report, ["C1", "C10"]) == {"C1": "no-evidence-contradicting", "C10": "no-evidence-contradicting"}


# ---- 7. bucket policies bind only their bucket --------------------------------------------


def test_a_bucket_policy_binds_only_the_resources_it_names_without_accounts(write_yaml: WriteYaml) -> None:
    """A Terraform-like estate: no store states its account. A public statement naming
    another bucket, or no bucket, grants this one nothing; a foreign account granted only
    reads cannot write."""
    statements = [
        {"Sid": "Other", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"},
        {"Sid": "NoBucket", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::/*"},
        {
            "Sid": "VendorRead",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::api-logs/*",
        },
    ]
    store = {k: v for k, v in API.items() if k != "account"} | {
        "policy": policy(*statements),
        "public_access_blocked": False,
    }
    report = audit(write_yaml, stores=[store])
    assert found(report, "EXP-001") == []
    assert found(report, "EXP-002") == [("potential", ["api-logs", FOREIGN])]
    (finding,) = [f for f in report.findings if f.check == "EXP-002"]
    assert "VendorRead" in [e.statement.get("Sid") for e in finding.path[1].evidence if e.statement]
    document = {"version": 1, "stores": [store]}
    graph = build_graph(load_inventory([str(write_yaml(yaml.safe_dump(document), "plan-like.yaml"))]))
    edges = {(u, v, d["kind"]) for u, v, d in graph.edge_items()}
    assert edges == {("store:api-logs", f"external:{FOREIGN}", "can-read")}  # no public edge, no write


def test_described_access_to_the_bucket_reads_the_prefix_inside_it(write_yaml: WriteYaml) -> None:
    """`can_read: [lake]` is access to the whole bucket, its API prefix included."""
    reader = role("copier", can_read=["lake"], can_write=["mix"])
    report = audit(write_yaml, stores=[*LAKE, MIX], principals=[reader])
    assert found(report, "ISO-001") == [("potential", ["lake-api", "lake", "copier", "mix"])]
    assert edges_of(report, "ISO-001") == [[None, "contained-in", "can-read", "can-write"]]
    # clean twin: access described on the web prefix alone
    report = audit(
        write_yaml, stores=[*LAKE, MIX], principals=[role("copier", can_read=["lake-web"], can_write=["mix"])]
    )
    assert found(report, "ISO-001") == []


def test_an_unclassified_copy_of_classified_data_is_followed_from_its_origin_not_unknown(write_yaml: WriteYaml) -> None:
    """ISO-007 is for content truly unknown: an unclassified store filled from the API logs
    holds API data (ISO-001 follows it from the logs); one nobody fills from a classified
    store stays unknown, and ISO-007 still reports it."""
    jobs = [
        {"id": "extract", "runs_as": "extractor", "reads": ["api-logs"], "writes": ["scratch"]},
        {"id": "mixer", "runs_as": "etl", "reads": ["scratch"], "writes": ["mix"]},
    ]
    principals = [role("extractor", SERVING), role("etl")]
    stores = [API, bucket("scratch", "training"), MIX]
    report = audit(write_yaml, stores=stores, principals=principals, jobs=jobs)
    assert found(report, "ISO-007") == []
    assert found(report, "ISO-001") == [("declared", ["api-logs", "extract", "scratch", "mixer", "mix"])]
    # the twin: nothing classified feeds the scratch bucket, so what it holds is unknown
    report = audit(write_yaml, stores=stores, principals=principals, jobs=jobs[1:])
    assert found(report, "ISO-007") == [("declared", ["scratch", "mixer", "mix"])]
    assert verdicts(report, ["C1"]) == {"C1": "insufficient-evidence"}
