"""Where a store's data is and how to read it, in bounded memory.

A store's content lives at its ``location`` (an ``s3://`` URI, or a local path relative to
the inventory file that states it) or, for S3 stores, at its ARN. A location names one
object or a prefix (directory) of objects; each object is Parquet, JSON Lines or CSV
(optionally gzip), by the store's ``format`` or the object's extension.

Objects are read as a stream of chunks of at most ``chunk_rows`` records. Every value is
handed over as text (JSON spelling for numbers, booleans and nested values), so the pandas
and Spark engines compare exactly the same strings; each chunk carries ``__object`` (the
object's index in its dataset) and ``__row`` (the record's 1-based number in its object).
A fault (access denied, a truncated file, a malformed line) raises :class:`ReadFault`
naming the object and the row, which the scan turns into a coverage gap.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from audit.inventory import Inventory
from audit.locations import s3_identity
from audit.model import Store

OBJECT = "__object"
ROW = "__row"
EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
# Object names that are not data: markers and metadata written by Spark, Hive and friends.
SKIPPED_NAMES = ("_SUCCESS", "_committed_", "_started_", ".crc", "_metadata", "_common_metadata")
Role = Literal["protected", "training"]


class ReadFault(Exception):
    """An object (or a location) could not be read: the scan records it as a gap."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class DataObject:
    uri: str  # s3://bucket/key, or a local path
    size: int
    format: str
    gzip: bool


@dataclass
class Dataset:
    """One store's data, as the scan reads it."""

    store: str
    role: Role
    location: str
    stated_at: str  # where the location comes from (inventory line, or the ARN)
    classes: tuple[str, ...] = ()
    canaries: tuple[str, ...] = ()
    canaries_at: str = ""
    format: str | None = None
    objects: list[DataObject] = field(default_factory=list)


def _file_of(where: str) -> Path | None:
    """The inventory file of a provenance location such as ``inv.yaml:12``."""
    head, _, tail = where.rpartition(":")
    candidate = head if tail.isdigit() else where
    path = Path(candidate)
    return path if path.suffix in (".yaml", ".yml", ".json") else None


def store_location(store: Store) -> tuple[str, str] | None:
    """(location, where it was stated) for a store, or None when nothing says where it is.

    A local location is resolved against the directory of the inventory file stating it."""
    provenance = store.provenance
    if store.location:
        where = provenance.at("location") if provenance else "(inventory)"
        location = store.location
        if not location.startswith(("s3://", "s3a://", "s3n://")) and not os.path.isabs(location):
            stated_in = _file_of(where)
            base = stated_in.parent if stated_in is not None else Path.cwd()
            location = str((base / location).resolve())
        return location, where
    if store.arn:
        identity = s3_identity(store.arn)
        if identity is not None:
            return identity, provenance.at("arn") if provenance else store.arn
    return None


def plan_datasets(inventory: Inventory, role: Role, stores: list[Store]) -> list[Dataset]:
    planned = []
    for store in stores:
        located = store_location(store)
        provenance = store.provenance
        planned.append(
            Dataset(
                store=store.id,
                role=role,
                location=located[0] if located else "",
                stated_at=located[1] if located else (provenance.location if provenance else "(inventory)"),
                classes=tuple(store.classes),
                canaries=tuple(store.canaries),
                canaries_at=provenance.at("canaries") if provenance else "(inventory)",
                format=store.format,
            )
        )
    return planned


def display(uri: str) -> str:
    """A location as the report shows it: local paths relative to the working directory."""
    if uri.startswith("s3://"):
        return uri
    try:
        relative = os.path.relpath(uri)
    except ValueError:
        return uri
    return uri if relative.startswith("..") else relative


def _format_of(name: str, stated: str | None) -> tuple[str | None, bool]:
    lowered = name.lower()
    compressed = lowered.endswith(".gz")
    if compressed:
        lowered = lowered[:-3]
    if stated:
        return stated, compressed
    return EXTENSIONS.get(os.path.splitext(lowered)[1]), compressed


