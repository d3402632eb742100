"""Parse YAML (and JSON, a subset of it) keeping the line of every key and list entry.

PyYAML's composer already knows each node's position; we convert the node tree
ourselves so that a validation error at ``stores[3].classes[0]`` can name its line.
Duplicate keys, which YAML silently collapses, are reported instead.
"""

from __future__ import annotations

import codecs
from typing import Any

import yaml

from audit.errors import Problem

Path = tuple[str | int, ...]
LineMap = dict[Path, int]

_MAX_DEPTH = 64
_MAX_NODES = 20_000_000  # guards against alias expansion bombs

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


class _Converter:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: LineMap = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.count = 0

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if len(path) > _MAX_DEPTH or self.count > _MAX_NODES:
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
