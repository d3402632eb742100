"""Sources: turn what the user points at into one merged :class:`Inventory`.

A SOURCE on the command line is a file (detected by content), a directory (every
source file directly in it, sorted) or ``aws`` / ``aws:PROFILE``.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.files import Unreadable, read_regular
from audit.inventory import InputRecord, Inventory
from audit.merge import merge_documents
from audit.paths import did_you_mean
from audit.sources import aws, described, openlineage, terraform
from audit.sources.aws import AwsOptions, Progress
from audit.sources.aws.tags import TagMapping
from audit.yamlfile import (
    SURROGATE_HINT,
    SURROGATE_MESSAGE,
    ParseFailure,
    decode,
    dotted,
    load_with_lines,
    lone_surrogate,
)

SOURCE_SUFFIXES = (".yaml", ".yml", ".json", ".ndjson", ".jsonl")


def expand(specs: Sequence[str]) -> list[Path]:
    """Files named by the specs, directories expanded; raise InputError for what is missing."""
    files: list[Path] = []
    problems: list[Problem] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            # every entry with a source's extension is a source: one that is not a readable
            # regular file (a dangling link, a loop, a FIFO) is named, never silently dropped
            members = sorted(p for p in path.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES)
            for member in members:
                problem = _unusable_member(member)
                if problem is not None:
                    problems.append(problem)
            if not members:
                problems.append(
                    Problem(
                        spec,
                        None,
                        "",
                        "the directory holds no inventory files",
                        f"expected files ending in {', '.join(SOURCE_SUFFIXES)}",
                    )
                )
            files.extend(members)
        elif path.exists() or path.is_symlink():
            files.append(path)  # whatever it is, reading it says what is wrong with it
        else:
            problems.append(
                Problem(
                    spec,
                    None,
                    "",
                    "no such file or directory",
                    did_you_mean(spec) or "give a path to an inventory file or a directory of them",
                )
            )
    if problems:
        raise InputError(problems)
    return files


def _unusable_member(member: Path) -> Problem | None:
    try:
        info = member.stat()
    except OSError as exc:
        try:
            read_regular(member, 0)
        except Unreadable as why:
            return Problem(str(member), None, "", f"cannot read: it {why}", "remove it or make it a readable file")
        return Problem(str(member), None, "", f"cannot read: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, device or socket)"
        return Problem(
            str(member), None, "", f"cannot read: it is {kind}", "sources in a directory must be regular files"
        )
    return None


@dataclass
class Loaded:
    """What one file contributes: a fragment (valid part and problems), its input record,
    and the coverage notes of its source."""

    fragment: described.Fragment
    record: InputRecord | None = None
    gaps: list[CoverageGap] = field(default_factory=list)


def load_file(path: Path, tags: TagMapping, since: datetime | None = None) -> Loaded:
    """One source file, its kind told by its content: a Terraform plan, OpenLineage events
    or an inventory."""
    filename = str(path)
    try:
        raw = read_regular(path)
    except Unreadable as exc:
        return Loaded(described.Fragment(None, [Problem(filename, None, "", f"cannot read: it {exc}")]))
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = decode(raw, filename)
    except ParseFailure as exc:
        return Loaded(described.Fragment(None, exc.problems), InputRecord(described.SOURCE, filename, digest))
    data = _as_json(text)
    surrogate = lone_surrogate(data, text) if data is not None else None
    if surrogate is not None:
        problem = Problem(filename, None, dotted(surrogate), SURROGATE_MESSAGE, SURROGATE_HINT)
        return Loaded(described.Fragment(None, [problem]), InputRecord(described.SOURCE, filename, digest))
    if terraform.looks_like(data):
        plan = terraform.transform(data, filename, digest, tags)
        return Loaded(described.Fragment(plan.document), plan.record, plan.gaps)
    if (data is None or "eventTime" in data) and openlineage.looks_like(text):
        lineage = openlineage.transform(text, filename, digest, since)
        return Loaded(described.Fragment(lineage.document), lineage.record, lineage.gaps)
    unknown = _unknown_kind(data, filename)
    if unknown is not None:
        return Loaded(described.Fragment(None, [unknown]), InputRecord(described.SOURCE, filename, digest))
    record = InputRecord(described.SOURCE, filename, digest)
    if isinstance(data, dict):  # JSON: the fast path, located by JSON pointer
        return Loaded(described.transform_json(data, text, filename, path.parent), record)
    try:
        parsed, lines = load_with_lines(text, filename)
    except ParseFailure as exc:
        return Loaded(described.Fragment(None, exc.problems), record)
    return Loaded(described.transform(parsed, lines, filename, path.parent), record)


PLAN_HINT = "write the plan with 'terraform show -json plan.out > plan.json'"
_PLAN_KEYS = ("planned_values", "resource_changes", "prior_state", "configuration", "terraform_version")
_EVENT_KEYS = ("eventTime", "eventType", "run", "job", "producer", "schemaURL")


def _unknown_kind(data: Any, filename: str) -> Problem | None:
    """A JSON document that is neither a plan, lineage nor an inventory, told in words that
    fit what it looks like (not the inventory's "add version: 1" to a Terraform file)."""
    if not isinstance(data, dict) or "version" in data:
        return None
    if "format_version" in data:
        if "values" in data and not any(k in data for k in ("planned_values", "resource_changes")):
            message = (
                "Terraform JSON that is not a plan but a state: it says what exists, not what a change will create"
            )
        else:
            message = "Terraform JSON that is not a plan: no planned_values or resource_changes"
        return Problem(filename, 1, "", message, PLAN_HINT)
    if any(k in data for k in _PLAN_KEYS):
        return Problem(
            filename, 1, "format_version", "looks like a Terraform plan but has no format_version", PLAN_HINT
        )
    if sum(k in data for k in _EVENT_KEYS) >= 2:
        return Problem(
            filename,
            1,
            "",
            "looks like one OpenLineage event written over several lines",
            "lineage files hold one event per line (NDJSON): write each event on a line of its own",
        )
    return None


def _as_json(text: str) -> Any:
    """JSON documents (plans can be large) are parsed without line tracking first."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError, _DuplicateKey):
        return None  # the YAML reader reports the problem with its line


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _qualify_job_names(fragments: list[described.Fragment]) -> list[Problem]:
    """Lineage names a job ``namespace/name``; another source (an overlay saying which role a
    job runs as) may name it by its bare name when exactly one lineage job has that name. A
    bare name two namespaces share is ambiguous: an input error naming both."""
    qualified: dict[str, set[str]] = {}
    for fragment in fragments:
        if fragment.document is None:
            continue
        for job in fragment.document.jobs:
            if job.provenance is not None and job.provenance.source == openlineage.SOURCE:
                qualified.setdefault(job.id.split("/", 1)[-1], set()).add(job.id)
    problems: list[Problem] = []
    if not qualified:
        return problems
    lineage_ids = {i for ids in qualified.values() for i in ids}
    for fragment in fragments:
        if fragment.document is None:
            continue
        for position, job in enumerate(fragment.document.jobs):
            if job.id in lineage_ids or (job.provenance and job.provenance.source == openlineage.SOURCE):
                continue
            candidates = sorted(qualified.get(job.id, ()))
            if len(candidates) == 1:
                job.id = candidates[0]
            elif len(candidates) > 1:
                location = job.provenance.location if job.provenance else "(inventory)"
                file, _, line = location.rpartition(":")
                problems.append(
                    Problem(
                        file if line.isdigit() else location,
                        int(line) if line.isdigit() else None,
                        f"jobs[{position}].id",
                        f"'{job.id}' names {len(candidates)} lineage jobs: {' and '.join(candidates)}",
                        "name the job as namespace/name",
                    )
                )
    return problems


@dataclass(frozen=True)
class SourceOptions:
    """How to reach the sources that are not files (a live estate)."""

    aws: AwsOptions = field(default_factory=AwsOptions)
    progress: Progress | None = None
    since: datetime | None = None  # lineage events before this are outside the audit period


AWS_SPEC = re.compile(r"^aws(?::(?P<profile>[^\s]+))?$")


def load_inventory(specs: Sequence[str], options: SourceOptions | None = None) -> Inventory:
    """Load, validate and merge every source, in the order given, into one inventory."""
    options = options or SourceOptions()
    if not specs:
        raise InputError(
            [
                Problem(
                    "(command line)", None, "SOURCE", "no source given", "name an inventory file or directory, or 'aws'"
                )
            ]
        )
    fragments: list[described.Fragment] = []
    records: list[InputRecord] = []
    gaps: list[CoverageGap] = []
    for spec in specs:
        match = AWS_SPEC.match(spec)
        if match and not Path(spec).exists():
            aws_options = options.aws
            if match.group("profile"):
                aws_options = replace(aws_options, profile=match.group("profile"))
            collected = aws.collect(aws_options, options.progress)
            fragments.append(described.Fragment(collected.document))
            records.append(collected.record)
            gaps.extend(collected.gaps)
            continue
        for path in expand([spec]):
            loaded = load_file(path, options.aws.tags, options.since)
            fragments.append(loaded.fragment)
            records.extend([loaded.record] if loaded.record else [])
            gaps.extend(loaded.gaps)
    naming = _qualify_job_names(fragments)
    return merge_documents(
        [f.document for f in fragments if f.document is not None],
        records,
        gaps,
        earlier_problems=[p for f in fragments for p in f.problems] + naming,
        invalid_ids={i for f in fragments for i in f.invalid_ids},
    )
