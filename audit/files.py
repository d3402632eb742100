"""Reading inputs and writing outputs safely.

Inputs must be regular files: a FIFO would block forever, ``/dev/zero`` would read until
memory runs out, and a dangling symlink or a loop is a file that cannot be read. Every input
is opened without blocking, checked with ``fstat`` on the open descriptor (so what is checked
is what is read) and read up to a size cap.

Outputs are written to a temporary file made by :func:`tempfile.mkstemp` in the output
directory (a new name, opened with ``O_EXCL``: a symlink planted there is never followed),
then renamed into place; every temporary file is removed on every exit path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from audit.errors import InputError, Problem

MIB = 1024 * 1024
# Sources (inventories, plans, lineage) and report.json: an estate of 10^5 stores and 10^6
# lineage edges is a few hundred MB of JSON.
MAX_SOURCE_BYTES = 2048 * MIB
# Small files a person writes: waivers, suites, account lists, keys, signatures.
MAX_SMALL_BYTES = 16 * MIB


_MAX_READ = 1 << 30  # Linux reads at most about 2 GiB at once


class Unreadable(Exception):
    """Why a path cannot be read as an input, in words for the user."""


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default: the sources' cap);
    :class:`Unreadable` otherwise."""
    limit = MAX_SOURCE_BYTES if limit is None else limit
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(_why(path, exc)) from None
    except ValueError:  # a NUL byte or a lone surrogate in the name
        raise Unreadable("has a name no file can have") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise Unreadable("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"is not a regular file ({_kind(info.st_mode)}); give a file")
        if info.st_size > limit:
            raise Unreadable(f"is larger than the {_size(limit)} an input may be ({_size(info.st_size)})")
        # the first read asks for the size fstat gave, so a large inventory is one allocation
        # and is not copied; more reads only if the file grew while it was read, up to the cap
        parts: list[bytes] = []
        total, budget = 0, limit + 1
        while total < budget:
            wanted = min(budget - total, max(info.st_size + 1 - total, MIB), _MAX_READ)
            chunk = os.read(descriptor, wanted)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        if total > limit:
            raise Unreadable(f"is larger than the {_size(limit)} an input may be")
        return parts[0] if len(parts) == 1 else b"".join(parts)
    except OSError as exc:
        raise Unreadable(_why(path, exc)) from None
    finally:
        os.close(descriptor)


def read_input(path: Path | str, limit: int | None = None, field: str = "", hint: str = "") -> bytes:
    """:func:`read_regular`, with failure as an :class:`InputError` naming the file (exit 2)."""
    try:
        return read_regular(path, limit)
    except Unreadable as exc:
        raise InputError([Problem(str(path), None, field, f"cannot read: it {exc}", hint)]) from None


def _why(path: Path | str, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "is a dangling symbolic link" if os.path.islink(path) else "does not exist"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop"
    if exc.errno == errno.ENAMETOOLONG:
        return "has a name too long for the file system"
    return f"cannot be read ({exc.strerror or exc})"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def _size(count: int) -> str:
    return f"{count / MIB:.0f} MiB" if count >= MIB else f"{count} bytes"


def write_set(directory: Path, outputs: Mapping[str, bytes], owned: frozenset[str] = frozenset()) -> list[Path]:
    """Write every output or none, then remove the files of ``owned`` this set does not hold.

    Each output goes to its own ``mkstemp`` file in ``directory``, is flushed and synced, and
    all are renamed into place only once all are written. Temporary files are removed on
    every exit path. Raises OSError.
    """
    directory.mkdir(parents=True, exist_ok=True)
    temporary: list[tuple[str, Path]] = []
    try:
        for name, content in outputs.items():
            descriptor, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            temporary.append((tmp, directory / name))
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, final in temporary:
            os.replace(tmp, final)
    finally:
        for tmp, _ in temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for stale in sorted(owned - set(outputs)):
        with contextlib.suppress(FileNotFoundError):
            (directory / stale).unlink()
    return [final for _, final in temporary]
