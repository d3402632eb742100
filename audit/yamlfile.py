"""Parse YAML (and JSON, a subset of it) keeping the line of every key and list entry.

PyYAML's composer already knows each node's position; we convert the node tree
ourselves so that a validation error at ``stores[3].classes[0]`` can name its line.
Duplicate keys, which YAML silently collapses, are reported instead.
"""

from __future__ import annotations

import codecs
import json
import os
import re
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

_MAX_TEXT_DEPTH = 256  # beyond the converter's limit, so that one names the line where it can
_BRACKETS = re.compile(r"[\[\]{}]")
_COMPACT_NESTING = re.compile(rf"(?:[-?][ \t]+){{{_MAX_TEXT_DEPTH}}}")
_DEEP_INDENT = re.compile(rf"^[ \t]{{{_MAX_TEXT_DEPTH * 16}}}", re.MULTILINE)

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# A JSON or YAML escape can spell half of a UTF-16 surrogate pair ("\\ud800"): Python keeps it,
# but it is no character, and no report format can encode it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\U0000[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(data: Any, text: str) -> Path | None:
    """The path of the first key or string holding a lone surrogate, if the text escapes one."""
    if not _SURROGATE_ESCAPE.search(text):
        return None
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str) and _SURROGATE.search(node):
            return path
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return (*path, key)
                stack.append(((*path, key), value))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
    return None


TOO_DEEP = f"the document is nested more than {_MAX_DEPTH} levels deep"
SURROGATE_MESSAGE = "holds a lone UTF-16 surrogate escape (such as \\ud800), which is not a character"
SURROGATE_HINT = "write the character itself, or a complete surrogate pair"


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


def _nested_too_deeply(text: str) -> bool:
    """libyaml's composer recurses once per level without a guard (10^5 levels crash the
    process), so nesting is measured on the text first: brackets, compact "- - -" entries and
    indentation. Brackets inside quoted strings count too, which only errs towards refusing
    documents no person writes."""
    if _COMPACT_NESTING.search(text) or _DEEP_INDENT.search(text):
        return True
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > _MAX_TEXT_DEPTH:
            return True
    return False


def load_with_lines(text: str, filename: str) -> tuple[Any, LineMap]:
    """Return the document as plain Python data and a map from each path to its line."""
    if _nested_too_deeply(text):
        raise ParseFailure(Problem(filename, None, "", TOO_DEEP))
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        fallback = _strict_json(text, filename)
        if fallback is not None:
            _refuse_surrogates(fallback, text, filename, {})
            return fallback, {}
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ParseFailure(
            Problem(filename, line, "", f"cannot parse: {message}", "check the syntax near this line")
        ) from exc
    except yaml.YAMLError as exc:
        raise ParseFailure(Problem(filename, None, "", f"cannot parse: {exc}")) from exc
    except RecursionError:
        raise ParseFailure(Problem(filename, None, "", TOO_DEEP)) from None
    finally:
        loader.dispose()
    if root is None:
        return None, {}
    converter = _Converter(filename)
    data = converter.convert(root, ())
    if converter.problems:
        raise ParseFailure(*converter.problems)
    _refuse_surrogates(data, text, filename, converter.lines)
    return data, converter.lines


def _refuse_surrogates(data: Any, text: str, filename: str, lines: LineMap) -> None:
    path = lone_surrogate(data, text)
    if path is not None:
        line = next((lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in lines), None)
        raise ParseFailure(Problem(filename, line, dotted(path), SURROGATE_MESSAGE, SURROGATE_HINT))


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
    except RecursionError:
        raise ParseFailure(Problem(filename, None, "", TOO_DEEP)) from None
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
                    f"document is nested more than {_MAX_DEPTH} levels deep or expands too far (YAML aliases?)",
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
        except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit limit
            self.problems.append(
                Problem(self.filename, node.start_mark.line + 1, dotted(path), f"unusable value: {str(exc)[:100]}")
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        # YAML merge keys (<<): the merged mappings' keys come first, and a key written in the
        # mapping itself overrides them, as YAML defines; only keys written twice are duplicates
        explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        try:
            self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.constructor.ConstructorError as exc:
            self.problems.append(Problem(self.filename, node.start_mark.line + 1, dotted(path), str(exc.problem)))
            return {}
        result: dict[Any, Any] = {}
        written: set[Any] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.filename, line, dotted(path), "a mapping key must be a plain value"))
                continue
            try:
                key = self.constructor.construct_object(key_node, deep=True)
            except (yaml.constructor.ConstructorError, ValueError) as exc:
                problem = getattr(exc, "problem", None) or str(exc)[:100]
                self.problems.append(Problem(self.filename, line, dotted(path), f"unusable mapping key: {problem}"))
                continue
            if isinstance(key, int | float | bool) or key is None or not isinstance(key, str):
                key = str(key_node.value)
            if id(key_node) not in explicit:  # merged in: a later merged mapping or the mapping overrides it
                self.lines[(*path, key)] = line
                result[key] = self.convert(value_node, (*path, key))
                continue
            if key in written:
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
            written.add(key)
            self.lines[(*path, key)] = line
            result[key] = self.convert(value_node, (*path, key))
        return result


def load_small_file(path: os.PathLike[str] | str) -> tuple[Any, LineMap]:
    """A small YAML or JSON input (waivers, a suite, accounts, an engagement, a mapping): read
    as a regular file within the small-input cap, parsed with line numbers; anything wrong is
    an input error (exit 2) naming the file."""
    from audit.errors import InputError
    from audit.files import MAX_SMALL_BYTES, read_input

    filename = str(path)
    try:
        return load_with_lines(decode(read_input(filename, MAX_SMALL_BYTES), filename), filename)
    except ParseFailure as exc:
        raise InputError(exc.problems) from None


def dotted(path: Path) -> str:
    """``("stores", 3, "classes", 0)`` -> ``stores[3].classes[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
