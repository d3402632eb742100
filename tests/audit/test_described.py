"""The described-inventory source: generated inventories load back intact, every entity
cites the line it is written on, and several files merge into one inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.sources import described, load_inventory
from tests.conftest import EXAMPLE_ORG

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    store_ids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    principal_ids = draw(st.lists(ids.map(lambda s: f"p-{s}"), max_size=5, unique=True))
    job_ids = draw(st.lists(ids.map(lambda s: f"j-{s}"), max_size=5, unique=True))
    stores = [
        {
            "id": s,
            "kind": draw(st.sampled_from(["s3-bucket", "s3-prefix", "table", "dataset"])),
            "account": "serving",
            "classes": draw(st.lists(st.sampled_from(["commercial-api", "training", "licensed"]), max_size=2)),
        }
        for s in store_ids
    ]
    principals = [
        {
            "id": p,
            "account": "training",
            "can_read": draw(st.lists(st.sampled_from(store_ids), max_size=3, unique=True)),
            "can_write": draw(st.lists(st.sampled_from(store_ids), max_size=3, unique=True)),
        }
        for p in principal_ids
    ]
    jobs = [
        {
            "id": j,
            "kind": draw(st.sampled_from(["etl", "training"])),
            "reads": draw(st.lists(st.sampled_from(store_ids), max_size=3, unique=True)),
            "writes": draw(st.lists(st.sampled_from(store_ids), max_size=3, unique=True)),
            **({"runs_as": draw(st.sampled_from(principal_ids))} if principal_ids else {}),
        }
        for j in job_ids
    ]
    return {
        "version": 1,
        "organisation": "Generated",
        "accounts": [
            {"id": "111111111111", "name": "serving", "zone": "serving"},
            {"id": "222222222222", "name": "training", "zone": "training"},
        ],
        "stores": stores,
        "principals": principals,
        "jobs": jobs,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inventories(), st.booleans())
def test_generated_inventories_load_with_their_lines(tmp_path: Path, document: dict[str, Any], flow: bool) -> None:
    path = tmp_path / "generated.yaml"
    text = yaml.safe_dump(document, default_flow_style=flow, sort_keys=False)
    path.write_text(text)
    inventory = load_inventory([str(path)])

    assert set(inventory.stores) == {s["id"] for s in document["stores"]}
    assert set(inventory.jobs) == {j["id"] for j in document["jobs"]}
    lines = text.splitlines()
    for job in inventory.jobs.values():
        assert job.provenance is not None
        for index, store_id in enumerate(job.reads):
            file, _, line = job.provenance.at(f"reads[{index}]").rpartition(":")
            assert file == str(path)
            assert store_id in lines[int(line) - 1]
    for store in inventory.stores.values():
        assert store.provenance is not None
        _, _, line = store.provenance.location.rpartition(":")
        # the entry starts on the cited line (flow style may wrap its keys onto the next)
        assert store.id in " ".join(lines[int(line) - 1 : int(line) + 1])


def test_example_org_merges_four_files() -> None:
    inventory = load_inventory([str(EXAMPLE_ORG)])
    assert inventory.organisation == "Example AI Lab"
    assert len(inventory.inputs) == 4
    assert {Path(i.path_or_uri).name for i in inventory.inputs} == {
        "org.yaml",
        "stores.yaml",
        "access.yaml",
        "pipelines.yaml",
    }
    assert all(len(i.sha256) == 64 for i in inventory.inputs)
    # data_classes merge over the built-in taxonomy instead of replacing it
    assert inventory.data_classes["consumer-opt-out"].protected is True
    assert inventory.data_classes["consumer-opt-out"].max_retention_days == 30
    assert inventory.data_classes["training"].training_sink is True


def test_relative_locations_resolve_against_the_inventory_file(tmp_path: Path) -> None:
    sub = tmp_path / "inv"
    sub.mkdir()
    (sub / "a.yaml").write_text(
        "version: 1\nstores:\n"
        "  - {id: local, kind: dataset, location: data/train.jsonl}\n"
        "  - {id: remote, kind: dataset, location: 's3://bucket/key.parquet'}\n"
    )
    fragment = described.load(sub / "a.yaml")
    assert fragment.document is not None
    stores = {s.id: s for s in fragment.document.stores}
    assert stores["local"].location == str((sub / "data" / "train.jsonl").resolve())
    assert stores["remote"].location == "s3://bucket/key.parquet"


def test_unquoted_account_ids_keep_their_digits(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("version: 1\naccounts:\n  - {id: 111111111111, name: serving, zone: serving}\n")
    inventory = load_inventory([str(path)])
    assert list(inventory.accounts) == ["111111111111"]
