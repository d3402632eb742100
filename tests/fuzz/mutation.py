"""Structural mutation of real inputs, drawn by hypothesis.

A case starts from a real document (a fixture inventory, a Terraform plan, lineage events, a
report...) and applies a few mutations at paths drawn from the document itself: a value
replaced by a hostile one (the wrong type, a huge or deep value, control characters, a lone
surrogate, rich markup), a key deleted or renamed, an entry duplicated, a value wrapped in a
list. Text-level mutations then act on the serialised form: an integer of 5,000 digits, nesting
10^5 deep, a truncated line, a YAML tag or merge key.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import strategies as st

Path = tuple[str | int, ...]


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_SCALARS = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        2**63,
        1.5e308,
        float("-0"),
        "",
        " ",
        "x",
        "[/x]",
        "[bold]markup[/]",
        "\ud800",
        "a\x00b",
        "\x01\x07\x1b[31m",
        "\ufffe",
        "x" * 600,
        "a b\tc\nd",
        "arn:aws:s3:::",
        "arn:aws:iam::111111111111:role/x",
        "s3://",
        "*",
        "../../etc/passwd",
        "2026-13-45T99:99:99Z",
        "not-a-uuid",
        "`![](https://evil.example/x.png)` @octocat",
        "AKIAIOSFODNN7EXAMPLE",
    ]
)
HOSTILE_VALUES = st.one_of(
    HOSTILE_SCALARS,
    st.lists(HOSTILE_SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["a", "address", "type", "id", "Statement", ""]), HOSTILE_SCALARS, max_size=3),
    st.builds(_nested, st.integers(20, 200)),
)


# most cases keep the text as serialised, so they reach the sources, the engine and the renderers
TEXT_MUTATIONS = st.sampled_from(
    ["none"] * 8
    + ["big-int", "deep", "truncate", "tagged-key", "merge-override", "bom", "garbage-line", "duplicate-key"]
)


def paths(document: Any, limit: int = 4000) -> list[Path]:
    """Every path into the document (breadth first, at most ``limit``)."""
    found: list[Path] = []
    queue: list[tuple[Path, Any]] = [((), document)]
    while queue and len(found) < limit:
        path, node = queue.pop(0)
        found.append(path)
        if isinstance(node, dict):
            queue.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            queue.extend(((*path, i), v) for i, v in enumerate(node))
    return found


def _parent(document: Any, path: Path) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated(draw: st.DrawFn, seed: Any, max_mutations: int = 3) -> Any:
    """``seed`` (never changed) with 1 to ``max_mutations`` structural mutations."""
    document = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, max_mutations))):
        candidates = paths(document)[1:]
        if not candidates:
            return draw(HOSTILE_VALUES)
        path = draw(st.sampled_from(candidates))
        parent, last = _parent(document, path), path[-1]
        operation = draw(st.sampled_from(["replace", "replace", "replace", "delete", "wrap", "duplicate", "rename"]))
        if operation == "replace":
            parent[last] = draw(HOSTILE_VALUES)
        elif operation == "delete":
            del parent[last]
        elif operation == "wrap":
            parent[last] = [parent[last]]
        elif operation == "duplicate" and isinstance(parent, list):
            parent.insert(int(last), copy.deepcopy(parent[last]))
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["id", "address", "x", "version", "[/x]", "\ud800"]))] = parent.pop(last)
    return document


def serialise(document: Any, form: str) -> str:
    """JSON or YAML text of a document (YAML falls back to JSON, which is YAML, for values
    PyYAML cannot write)."""
    if form == "yaml":
        try:
            return yaml.safe_dump(document, sort_keys=False, allow_unicode=False)
        except (yaml.YAMLError, UnicodeEncodeError, ValueError):
            pass
    return json.dumps(document)


def mutate_text(text: str, how: str) -> str:
    """A text-level mutation of serialised input."""
    if how == "big-int":
        return text.replace("1", "9" * 5000, 1) if "1" in text else text + "9" * 5000
    if how == "deep":
        middle = len(text) // 2
        return text[:middle] + "[" * 100_000 + "]" * 100_000 + text[middle:]
    if how == "truncate":
        return text[: max(1, len(text) * 2 // 3)]
    if how == "tagged-key":
        return "!!map a: 1\n" + text
    if how == "merge-override":
        return "base: &b {id: a, kind: s3-bucket}\nmerged: {<<: *b, id: b}\n" + text
    if how == "bom":
        return "\ufeff" + text
    if how == "garbage-line":
        lines = text.splitlines()
        lines.insert(len(lines) // 2, '{"eventTime": "2026-11-21T07:00:00Z", "run": 7, "job": "\\ud800"}')
        return "\n".join(lines)
    if how == "duplicate-key":
        return text.replace('"id":', '"id": "dup", "id":', 1)
    return text
