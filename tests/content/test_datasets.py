"""Readers: local files and formats, chunking, values as text, locations, faults."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit.content.datasets import (
    OBJECT,
    ROW,
    DataObject,
    Dataset,
    ReadFault,
    Storage,
    read_chunks,
    sampled,
    store_location,
)
from audit.model import Provenance, Store

RECORDS = [
    {"text": f"record number {i}", "flag": i % 2 == 0, "count": i, "nested": {"k": [i]}, "maybe": None}
    for i in range(1, 8)
]


def _jsonl(path: Path, records: list[dict[str, object]], compress: bool = False) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _read_all(path: Path, fmt: str, chunk_rows: int = 3, compress: bool = False) -> list[dict[str, object]]:
    obj = DataObject(str(path), path.stat().st_size, fmt, compress)
    rows: list[dict[str, object]] = []
    for chunk in read_chunks(Storage(), obj, 4, chunk_rows):
        assert len(chunk.frame) <= chunk_rows
        rows.extend(chunk.frame.to_dict("records"))
    return rows


@pytest.mark.parametrize("compress", [False, True])
def test_jsonl_in_chunks_with_row_numbers_and_text_values(tmp_path: Path, compress: bool) -> None:
    path = _jsonl(tmp_path / ("r.jsonl.gz" if compress else "r.jsonl"), RECORDS, compress)
    rows = _read_all(path, "jsonl", compress=compress)
    assert [r[ROW] for r in rows] == list(range(1, 8))
    assert {r[OBJECT] for r in rows} == {4}
    assert rows[0]["text"] == "record number 1"
    assert rows[0]["flag"] == "false"
    assert rows[1]["flag"] == "true"
    assert rows[0]["count"] == "1"
    assert rows[0]["nested"] == '{"k": [1]}'
    assert rows[0]["maybe"] is None


def test_csv_and_parquet_give_the_same_text(tmp_path: Path) -> None:
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("text,count\nhello world,1\n,2\nlast one,3\n")
    rows = _read_all(csv_path, "csv", chunk_rows=2)
    assert [(r["text"], r["count"], r[ROW]) for r in rows] == [
        ("hello world", "1", 1),
        (None, "2", 2),
        ("last one", "3", 3),
    ]
    parquet_path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"text": ["hello world", None, "last one"], "count": [1, 2, 3]}), parquet_path)
    parquet_rows = _read_all(parquet_path, "parquet", chunk_rows=2)
    assert [(r["text"], r["count"], r[ROW]) for r in parquet_rows] == [
        ("hello world", "1", 1),
        (None, "2", 2),
        ("last one", "3", 3),
    ]


def test_text_columns_are_those_holding_strings(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "r.jsonl", RECORDS)
    (chunk,) = list(read_chunks(Storage(), DataObject(str(path), 1, "jsonl", False), 0, 100))
    assert chunk.text_columns == ["text"]


@pytest.mark.parametrize(
    ("name", "content", "fmt", "compress", "message"),
    [
        ("bad.jsonl", b'{"a": 1}\n{"a": \n', "jsonl", False, "bad.jsonl:2"),
        ("list.jsonl", b'{"a": 1}\n[1, 2]\n', "jsonl", False, "must be an object"),
        ("cut.jsonl.gz", gzip.compress(b'{"a": "x"}\n' * 1000)[:-30], "jsonl", True, "unreadable after record"),
        ("cut.parquet", b"PAR1 not really parquet", "parquet", False, "unreadable Parquet"),
        ("latin.jsonl", '{"a": "caf\u00e9"}\n'.encode("latin-1"), "jsonl", False, "unreadable"),
    ],
)
def test_faults_name_the_object_and_the_row(
    tmp_path: Path, name: str, content: bytes, fmt: str, compress: bool, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadFault) as caught:
        list(read_chunks(Storage(), DataObject(str(path), len(content), fmt, compress), 0, 10))
    assert message in str(caught.value)
    assert name in str(caught.value)


def _dataset(location: str, fmt: str | None = None) -> Dataset:
    return Dataset(store="s", role="training", location=location, stated_at="inv.yaml:3", format=fmt)


def test_listing_a_directory_skips_markers_and_names_unknown_formats(tmp_path: Path) -> None:
    (tmp_path / "part-0.jsonl").write_text('{"a": "b"}\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part-1.csv.gz").write_bytes(gzip.compress(b"a\nb\n"))
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".part-0.jsonl.crc").write_text("")
    objects = Storage().list_objects(_dataset(str(tmp_path)))
    assert [(Path(o.uri).name, o.format, o.gzip) for o in objects] == [
        ("part-0.jsonl", "jsonl", False),
        ("part-1.csv.gz", "csv", True),
    ]
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.bin").write_text("x")
    with pytest.raises(ReadFault, match="set the store's format"):
        Storage().list_objects(_dataset(str(other)))
    assert [o.format for o in Storage().list_objects(_dataset(str(other), "csv"))] == ["csv"]
    with pytest.raises(ReadFault, match="no such file or directory"):
        Storage().list_objects(_dataset(str(tmp_path / "missing")))


def test_locations_resolve_against_the_inventory_file(tmp_path: Path) -> None:
    inventory = tmp_path / "org" / "inventory.yaml"
    stated = Store(id="a", classes=["training"], location="data/a/")
    stated.provenance = Provenance(source="inventory", location=f"{inventory}:7", fields={"location": f"{inventory}:9"})
    assert store_location(stated) == (str((tmp_path / "org" / "data" / "a").resolve()), f"{inventory}:9")
    by_arn = Store(id="b", classes=["training"], arn="arn:aws:s3:::example-mix/part/*")
    assert store_location(by_arn) == ("s3://example-mix/part/", "arn:aws:s3:::example-mix/part/*")
    s3 = Store(id="c", classes=["training"], location="s3://bucket/key.parquet")
    assert store_location(s3) is not None
    assert store_location(s3)[0] == "s3://bucket/key.parquet"  # type: ignore[index]
    assert store_location(Store(id="d", classes=["training"])) is None


def test_sampling_is_deterministic_and_independent_of_chunking(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "r.jsonl", [{"text": f"row {i}"} for i in range(2000)])
    obj = DataObject(str(path), path.stat().st_size, "jsonl", False)
    small = [r for c in read_chunks(Storage(), obj, 0, 7, 0.25) for r in c.frame[ROW].tolist()]
    large = [r for c in read_chunks(Storage(), obj, 0, 1000, 0.25) for r in c.frame[ROW].tolist()]
    assert small == large
    assert 400 < len(small) < 600
    import numpy as np

    rows = np.arange(1, 2001)
    assert sampled("a", rows, 0.25).tolist() == sampled("a", rows, 0.25).tolist()
    assert sampled("a", rows, 0.25).tolist() != sampled("b", rows, 0.25).tolist()
