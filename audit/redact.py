"""Secrets never reach a report. Evidence quotes configuration (policies, tags, lineage
facets), and configuration sometimes carries credentials: they are masked before the
report is assembled, so every format, report.json included, is safe to hand over."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MASK = "[REDACTED]"

PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(
        r"(?i:(aws_secret_access_key|secret[_-]?key|password|passwd|token|api[_-]?key))(\s*[=:]\s*)"
        r"([^\s,;\"']{8,})"
    ),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b"),  # API keys of model providers
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWTs
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # credentials in URLs
]
# Policy condition keys whose values are shared secrets.
SECRET_CONDITION_KEYS = ("sts:externalid",)


# One search tells whether any pattern may apply: most strings hold no secret at all.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in PATTERNS))
# Before it, a cheaper test: every pattern above contains one of these literals (the
# keywords in any case), so a string with none of them holds no secret. A report quotes
# hundreds of thousands of strings on a large estate.
_LITERALS = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA", "-----BEGIN ", "gh", "xox", "sk-", "eyJ")
_KEYWORDS = ("secret", "password", "passwd", "token", "api")
_URL_CREDENTIALS = ("://", "@")


def might_hold_secret(text: str) -> bool:
    for literal in _LITERALS:
        if literal in text:
            return True
    if _URL_CREDENTIALS[0] in text and _URL_CREDENTIALS[1] in text:
        return True
    lowered = text.lower()
    return any(keyword in lowered for keyword in _KEYWORDS)


@lru_cache(maxsize=1 << 16)  # a report repeats its ids, kinds and locations many times
def redact_text(text: str) -> str:
    if not might_hold_secret(text) or _ANY.search(text) is None:
        return text
    for pattern in PATTERNS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        else:
            text = pattern.sub(MASK, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with secrets masked (strings, and condition values whose
    key is a shared secret such as sts:ExternalId)."""
    if key.lower() in SECRET_CONDITION_KEYS:
        return MASK if isinstance(value, str) else [MASK for _ in value] if isinstance(value, list) else MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
