"""Secrets never reach a report. Evidence quotes configuration (policies, tags, lineage
facets), and configuration sometimes carries credentials: they are masked before the
report is assembled, so every format, report.json included, is safe to hand over.

Detection is Yelp's detect-secrets (its AWS key, private key, basic auth, JWT, keyword and
Base64 high-entropy plugins), line by line, plus the shapes it leaves out that evidence does
quote: a bare 40-character AWS secret key, a ``Bearer``/``Basic`` token, a private key block
(PEM or PGP) whether or not its END line survived, URL credentials whose password holds ``/``
or ``@``, and vendor tokens (GitHub, Slack, model providers). Mapping keys are masked as well
as values (a secret may be a policy Condition key).

A cheap prefilter decides first whether a string can hold any of these: a report quotes
hundreds of thousands of strings on a large estate, nearly all ids and ARNs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

MASK = "[REDACTED]"

_WORD_EDGE = r"A-Za-z0-9_/+=-"
PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(
        r"(?i:(aws_secret_access_key|secret[_-]?(?:access[_-]?)?key|password|passwd|token|api[_-]?key))"
        r"([\"']?\s*[=:]\s*[\"']?)"
        r"([^\s,;\"'}]{8,})"
    ),
    # a private key block (PEM, OpenSSH, PGP), to its END line or, when that was cut off, to the end
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
    ),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b"),  # API keys of model providers
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWTs
    # credentials in URLs: everything between :// and the last @ before the host
    re.compile(r"(?<=://)[^\s/:@]+:\S+@(?=[A-Za-z0-9.-]+(?:[:/?#\s]|\Z))"),
    re.compile(r"(?i:\b(bearer|basic)(\s+))([A-Za-z0-9._~+/-]{8,}=*)"),  # Authorization header values
]
# A bare AWS secret access key: 40 characters of base64's alphabet, mixed case and digits.
_BARE_SECRET = re.compile(rf"(?<![{_WORD_EDGE}])[A-Za-z0-9/+]{{40}}(?![{_WORD_EDGE}])")
_BARE_ENTROPY = 4.0
# Policy condition keys whose values are shared secrets.
SECRET_CONDITION_KEYS = ("sts:externalid",)

# One search tells whether any pattern may apply: most strings hold no secret at all.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in PATTERNS))
# Before it, a cheaper test: every pattern above contains one of these literals (the
# keywords in any case), so a string with none of them holds no secret the patterns find.
_LITERALS = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA", "-----BEGIN ", "gh", "xox", "sk-", "eyJ")
# the keywords of the patterns above and of detect-secrets' keyword plugin (api_key, auth_key,
# private_key, db_pass, key_pass, password, passwd, pwd, secret, token)
_KEYWORDS = ("secret", "passw", "passwd", "pwd", "token", "api", "auth", "bearer", "basic", "priv", "_pass", "contrase")
_URL_CREDENTIALS = ("://", "@")
_QUOTES = ('"', "'")
_QUOTED_MIN = 20  # detect-secrets' Base64 entropy plugin looks at quoted strings this long and more


def might_hold_secret(text: str) -> bool:
    for literal in _LITERALS:
        if literal in text:
            return True
    if _URL_CREDENTIALS[0] in text and _URL_CREDENTIALS[1] in text:
        return True
    lowered = text.lower()
    if any(keyword in lowered for keyword in _KEYWORDS):
        return True
    if len(text) >= _QUOTED_MIN and any(q in text for q in _QUOTES):
        return True
    return len(text) >= 40 and _BARE_SECRET.search(text) is not None


@cache
def _detectors() -> tuple[Any, ...]:
    """detect-secrets' plugins, built once (each compiles its expressions)."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.keyword import KeywordDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    return (
        AWSKeyDetector(),
        PrivateKeyDetector(),
        BasicAuthDetector(),
        JwtTokenDetector(),
        KeywordDetector(),
        Base64HighEntropyString(limit=4.5),
    )


def _detected(text: str) -> Iterator[str]:
    """The secret values detect-secrets finds in ``text``, line by line. The keyword plugin
    reads as for YAML, which covers ``key: value``, ``key=value`` and quoted JSON alike."""
    for number, line in enumerate(text.splitlines() or [text], start=1):
        for detector in _detectors():
            for secret in detector.analyze_line(filename="evidence.yaml", line=line, line_number=number):
                if secret.secret_value and secret.type != "Private Key":  # a key's block is masked whole
                    yield str(secret.secret_value)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _bare_secret(match: re.Match[str]) -> str:
    token = match.group(0)
    mixed = any(c.islower() for c in token) and any(c.isupper() for c in token) and any(c.isdigit() for c in token)
    return MASK if mixed and _entropy(token) >= _BARE_ENTROPY else token


@lru_cache(maxsize=1 << 16)  # a report repeats its ids, kinds and locations many times
def redact_text(text: str) -> str:
    if not might_hold_secret(text):
        return text
    found = sorted(set(_detected(text)), key=len, reverse=True)
    if _ANY.search(text) is not None:
        for pattern in PATTERNS:
            if pattern.groups >= 3:
                text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
            else:
                text = pattern.sub(MASK, text)
    for value in found:  # whole tokens only: a one-letter secret does not mask every letter
        text = re.sub(rf"(?<![{_WORD_EDGE}]){re.escape(value)}(?![{_WORD_EDGE}])", MASK, text)
    return _BARE_SECRET.sub(_bare_secret, text) if len(text) >= 40 else text


def redact(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with secrets masked: strings, mapping keys, and condition
    values whose key is a shared secret such as sts:ExternalId."""
    if key.lower() in SECRET_CONDITION_KEYS:
        return MASK if isinstance(value, str) else [MASK for _ in value] if isinstance(value, list) else MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        result: dict[Any, Any] = {}
        for k, v in value.items():
            masked = redact_text(k) if isinstance(k, str) else k
            while masked in result:  # two secret keys stay two entries
                masked = f"{masked}'"
            result[masked] = redact(v, str(k))
        return result
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
