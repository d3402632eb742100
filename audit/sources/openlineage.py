"""The OpenLineage source: RunEvents (one JSON object per line, as Marquez exports them or
the file transport writes them) become jobs whose inputs and outputs are declared reads
and writes, each citing the line, run id, event time and producer it rests on. A JobEvent
(static lineage: a job's inputs and outputs without a run) gives the same edges, citing
"static lineage, line N"; a DatasetEvent declares a dataset, which becomes known. A job is
identified by (namespace, name), as ``namespace/name``, whatever else is in the run.

Every event is validated against the published OpenLineage schema. A line that is not an
event (truncated, malformed, invalid) is skipped and counted: the good lines are still
used and the bad ones become a coverage gap, because a lost event may hide a path.
Failed and aborted runs count too: they may have read, and partly written, their data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from audit.coverage import CoverageGap
from audit.files import read_input
from audit.inventory import InputRecord
from audit.model import InventoryDocument, Job, Provenance, Store
from audit.yamlfile import SURROGATE_MESSAGE, lone_surrogate

SOURCE = "openlineage"
SCHEMA = Path(__file__).parent / "schemas" / "OpenLineage.schema.json"
LINEAGE_CHECKS = ("ISO-*", "SEP-*", "ERA-*")
S3_SCHEMES = ("s3://", "s3a://", "s3n://")
MAX_REFERENCE = 512  # the inventory's identifier limit


@cache
def _validator(definition: str) -> Any:
    """A validator for one kind of event (RunEvent, DatasetEvent, JobEvent) of the published
    schema, so errors name the missing field instead of "matches none of three"."""
    schema = json.loads(SCHEMA.read_text())
    focused = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    # the schema's formats are part of the contract: eventTime is a date-time, runId a uuid,
    # producer and schemaURL URIs (rfc3339-validator and rfc3986-validator check them)
    cls = validator_for(schema)
    return cls(focused, format_checker=cls.FORMAT_CHECKER)


def _kind(event: dict[str, Any]) -> str:
    if "run" in event:
        return "RunEvent"
    return "DatasetEvent" if "dataset" in event else "JobEvent"


def looks_like(text: str) -> bool:
    """NDJSON whose first object has the shape of an OpenLineage event."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        event = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return isinstance(event, dict) and "eventTime" in event and ("run" in event or "job" in event or "dataset" in event)


def dataset_reference(namespace: str, name: str) -> str:
    """How a dataset is named in the inventory: an S3 URI (resolved to the store that holds
    it), else ``namespace/name`` (matched to a store whose ``location`` is that)."""
    if namespace.startswith(S3_SCHEMES):
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    if namespace in ("file", "file://") or namespace.startswith("file:"):
        return f"file://{name}" if name.startswith("/") else f"file:///{name}"
    return f"{namespace.rstrip('/')}/{name}"


@dataclass
class _Use:
    """One dataset a job touches in one direction, with the latest event that says so."""

    reference: str
    runs: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    latest: str = ""
    where: str = ""  # file:line of the latest event
    run: str = ""  # that event's run, state, time and producer
    columns: list[str] = field(default_factory=list)


@dataclass
class _JobDraft:
    namespace: str
    name: str
    reads: dict[str, _Use] = field(default_factory=dict)
    writes: dict[str, _Use] = field(default_factory=dict)
    description: str = ""
    first_line: int = 0


@dataclass
class Loaded:
    document: InventoryDocument
    record: InputRecord
    gaps: list[CoverageGap]
    events: int
    skipped_outside_window: int


def _events(text: str, filename: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, event or None, why it is not one)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield number, None, "not usable JSON: nested too deeply"
            continue
        except ValueError as exc:  # an integer beyond Python's digit limit
            yield number, None, f"not usable JSON: {str(exc)[:80]}"
            continue
        if not isinstance(event, dict):
            yield number, None, "not a JSON object"
            continue
        surrogate = lone_surrogate(event, line)
        if surrogate is not None:
            yield number, None, f"{'/'.join(str(p) for p in surrogate) or '(event)'} {SURROGATE_MESSAGE}"
            continue
        error = best_match(_validator(_kind(event)).iter_errors(event))
        if error is not None:
            where = "/".join(str(p) for p in error.path) or "(event)"
            yield number, None, f"not an OpenLineage event: {where}: {error.message[:120]}"
            continue
        yield number, event, ""


class _Unusable(Exception):
    """A line that is a valid event but cannot be used: counted as a bad line, with why."""