def _is_data(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return bool(base) and not base.startswith((".", "_")) and not base.endswith(SKIPPED_NAMES)


S3ClientFactory = Callable[[], Any]


class Storage:
    """Lists and opens objects on the local disk and in S3 (read-only clients only)."""

    def __init__(self, s3_client: S3ClientFactory | None = None) -> None:
        self._factory = s3_client
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            if self._factory is None:
                from audit.sources.aws.session import CONTENT_CALLS, client, read_only_session

                self._client = client(read_only_session(allowed=CONTENT_CALLS), "s3")
            else:
                self._client = self._factory()
        return self._client

    def list_objects(self, dataset: Dataset) -> list[DataObject]:
        """The data objects at the dataset's location, in name order."""
        location = dataset.location
        found: list[DataObject] = []
        skipped: list[str] = []
        for uri, size in self._list(location):
            name = uri.rsplit("/", 1)[-1]
            if not _is_data(uri):
                continue
            fmt, compressed = _format_of(name, dataset.format)
            if fmt is None:
                skipped.append(name)
                continue
            found.append(DataObject(uri=uri, size=size, format=fmt, gzip=compressed))
        if not found:
            extra = f" (not data by extension: {', '.join(skipped[:3])}; set the store's format)" if skipped else ""
            raise ReadFault(display(location), f"no Parquet, JSON Lines or CSV object found{extra}")
        return found

    def _list(self, location: str) -> list[tuple[str, int]]:
        if location.startswith(("s3://", "s3a://", "s3n://")):
            return self._list_s3(location)
        path = Path(location)
        if path.is_file():
            return [(str(path), path.stat().st_size)]
        if path.is_dir():
            return [(str(p), p.stat().st_size) for p in sorted(path.rglob("*")) if p.is_file()]
        raise ReadFault(display(location), "no such file or directory")

    def _list_s3(self, location: str) -> list[tuple[str, int]]:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, prefix = location.split("://", 1)[1].partition("/")
        try:
            paginator = self._s3().get_paginator("list_objects_v2")
            objects = [
                (str(item["Key"]), int(item["Size"]))
                for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for item in page.get("Contents", [])
            ]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "error"), error.get("Message", "")
            raise ReadFault(location, f"cannot list: {code}: {message}") from None
        except BotoCoreError as exc:
            raise ReadFault(location, f"cannot list: {exc}") from None
        exact = [(key, size) for key, size in objects if key == prefix]
        chosen = exact or [(key, size) for key, size in objects if not key.endswith("/")]
        return [(f"s3://{bucket}/{key}", size) for key, size in chosen]

    def open(self, obj: DataObject) -> IO[bytes]:
        """A binary stream of the object's bytes (decompressed when gzip)."""
        raw = self._open_raw(obj)
        return gzip.GzipFile(fileobj=raw) if obj.gzip else raw  # type: ignore[return-value]

    def _open_raw(self, obj: DataObject) -> IO[bytes]:
        if not obj.uri.startswith("s3://"):
            try:
                return open(obj.uri, "rb")
            except OSError as exc:
                raise ReadFault(display(obj.uri), f"cannot open: {exc.strerror or exc}") from None
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, key = obj.uri[5:].partition("/")
        try:
            body = self._s3().get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "error"), error.get("Message", "")
            raise ReadFault(obj.uri, f"cannot read: {code}: {message}") from None
        except BotoCoreError as exc:
            raise ReadFault(obj.uri, f"cannot read: {exc}") from None
        return io.BufferedReader(_BodyStream(body, obj.uri), 1 << 20)


class _BodyStream(io.RawIOBase):
    """A botocore streaming body as a file object whose read errors are ReadFaults."""

    def __init__(self, body: Any, uri: str) -> None:
        self._body = body
        self._uri = uri

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        from botocore.exceptions import BotoCoreError

        try:
            data = self._body.read(len(buffer))
        except BotoCoreError as exc:
            raise ReadFault(self._uri, f"the download broke off: {exc}") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


# --- reading ----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A value as the engines compare it: strings as they are, everything else in JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):  # NaN: missing
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


@dataclass
class Chunk:
    """Records of one object: ``frame`` holds text columns plus __object and __row;
    ``text_columns`` are the columns whose values were strings at the source."""

    frame: pd.DataFrame
    text_columns: list[str]
    rows_read: int  # before sampling


