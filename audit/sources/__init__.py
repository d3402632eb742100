"""Sources: turn what the user points at into one merged :class:`Inventory`.

A SOURCE on the command line is a file (detected by content), a directory (every
source file directly in it, sorted) or ``aws`` / ``aws:PROFILE``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from audit.errors import InputError, Problem
from audit.inventory import InputRecord, Inventory
from audit.merge import merge_documents
from audit.sources import described

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


def load_inventory(specs: Sequence[str]) -> Inventory:
    """Load, validate and merge every source into one inventory."""
    if not specs:
        raise InputError(
            [
                Problem(
                    "(command line)", None, "SOURCE", "no source given", "name at least one inventory file or directory"
                )
            ]
        )
    fragments, records = load_fragments(expand(specs))
    return merge_documents(
        [f.document for f in fragments if f.document is not None],
        records,
        earlier_problems=[p for f in fragments for p in f.problems],
        invalid_ids={i for f in fragments for i in f.invalid_ids},
    )
