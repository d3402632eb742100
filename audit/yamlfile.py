"""Parse YAML (and JSON, a subset of it) keeping the line of every key and list entry.

PyYAML's composer already knows each node's position; we convert the node tree
ourselves so that a validation error at ``stores[3].classes[0]`` can name its line.
Duplicate keys, which YAML silently collapses, are reported instead.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import yaml

from audit.errors import Problem

Path = tuple[str | int, ...]
LineMap = dict[Path, int]

_MAX_DEPTH = 64
# A "billion laughs" document expands a few aliases into billions of nodes. Anchors used
# legitimately (merge keys for shared defaults) expand to a small multiple of the nodes
# the document actually contains.
_EXPANSION_ALLOWANCE = 100_000
_EXPANSION_FACTOR = 10

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ParseFailure(Exception):
    """The text is not a document we can read; ``problems`` says where and why."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


def decode(raw: bytes, filename: str) -> str:
    """Decode text, honouring UTF-8/UTF-16 byte-order marks (Windows shells write UTF-16)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ParseFailure(Problem(filename, None, "", f"not valid {encoding} text: {exc.reason}")) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParseFailure(Problem(filename, line, "", "not UTF-8 text", "save the file as UTF-8")) from exc


def load_with_lines(text: str, filename: str) -> tuple[Any, LineMap]:
    """Return the document as plain Python data and a map from each path to its line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        fallback = _strict_json(text, filename)
        if fallback is not None:
            return fallback, {}
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ParseFailure(
            Problem(filename, line, "", f"cannot parse: {message}", "check the syntax near this line")
        ) from exc
    except yaml.YAMLError as exc:
        raise ParseFailure(Problem(filename, None, "", f"cannot parse: {exc}")) from exc
    finally:
        loader.dispose()
    if root is None:
        return None, {}
    converter = _Converter(filename)
    data = converter.convert(root, ())
    if converter.problems:
        raise ParseFailure(*converter.problems)
    return data, converter.lines


def _strict_json(text: str, filename: str) -> Any | None:
    """JSON that YAML 1.1 cannot read (surrogate-pair escapes): parsed without line numbers."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ParseFailure(Problem(filename, None, key, "duplicate key", "remove one of the two"))
            result[key] = value
        return result

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except ValueError:
        return None


class _Converter:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: LineMap = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.distinct: set[int] = set()
        self.conversions = 0

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.conversions += 1
        self.distinct.add(id(node))
        expanded = self.conversions > _EXPANSION_ALLOWANCE + _EXPANSION_FACTOR * len(self.distinct)
        if len(path) > _MAX_DEPTH or expanded:
            raise ParseFailure(
                Problem(
                    self.filename,
                    node.start_mark.line + 1,
                    dotted(path),
                    "document is nested too deeply or expands too far (YAML aliases?)",
                )
            )
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.problems.append(Problem(self.filename, node.start_mark.line + 1, dotted(path), str(exc.problem)))
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.constructor.ConstructorError as exc:
            self.problems.append(Problem(self.filename, node.start_mark.line + 1, dotted(path), str(exc.problem)))
            return {}
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(
                        self.filename, key_node.start_mark.line + 1, dotted(path), "a mapping key must be a plain value"
                    )
                )
                continue
            key = self.constructor.construct_object(key_node, deep=True)
            if isinstance(key, int | float | bool) or key is None:
                key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in result:
                self.problems.append(
                    Problem(
                        self.filename,
                        line,
                        dotted((*path, key)),
                        f"duplicate key (first defined on line {self.lines[(*path, key)]})",
                        "remove one of the two",
                    )
                )
                continue
            self.lines[(*path, key)] = line
            result[key] = self.convert(value_node, (*path, key))
        return result


def dotted(path: Path) -> str:
    """``("stores", 3, "classes", 0)`` -> ``stores[3].classes[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
