"""Sources: turn what the user points at into one merged :class:`Inventory`.

A SOURCE on the command line is a file (detected by content), a directory (every
source file directly in it, sorted) or ``aws`` / ``aws:PROFILE``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.inventory import InputRecord, Inventory
from audit.merge import merge_documents
from audit.sources import aws, described
from audit.sources.aws import AwsOptions, Progress

SOURCE_SUFFIXES = (".yaml", ".yml", ".json")


def expand(specs: Sequence[str]) -> list[Path]:
    """Files named by the specs, directories expanded; raise InputError for what is missing."""
    files: list[Path] = []
    problems: list[Problem] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES)
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
        elif path.is_file():
            files.append(path)
        else:
            problems.append(
                Problem(
                    spec,
                    None,
                    "",
                    "no such file or directory",
                    "give a path to an inventory file or a directory of them",
                )
            )
    if problems:
        raise InputError(problems)
    return files


def load_fragments(files: Sequence[Path]) -> tuple[list[described.Fragment], list[InputRecord]]:
    """Parse and validate every file, keeping the valid part of each and all problems."""
    fragments: list[described.Fragment] = []
    records: list[InputRecord] = []
    for path in files:
        filename = str(path)
        try:
            raw = described.get(path)
        except OSError as exc:
            problem = Problem(filename, None, "", f"cannot read: {exc.strerror or exc}")
            fragments.append(described.Fragment(None, [problem]))
            continue
        records.append(InputRecord(described.SOURCE, filename, hashlib.sha256(raw).hexdigest()))
        try:
            data, lines = described.parse(raw, filename)
        except InputError as exc:
            fragments.append(described.Fragment(None, exc.problems))
            continue
        fragments.append(described.transform(data, lines, filename, path.parent))
    return fragments, records


@dataclass(frozen=True)
class SourceOptions:
    """How to reach the sources that are not files (a live estate)."""

    aws: AwsOptions = field(default_factory=AwsOptions)
    progress: Progress | None = None


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
        loaded, loaded_records = load_fragments(expand([spec]))
        fragments.extend(loaded)
        records.extend(loaded_records)
    return merge_documents(
        [f.document for f in fragments if f.document is not None],
        records,
        gaps,
        earlier_problems=[p for f in fragments for p in f.problems],
        invalid_ids={i for f in fragments for i in f.invalid_ids},
    )
