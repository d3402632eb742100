"""Where data lives: one spelling for every way of naming an S3 location."""

from __future__ import annotations

import re
from functools import lru_cache

_S3_ARN = re.compile(r"^arn:aws[\w-]*:s3:::([^/]+)(?:/(.*))?$")
_S3_URI = re.compile(r"^s3a?n?://([^/]+)/?(.*)$")


@lru_cache(maxsize=1 << 20)
def s3_identity(arn: str | None, location: str | None = None) -> str | None:
    """``s3://bucket/`` or ``s3://bucket/prefix/`` for any spelling of an S3 location.

    Cached: merging, reference resolution and access derivation all ask it of every store."""
    for pattern, text in ((_S3_ARN, arn), (_S3_URI, location)):
        match = pattern.match(text or "")
        if match:
            prefix = (match.group(2) or "").rstrip("*")
            if prefix and not prefix.endswith("/"):
                prefix += "/"
            return f"s3://{match.group(1)}/{prefix}"
    return None


def parent_locations(location: str) -> list[str]:
    """``s3://b/x/y/`` -> ``["s3://b/x/", "s3://b/"]``: the enclosing prefixes, nearest first."""
    parents = []
    probe = location
    while probe.count("/") > 3:
        probe = probe.rstrip("/").rsplit("/", 1)[0] + "/"
        parents.append(probe)
    return parents
