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


@lru_cache(maxsize=1 << 20)
def shape(pattern: str) -> tuple[str, int]:
    """(literal head, form): form 0 has no wildcard, 1 only '*' after the head, 2 has '?'."""
    head = literal_head(pattern)
    if "?" in pattern:
        return head, 2
    return head, 0 if len(head) == len(pattern) else 1


def intersects(pattern: str, prefix: str) -> bool:
    """True if the pattern matches at least one string that starts with ``prefix``."""
    head, form = shape(pattern)
    if form == 1:
        return prefix.startswith(head) or head.startswith(prefix)
    if form == 0:
        return pattern.startswith(prefix)
    if "?" not in pattern:
        # Without '?', only the literal head matters: a '*' after it absorbs the rest of the
        # prefix, and without any '*' the pattern is one string that must extend the prefix.
        head = literal_head(pattern)
        if len(head) < len(pattern):
            return prefix.startswith(head) or head.startswith(prefix)
        return pattern.startswith(prefix)
    return _intersects(pattern, prefix)


@lru_cache(maxsize=262144)
def _intersects(pattern: str, prefix: str) -> bool:
    return bool(_after(pattern, prefix))


def covers(pattern: str, prefix: str) -> bool:
    """True only if the pattern matches every string that starts with ``prefix``."""
    if pattern.endswith("*") and not any(c in "*?" for c in pattern.rstrip("*")):
        return prefix.startswith(pattern.rstrip("*"))  # 'head*' covers exactly what starts with head
    return _covers(pattern, prefix)


@lru_cache(maxsize=262144)
def _covers(pattern: str, prefix: str) -> bool:
    return any(pattern[p:] and set(pattern[p:]) == {"*"} for p in _after(pattern, prefix))


def literal_head(pattern: str) -> str:
    """The part before the first wildcard: every match starts with it."""
    star, mark = pattern.find("*"), pattern.find("?")
    cut = min(i for i in (star, mark, len(pattern)) if i >= 0)
    return pattern[:cut]


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

    if "$" not in pattern:  # the usual pattern: nothing to substitute
        return pattern
    return _VARIABLE.sub(replace, pattern)