def _when(event: dict[str, Any]) -> datetime:
    stamp = str(event.get("eventTime", "")).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise _Unusable(f"eventTime {str(event.get('eventTime'))[:40]!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _use(jobs: dict[tuple[str, str], _JobDraft], event: dict[str, Any], filename: str, number: int) -> None:
    """Record one RunEvent's or JobEvent's reads and writes; the drafts change only if the whole
    event is usable."""
    job = event["job"]
    key = (str(job["namespace"]), str(job["name"]))
    qualified = job_id(*key)
    if len(qualified) > MAX_REFERENCE or any(c.isspace() for c in qualified):
        raise _Unusable(
            f"job {qualified[:60]!r} cannot name a job (over {MAX_REFERENCE} characters or holds whitespace)"
        )
    inputs = [_checked(d, "inputs", i) for i, d in enumerate(event.get("inputs") or [])]
    outputs = [_checked(d, "outputs", i) for i, d in enumerate(event.get("outputs") or [])]
    columns = [_column_lineage(d) for d in event.get("outputs") or []]
    documentation = _facet(job, "documentation")
    draft = jobs.setdefault(key, _JobDraft(*key, first_line=number))
    draft.description = str(documentation.get("description", "")) or draft.description
    where = f"{filename}:{number}"
    producer = f"producer {event.get('producer', 'unknown')}"
    if "run" in event:
        state = str(event.get("eventType", "OTHER"))
        run_id = str(event["run"]["runId"])
        run = f"run {run_id}, {state} at {event['eventTime']}, {producer}"
    else:  # a JobEvent: the job's inputs and outputs as its definition states them, without a run
        state, run_id = "STATIC", f"static lineage, line {number}"
        run = f"static lineage (JobEvent) at {event['eventTime']}, line {number}, {producer}"
    for reference in inputs:
        _record(draft.reads, reference, run_id, state, str(event["eventTime"]), where, run)
    for reference, mapped in zip(outputs, columns, strict=True):
        use = _record(draft.writes, reference, run_id, state, str(event["eventTime"]), where, run)
        use.columns = mapped or use.columns


def _facet(owner: dict[str, Any], name: str) -> dict[str, Any]:
    """A facet, or {} when absent; a facet that is not a mapping makes the event unusable."""
    facets = owner.get("facets") or {}
    facet = facets.get(name) if isinstance(facets, dict) else None
    if facet is None:
        return {}
    if not isinstance(facet, dict):
        raise _Unusable(f"facet {name!r} is not a mapping")
    return facet


def _checked(dataset: dict[str, Any], side: str, position: int) -> str:
    """The dataset's reference, if it can name a store (at most 512 characters, no whitespace)."""
    reference = _identity(dataset)
    if len(reference) > MAX_REFERENCE or any(c.isspace() for c in reference):
        raise _Unusable(
            f"{side}/{position}: dataset {reference[:60]!r}... cannot name a store "
            f"(longer than {MAX_REFERENCE} characters or holds whitespace)"
            if len(reference) > 60
            else f"{side}/{position}: dataset {reference!r} cannot name a store (holds whitespace)"
        )
    return reference


def transform(text: str, filename: str, digest: str, since: datetime | None = None) -> Loaded:
    jobs: dict[tuple[str, str], _JobDraft] = {}
    bad: list[tuple[int, str]] = []
    events = skipped = 0
    kinds = {"RunEvent": 0, "JobEvent": 0, "DatasetEvent": 0}
    datasets: dict[str, str] = {}  # datasets DatasetEvents declare -> where
    for number, event, why in _events(text, filename):
        if event is None:
            bad.append((number, why))
            continue
        try:
            if since is not None and _when(event) < since:
                skipped += 1
                continue
            if "dataset" in event and "job" not in event:
                reference = _checked(event["dataset"], "dataset", 0)
                datasets.setdefault(reference, f"{filename}:{number}")
            else:
                _use(jobs, event, filename, number)
        except _Unusable as exc:
            bad.append((number, str(exc)))
            continue
        events += 1
        kinds[_kind(event)] += 1
    document = InventoryDocument(version=1, jobs=_jobs(jobs, filename), stores=_stores(jobs, datasets))
    gaps = []
    if bad:
        listed = "; ".join(f"line {n}: {why}" for n, why in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        gaps.append(
            CoverageGap(
                scope=f"lineage:{filename}",
                checks=LINEAGE_CHECKS,
                reason=f"{len(bad)} of {len(bad) + events + skipped} lines could not be read as "
                f"OpenLineage events, so the flows they record are unknown: {listed}{more}",
            )
        )
    counts = (
        ("lines", len(bad) + events + skipped),
        ("run_events", kinds["RunEvent"]),
        ("job_events", kinds["JobEvent"]),
        ("dataset_events", kinds["DatasetEvent"]),
        ("outside_period", skipped),
        ("unreadable", len(bad)),
    )
    return Loaded(document, InputRecord(SOURCE, filename, digest, counts), gaps, events, skipped)


def _identity(dataset: dict[str, Any]) -> str:
    """The dataset's reference, preferring an S3 location its symlinks facet gives (Spark and
    Athena name a catalog table and link the files behind it)."""
    namespace, name = str(dataset["namespace"]), str(dataset["name"])
    if not namespace.startswith(S3_SCHEMES):
        symlinks = _facet(dataset, "symlinks").get("identifiers") or []
        for link in symlinks if isinstance(symlinks, list) else []:
            if isinstance(link, dict) and str(link.get("namespace", "")).startswith(S3_SCHEMES) and "name" in link:
                return dataset_reference(str(link["namespace"]), str(link["name"]))
    return dataset_reference(namespace, name)


def _record(uses: dict[str, _Use], reference: str, run_id: str, state: str, when: str, where: str, run: str) -> _Use:
    use = uses.setdefault(reference, _Use(reference))
    use.runs.add(run_id)
    use.states.add(state)
    if when >= use.latest:
        use.latest, use.where, use.run = when, where, run
    return use


def _column_lineage(dataset: dict[str, Any]) -> list[str]:
    fields = _facet(dataset, "columnLineage").get("fields") or {}
    mapped = []
    for column, spec in fields.items() if isinstance(fields, dict) else []:
        sources = spec.get("inputFields") if isinstance(spec, dict) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, dict):
                mapped.append(f"{source.get('name')}.{source.get('field')} -> {column}")
    return mapped


def _note(use: _Use) -> str:
    failed = sorted(use.states & {"FAIL", "ABORT"})
    real = [r for r in use.runs if not r.startswith("static lineage")]
    runs = f"{len(real)} run{'s' if len(real) != 1 else ''}" if real else "static lineage only"
    extra = f", including {'/'.join(failed).lower()}ed runs" if failed else ""
    columns = f"; columns {', '.join(use.columns[:5])}" if use.columns else ""
    return f"{use.run}; {runs}{extra}{columns}"


def job_id(namespace: str, name: str) -> str:
    """A job is identified by its namespace and name, in every file and every run."""
    return f"{namespace}/{name}".replace(" ", "_")


def _jobs(drafts: dict[tuple[str, str], _JobDraft], filename: str) -> list[Job]:
    jobs = []
    for (namespace, name), draft in sorted(drafts.items()):
        reads, writes = sorted(draft.reads), sorted(draft.writes)
        job = Job(
            id=job_id(namespace, name),
            reads=reads,
            writes=writes,
            description=draft.description or f"OpenLineage job {namespace}/{name}",
        )
        uses = [(f"reads[{i}]", draft.reads[r]) for i, r in enumerate(reads)]
        uses += [(f"writes[{i}]", draft.writes[w]) for i, w in enumerate(writes)]
        job.provenance = Provenance(
            source=SOURCE,
            location=f"{filename}:{draft.first_line}",
            fields={name: use.where for name, use in uses},
            notes={name: _note(use) for name, use in uses},
        )
        jobs.append(job)
    return jobs


def _stores(drafts: dict[tuple[str, str], _JobDraft], declared: dict[str, str]) -> list[Store]:
    """Datasets outside S3 become stores named by their location (S3 paths are resolved to
    the stores that hold them when sources merge), those DatasetEvents declare included."""
    stores: dict[str, Store] = {}
    for reference, where in declared.items():
        if not reference.startswith(S3_SCHEMES):
            store = Store(id=reference, kind="dataset", location=reference)
            store.provenance = Provenance(source=SOURCE, location=where)
            stores[reference] = store
    for draft in drafts.values():
        for reference, use in (*draft.reads.items(), *draft.writes.items()):
            if reference.startswith(S3_SCHEMES) or reference in stores:
                continue
            store = Store(id=reference, kind="dataset", location=reference)
            store.provenance = Provenance(source=SOURCE, location=use.where)
            stores[reference] = store
    return list(stores.values())


def load(path: Path, since: datetime | None = None) -> Loaded:
    raw = read_input(path)
    return transform(raw.decode("utf-8", errors="replace"), str(path), hashlib.sha256(raw).hexdigest(), since)


__all__ = ["SOURCE", "Loaded", "dataset_reference", "job_id", "load", "looks_like", "transform"]
