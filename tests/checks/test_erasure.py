"""ERA-001: an erasure job erases what it writes, not what it reads; the erasure-reach table
lists each store under every origin whose data reaches it, not only the nearest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from audit.checkapi import CheckContext, Observation
from audit.coverage import CoverageGap
from audit.findings import Finding
from audit.graph.build import build_graph
from audit.sources import load_inventory
from checks import load_registry
from tests.conftest import WriteYaml

CHECK = load_registry(plugins=False).checks["ERA-001"]


def bucket(name: str, classes: list[str] | None = None, retention: int | None = 30) -> dict[str, Any]:
    return {
        "id": name,
        "kind": "s3-bucket",
        "arn": f"arn:aws:s3:::{name}",
        "classes": classes or [],
        "retention_days": retention,
    }


def job(name: str, reads: list[str], writes: list[str], kind: str = "etl") -> dict[str, Any]:
    return {"id": name, "kind": kind, "reads": reads, "writes": writes}


def evaluate(write_yaml: WriteYaml, stores: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> list[Any]:
    text = yaml.safe_dump({"version": 1, "stores": stores, "jobs": jobs}, sort_keys=False)
    inventory = load_inventory([str(write_yaml(text))])
    context = CheckContext(
        check=CHECK,
        inventory=inventory,
        graph=build_graph(inventory),
        params=CHECK.params.model_validate(dict(CHECK.defaults)),
        now=datetime.now(UTC),
    )
    return list(CHECK.evaluate(context))


def without_deletion_path(outcomes: list[Any]) -> set[str]:
    assert not [o for o in outcomes if isinstance(o, CoverageGap)], outcomes
    return {o.path[-1].node for o in outcomes if isinstance(o, Finding)}


# consumer chats are copied, by a nightly sync, into a bucket kept forever
CHATS = [bucket("chats", ["consumer-opt-in"]), bucket("chats-copy", retention=None)]
COPY = job("nightly-copy", ["chats"], ["chats-copy"], kind="sync")


def test_an_erasure_job_that_only_reads_a_copy_does_not_erase_it(write_yaml: WriteYaml) -> None:
    # the erasure job reads the copy (to find the person's records) but deletes only in chats
    erase = job("erase-requests", ["chats-copy"], ["chats"], kind="erasure")
    assert without_deletion_path(evaluate(write_yaml, CHATS, [COPY, erase])) == {"chats-copy"}


def test_an_erasure_job_that_writes_the_copy_erases_it(write_yaml: WriteYaml) -> None:
    erase = job("erase-requests", ["chats"], ["chats", "chats-copy"], kind="erasure")
    assert without_deletion_path(evaluate(write_yaml, CHATS, [COPY, erase])) == set()


def reach(outcomes: list[Any]) -> set[tuple[str, str, str]]:
    (table,) = [o for o in outcomes if isinstance(o, Observation)]
    assert table.total == len(table.rows)
    return {(origin, store, hops) for origin, store, hops, _ in table.rows}


# raw feedback is de-linked into feedback-delinked (itself feedback, an origin of its own),
# which a mix job writes into the pretraining mix; chats reach the mix too, in fewer hops
LAYERED = [
    bucket("feedback-raw", ["feedback"]),
    bucket("feedback-delinked", ["feedback"]),
    bucket("chats", ["consumer-opt-in"]),
    bucket("mix"),
    bucket("archive"),
]
LAYERED_JOBS = [
    job("de-link", ["feedback-raw"], ["feedback-delinked"]),
    job("mix-job", ["feedback-delinked", "chats"], ["mix"]),
    job("archive-job", ["chats"], ["archive"]),
]


def test_each_store_is_listed_under_every_origin_whose_data_reaches_it(write_yaml: WriteYaml) -> None:
    rows = reach(evaluate(write_yaml, LAYERED, LAYERED_JOBS))
    # a deletion scoped from raw feedback must reach the mix, though feedback-delinked and chats are nearer to it
    assert ("feedback-raw", "mix", "4") in rows
    assert ("feedback-raw", "feedback-delinked", "2") in rows
    assert ("feedback-delinked", "mix", "2") in rows
    assert ("chats", "mix", "2") in rows


def test_no_store_is_listed_under_an_origin_that_does_not_reach_it(write_yaml: WriteYaml) -> None:
    rows = reach(evaluate(write_yaml, LAYERED, LAYERED_JOBS))
    assert rows == {
        ("feedback-raw", "feedback-raw", "0"),
        ("feedback-raw", "feedback-delinked", "2"),
        ("feedback-raw", "mix", "4"),
        ("feedback-delinked", "feedback-delinked", "0"),
        ("feedback-delinked", "mix", "2"),
        ("chats", "chats", "0"),
        ("chats", "mix", "2"),
        ("chats", "archive", "2"),
    }


def test_the_table_keeps_its_first_rows_and_counts_them_all(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checks import erasure

    monkeypatch.setattr(erasure, "REACH_ROWS", 4)
    monkeypatch.setattr(erasure, "REACH_CELLS", 1)  # one origin per block
    (table,) = [o for o in evaluate(write_yaml, LAYERED, LAYERED_JOBS) if isinstance(o, Observation)]
    assert table.total == 8
    assert [row[:3] for row in table.rows] == [
        ["chats", "chats", "0"],
        ["chats", "archive", "2"],
        ["chats", "mix", "2"],
        ["feedback-delinked", "feedback-delinked", "0"],
    ]
