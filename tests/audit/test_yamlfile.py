"""The YAML reader keeps the line of every key and entry, and refuses what YAML would
silently accept (duplicate keys) or could not survive (alias bombs)."""

from __future__ import annotations

import codecs
import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.yamlfile import ParseFailure, decode, dotted, load_with_lines

TEXT = """\
version: 1
stores:
  - id: a
    classes: [x, y]
  - id: b
    classes:
      - z
"""


def test_lines_of_keys_and_entries() -> None:
    data, lines = load_with_lines(TEXT, "f.yaml")
    assert data["stores"][1]["classes"] == ["z"]
    assert lines[("stores", 0)] == 3
    assert lines[("stores", 0, "classes", 1)] == 4
    assert lines[("stores", 1, "id")] == 5
    assert lines[("stores", 1, "classes", 0)] == 7


def test_duplicate_key_is_a_problem_with_both_lines() -> None:
    with pytest.raises(ParseFailure) as caught:
        load_with_lines("a: 1\nb: 2\na: 3\n", "f.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "a")
    assert "line 1" in problem.message


def test_merge_keys_are_resolved() -> None:
    data, _ = load_with_lines("base: &b {kind: s3-bucket}\nstore:\n  <<: *b\n  id: x\n", "f.yaml")
    assert data["store"] == {"kind": "s3-bucket", "id": "x"}


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(ParseFailure) as caught:
        load_with_lines("version: 1\nstores:\n  - id: a\n   kind: x\n", "f.yaml")
    assert caught.value.problems[0].line == 4


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ParseFailure) as caught:
        load_with_lines("\n".join(levels), "bomb.yaml")
    assert "expands too far" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (codecs.BOM_UTF8 + b"a: 1", "a: 1"),
        ("a: é".encode("utf-16"), "a: é"),
        ("a: é".encode(), "a: é"),
    ],
)
def test_decode_honours_byte_order_marks(raw: bytes, expected: str) -> None:
    assert decode(raw, "f") == expected


def test_invalid_utf8_names_the_line() -> None:
    with pytest.raises(ParseFailure) as caught:
        decode(b"a: 1\nb: \xff\n", "f.yaml")
    assert caught.value.problems[0].line == 2


def test_dotted_paths() -> None:
    assert dotted(("stores", 3, "classes", 0)) == "stores[3].classes[0]"
    assert dotted(()) == ""


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8)
# Control characters are left out: PyYAML's own dump/load does not round-trip some (NEL).
text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), text, st.none())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=30,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@settings(max_examples=150, deadline=None)
@given(documents, st.sampled_from(["yaml-block", "yaml-flow", "json"]))
def test_roundtrip_and_every_path_has_a_line(document: Any, style: str) -> None:
    if style == "json":
        text = json.dumps(document, indent=2)
    else:
        text = yaml.safe_dump(document, default_flow_style=(style == "yaml-flow"), allow_unicode=True)
    data, lines = load_with_lines(text, "gen")
    assert data == document
    if style == "json" and not lines:
        return  # JSON that YAML 1.1 cannot read is parsed by json, without positions
    total = text.count("\n") + 1
    for path in _paths(document):
        if path:  # the root of an empty document has no position worth checking
            assert 1 <= lines[path] <= total


def test_json_gets_lines_like_yaml() -> None:
    data, lines = load_with_lines('{\n  "stores": [\n    {"id": "a"}\n  ]\n}\n', "f.json")
    assert data == {"stores": [{"id": "a"}]}
    assert lines[("stores", 0, "id")] == 3


def test_json_that_yaml_cannot_read_falls_back_to_json() -> None:
    data, lines = load_with_lines('{"note": "\\ud800\\udc00"}', "f.json")
    assert data == {"note": "\U00010000"}
    assert lines == {}


def test_json_fallback_still_refuses_duplicate_keys() -> None:
    with pytest.raises(ParseFailure):
        load_with_lines('{"a": "\\ud800\\udc00", "a": 1}', "f.json")
