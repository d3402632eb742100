"""How a dataset's labels compare: ``Public_Web``, ``public web`` and ``PUBLIC-WEB`` are one label.

Provenance and consent columns are vocabulary written by many pipelines; a spelling must
neither hide opted-out data nor make clean data look like a violation.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_SEPARATORS = re.compile(r"[\s_\-]+")


def label_text(value: Any) -> str | None:
    """A cell as label text: None for a missing value, else its text (booleans as JSON spells them)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fold(label: Any) -> str:
    """A label as compared: NFKC, case folded, runs of ``-``, ``_`` and whitespace as one ``-``."""
    text = label_text(label)
    if text is None:
        return ""
    return _SEPARATORS.sub("-", unicodedata.normalize("NFKC", text).casefold()).strip("-")


def folded(labels: Iterable[Any]) -> frozenset[str]:
    return frozenset(f for f in (fold(label) for label in labels) if f)
