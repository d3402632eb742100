"""No absolute machine path in any format: paths are shown relative to the working directory.

A report travels (to a regulator, into a ticket, onto a pull request); the auditor's home
directory and the CI runner's checkout path are no part of the evidence, and they make two
runs of the same estate on two machines differ. Each absolute path the run read (inputs,
the suite, the waivers file) is rewritten, wherever it appears in the report (input list,
evidence locations, gaps), as the same path relative to the working directory. A built-in
suite is named as such; its sha256 says which text it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_ABSOLUTE = re.compile(r"^(?P<option>--[A-Za-z0-9-]+=)?(?P<path>/[^\s]*)$")


def relative(path: str, base: Path) -> str:
    """``path`` relative to ``base`` when it is absolute (with ``..`` when outside it); else as given."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return path
    try:
        return candidate.relative_to(base).as_posix() or "."
    except ValueError:
        try:
            return Path(os.path.relpath(candidate, base)).as_posix()
        except ValueError:  # another drive (Windows): no relative form exists
            return candidate.name


def relative_command(arguments: Iterable[str], base: Path) -> list[str]:
    """Each argument that is an absolute path (or ``--option=/path``) made relative to ``base``."""
    out = []
    for argument in arguments:
        match = _ABSOLUTE.match(argument)
        out.append(f"{match['option'] or ''}{relative(match['path'], base)}" if match else argument)
    return out


def rewrite(document: Any, roots: Iterable[str], base: Path) -> Any:
    """``document`` (JSON-like) with every occurrence of each absolute root replaced by its
    relative form. Longest roots first, so a file inside a listed directory keeps its tail."""
    replacements = sorted(
        {(root.rstrip("/"), relative(root.rstrip("/"), base)) for root in roots if Path(root).is_absolute()},
        key=lambda pair: -len(pair[0]),
    )
    if not replacements:
        return document
    # a root counts only as a whole path: not inside a longer one, before or after it
    alternatives = "|".join(re.escape(root) for root, _ in replacements)
    pattern = re.compile(r"(?<![^\s=\"'(,\[])(?:" + alternatives + r")(?=$|[/:\s\"'),\]])")
    table = dict(replacements)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: table[m.group(0)], value) if "/" in value else value
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(document)


def did_you_mean(path: str) -> str:
    """A hint naming the nearest existing path to a mistyped one ('' when nothing is near):
    each part of the path is matched against what its parent directory holds."""
    import difflib

    parts = Path(path).parts
    found = Path(parts[0]) if parts and Path(parts[0]).is_absolute() else Path(".")
    fixed = False
    for part in parts[1:] if Path(path).is_absolute() else parts:
        if (found / part).exists():
            found = found / part
            continue
        try:
            names = [p.name for p in found.iterdir()] if found.is_dir() else []
        except OSError:
            return ""
        close = difflib.get_close_matches(part, names, n=1, cutoff=0.6)
        if not close:
            return ""
        found, fixed = found / close[0], True
    return f"did you mean {found.as_posix()}?" if fixed else ""