def _frame(records: dict[str, list[Any]], clean: set[str], index: int, first_row: int, count: int) -> pd.DataFrame:
    """A chunk's frame; columns in ``clean`` hold only str and None already."""
    columns = {
        name: pd.Series(values if name in clean else [_text(v) for v in values], dtype="object")
        for name, values in records.items()
    }
    frame = pd.DataFrame(columns, index=pd.RangeIndex(count))
    frame[OBJECT] = np.full(count, index, dtype=np.int32)
    frame[ROW] = np.arange(first_row, first_row + count, dtype=np.int64)
    return frame


def _jsonl(stream: IO[bytes], obj: DataObject, index: int, chunk_rows: int) -> Iterator[Chunk]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
    records: list[dict[str, Any]] = []
    first = 1
    row = 0
    try:
        for line_number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReadFault(f"{display(obj.uri)}:{line_number}", f"not a JSON record ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ReadFault(f"{display(obj.uri)}:{line_number}", "a JSON Lines record must be an object")
            records.append(record)
            row += 1
            if len(records) >= chunk_rows:
                yield _records_chunk(records, index, first)
                first = row + 1
                records = []
    except (UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise ReadFault(display(obj.uri), f"unreadable after record {row}: {exc}") from None
    if records:
        yield _records_chunk(records, index, first)


def _records_chunk(records: list[dict[str, Any]], index: int, first: int) -> Chunk:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {name: [r.get(name) for r in records] for name in names}
    text = [n for n, values in columns.items() if any(isinstance(v, str) for v in values)]
    clean = {n for n in text if all(v is None or isinstance(v, str) for v in columns[n])}
    return Chunk(_frame(columns, clean, index, first, len(records)), text, len(records))


def _csv(stream: IO[bytes], obj: DataObject, index: int, chunk_rows: int) -> Iterator[Chunk]:
    first = 1
    try:
        reader = pd.read_csv(
            stream, chunksize=chunk_rows, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
        )
        for part in reader:
            count = len(part)
            columns = {str(c): part[c].astype(object).where(part[c].notna(), None).tolist() for c in part.columns}
            yield Chunk(_frame(columns, set(columns), index, first, count), list(columns), count)
            first += count
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise ReadFault(display(obj.uri), f"unreadable after row {first - 1}: {exc}") from None
    except pd.errors.EmptyDataError:
        return


def _parquet(stream: IO[bytes], obj: DataObject, index: int, chunk_rows: int) -> Iterator[Chunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryFile() as spool:
        seekable: IO[bytes]
        if obj.uri.startswith("s3://") or obj.gzip:
            shutil.copyfileobj(stream, spool, 1 << 20)  # Parquet needs random access: spool to disk
            spool.seek(0)
            seekable = spool
        else:
            seekable = stream
        first = 1
        try:
            parquet = pq.ParquetFile(seekable)
            text = [
                f.name
                for f in parquet.schema_arrow
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type)
            ]
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                count = batch.num_rows
                columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
                yield Chunk(_frame(columns, set(text), index, first, count), text, count)
                first += count
        except (pa.ArrowException, OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ReadFault(display(obj.uri), f"unreadable Parquet after row {first - 1}: {exc}") from None


READERS = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}


def read_chunks(
    storage: Storage, obj: DataObject, index: int, chunk_rows: int, sample_rate: float = 1.0
) -> Iterator[Chunk]:
    """The object's records in chunks; with ``sample_rate`` < 1, a deterministic Bernoulli
    sample of them (the same rows whatever the engine or the chunk size)."""
    stream = storage.open(obj)
    try:
        for chunk in READERS[obj.format](stream, obj, index, chunk_rows):
            if sample_rate < 1.0:
                keep = sampled(obj.uri, chunk.frame[ROW].to_numpy(), sample_rate)
                chunk.frame = chunk.frame.loc[keep].reset_index(drop=True)
            yield chunk
    finally:
        stream.close()


def _splitmix64(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def sampled(uri: str, rows: np.ndarray, rate: float) -> np.ndarray:
    """Which rows of an object a sample at ``rate`` keeps: a pure function of (object, row)."""
    seed = np.uint64(int.from_bytes(hashlib.sha256(uri.encode()).digest()[:8], "little"))
    with np.errstate(over="ignore"):
        draws = _splitmix64(rows.astype(np.uint64) ^ seed)
    return (draws >> np.uint64(11)).astype(np.float64) / float(1 << 53) < rate
