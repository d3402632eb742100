"""Turn pydantic validation errors into located, actionable problems.

Shared by every loader of a user-written file (inventories, suites, waivers), so all of
them speak the same way: file, line, field, what is wrong, what to do.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from audit.errors import InputError, Problem
from audit.yamlfile import LineMap, Path, dotted

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, filename: str, lines: LineMap) -> M:
    """Validate ``data`` against ``model``; raise InputError listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, model, data, filename, lines)) from None


def problems_from(
    exc: ValidationError, model: type[BaseModel], data: Any, filename: str, lines: LineMap
) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc: Path = tuple(part for part in error["loc"] if isinstance(part, str | int))
        message, hint = _explain(error, model, loc)
        problems.append(Problem(filename, line_of(lines, loc), _field_label(data, loc), message, hint))
    return problems


def line_of(lines: LineMap, loc: Path) -> int | None:
    """The line of the deepest part of ``loc`` that the document actually contains."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _explain(error: Mapping[str, Any], model: type[BaseModel], loc: Path) -> tuple[str, str]:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        name = str(loc[-1])
        hint = suggest(name, allowed)
        listing = f"allowed: {', '.join(sorted(allowed))}" if allowed else ""
        return f"unknown field '{name}'", "; ".join(p for p in (hint, listing) if p)
    if kind == "missing":
        return f"required field '{loc[-1]}' is missing", f"add '{loc[-1]}' to this entry"
    if kind == "literal_error":
        expected = [str(v) for v in _literal_choices(model, loc)]
        hint = suggest(str(value), expected) if expected else ""
        listing = f"expected one of: {', '.join(expected)}" if expected else error["msg"]
        return f"'{value}' is not allowed here", "; ".join(p for p in (hint, listing) if p)
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "id" and "accounts" in loc:
        return f"'{value}' is not a 12-digit AWS account id", 'quote the id: "012345678901"'
    if kind == "string_pattern_mismatch":
        return f"'{value}' is not a valid value", "identifiers are non-empty and contain no spaces"
    if kind in {"model_type", "dict_type"}:
        return f"expected a mapping, got {type(value).__name__}", "write this entry as key: value pairs"
    if kind == "list_type":
        return f"expected a list, got {type(value).__name__}", "write this as [a, b] or a '- ' list"
    return str(error["msg"]), ""


def _field_label(data: Any, loc: Path) -> str:
    """``stores[2].classes[0]``, or ``stores (id logs).classes[0]`` where the entry has an id."""
    label = dotted(loc)
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data, dict):
        entries = data.get(str(loc[0]))
        if isinstance(entries, list) and loc[1] < len(entries) and isinstance(entries[loc[1]], dict):
            entity_id = entries[loc[1]].get("id")
            if isinstance(entity_id, str):
                head = dotted(loc[:2])
                return f"{loc[0]} (id {entity_id}){label[len(head) :]}"
    return label


def _annotation_at(model: type[BaseModel], loc: Path) -> Any:
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = _field_by_name(annotation, str(part))
            if field is None:
                return None
            annotation = field
        elif get_origin(annotation) in (list, tuple, Sequence):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (dict, Mapping):
            annotation = get_args(annotation)[1]
        else:
            return None
    return _unwrap(annotation)


def _field_by_name(model: type[BaseModel], name: str) -> Any:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info.annotation
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _fields_at(model: type[BaseModel], loc: Path) -> list[str]:
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items() if not info.exclude]
    return []


def _literal_choices(model: type[BaseModel], loc: Path) -> list[Any]:
    annotation = _annotation_at(model, loc)
    if get_origin(annotation) is typing.Literal:
        return list(get_args(annotation))
    return []
