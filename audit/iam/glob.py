"""IAM wildcards (``*`` any run of characters, ``?`` one character) against strings and
against *sets* of resources.

A store is not one ARN but every object under a prefix (``arn:aws:s3:::bucket/*``), so
besides plain matching we need two set questions, answered soundly:

- ``intersects(pattern, prefix)``: may the pattern match some ARN under the prefix?
  (exact: an Allow that may apply is counted);
- ``covers(pattern, prefix)``: does the pattern match *every* ARN under the prefix?
  (may say False when unsure: a Deny is only counted when it surely applies).
"""

from __future__ import annotations

import re
from functools import lru_cache

Positions = frozenset[int]


@lru_cache(maxsize=65536)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whole-string wildcard match. Actions ignore case; resources and principals do not."""
    return _regex(pattern, ignore_case).fullmatch(value) is not None


def _closure(pattern: str, states: set[int]) -> set[int]:
    """Positions reachable by letting a ``*`` match nothing."""
    stack = list(states)
    while stack:
        position = stack.pop()
        if position < len(pattern) and pattern[position] == "*" and position + 1 not in states:
            states.add(position + 1)
            stack.append(position + 1)
    return states


def _after(pattern: str, text: str) -> Positions:
    """Pattern positions the matcher can be at after reading ``text`` (empty: it died)."""
    states = _closure(pattern, {0})
    for char in text:
        step: set[int] = set()
        for position in states:
            if position >= len(pattern):
                continue
            token = pattern[position]
            if token == "*":
                step.add(position)
            elif token in ("?", char):
                step.add(position + 1)
        states = _closure(pattern, step)
        if not states:
            break
    return frozenset(states)


@lru_cache(maxsize=262144)
def intersects(pattern: str, prefix: str) -> bool:
    """True if the pattern matches at least one string that starts with ``prefix``."""
    return bool(_after(pattern, prefix))


@lru_cache(maxsize=262144)
def covers(pattern: str, prefix: str) -> bool:
    """True only if the pattern matches every string that starts with ``prefix``."""
    return any(pattern[p:] and set(pattern[p:]) == {"*"} for p in _after(pattern, prefix))


def literal_head(pattern: str) -> str:
    """The part before the first wildcard: every match starts with it."""
    for index, char in enumerate(pattern):
        if char in "*?":
            return pattern[:index]
    return pattern


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def substitute_variables(pattern: str, *, widen: bool) -> str:
    """Replace policy variables (``${aws:username}``) soundly.

    For an Allow (``widen=True``) a variable may be anything, so it becomes ``*``. For a
    Deny it becomes a character no ARN contains, so the Deny never counts as covering
    more than its literal text does. ``${*}``, ``${?}`` and ``${$}`` are literal characters.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _ESCAPES:
            # A literal '*' or '?' in an ARN is vanishingly rare; matching it as a wildcard
            # only widens an Allow, and for a Deny we keep the impossible character.
            return _ESCAPES[name] if widen else "\x00"
        return "*" if widen else "\x00"

    return _VARIABLE.sub(replace, pattern)
