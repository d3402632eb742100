"""The described-inventory source: format v1 written by an auditor in YAML or JSON.

``get`` is the only I/O; ``transform`` is pure and turns the file's bytes into an
:class:`InventoryDocument` whose every entity knows its file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audit.errors import InputError, Problem
from audit.files import read_input
from audit.iam.transport import enforces_tls, object_prefix
from audit.locations import s3_identity
from audit.model import NOTHING, Entity, InventoryDocument, Provenance
from audit.validation import problems_from
from audit.yamlfile import LineMap, ParseFailure, decode, dotted, load_with_lines

SOURCE = "inventory"
_SECTIONS = ("accounts", "tenants", "stores", "principals", "jobs", "flows")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def get(path: Path) -> bytes:
    return read_input(path)


def looks_like(data: Any) -> bool:
    """Content detection: an inventory is a mapping with a ``version`` key."""
    return isinstance(data, dict) and "version" in data


def parse(raw: bytes, filename: str) -> tuple[Any, LineMap]:
    try:
        return load_with_lines(decode(raw, filename), filename)
    except ParseFailure as exc:
        raise InputError(exc.problems) from None


@dataclass
class Fragment:
    """What one file contributes: its valid entries, and the problems of the rest.

    Invalid entries are dropped (their ids kept in ``invalid_ids``) so the valid ones can
    still be reference-checked, and every problem in the file is reported in one go.
    """

    document: InventoryDocument | None
    problems: list[Problem] = field(default_factory=list)
    invalid_ids: set[str] = field(default_factory=set)


def transform_json(data: Any, text: str, filename: str, base_dir: Path | None = None) -> Fragment:
    """A JSON inventory, parsed without line tracking (fast at any size): its facts are
    located by JSON pointer (``stores.json#/stores/12/reads/1``). Only if it has problems is
    it parsed again with lines, so every problem still names its line."""
    fragment = transform(data, {}, filename, base_dir, pointers=True)
    if fragment.problems:
        try:
            data, lines = load_with_lines(text, filename)
        except ParseFailure as exc:
            return Fragment(None, exc.problems)
        return transform(data, lines, filename, base_dir)
    return fragment


def transform(
    data: Any, lines: LineMap, filename: str, base_dir: Path | None = None, *, pointers: bool = False
) -> Fragment:
    if not isinstance(data, dict):
        return Fragment(
            None,
            [
                Problem(
                    filename,
                    1,
                    "",
                    "an inventory must be a mapping",
                    "start the file with 'version: 1' and the sections of format v1",
                )
            ],
        )
    if "version" not in data:
        return Fragment(
            None,
            [
                Problem(
                    filename,
                    1,
                    "version",
                    "required field 'version' is missing",
                    "add 'version: 1' at the top of the file",
                )
            ],
        )
    try:
        document = InventoryDocument.model_validate(data)
        index_map: dict[str, list[int]] = {}
        fragment = Fragment(document)
    except ValidationError as exc:
        fragment, index_map = _valid_part(exc, data, lines, filename)
    if fragment.document is not None:
        if pointers:
            _attach_pointers(fragment.document, filename)
        else:
            _attach_provenance(fragment.document, lines, filename, index_map)
        if base_dir is not None:
            _resolve_locations(fragment.document, base_dir)
        _derive_tls(fragment.document)
    return fragment


def _valid_part(
    exc: ValidationError, data: dict[str, Any], lines: LineMap, filename: str
) -> tuple[Fragment, dict[str, list[int]]]:
    problems = problems_from(exc, InventoryDocument, data, filename, lines)
    bad: dict[str, set[int]] = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if len(loc) >= 2 and loc[0] in _SECTIONS and isinstance(loc[1], int):
            bad.setdefault(str(loc[0]), set()).add(loc[1])
        else:  # a document-level problem: nothing in this file can be trusted
            return Fragment(None, problems), {}
    pruned = dict(data)
    index_map: dict[str, list[int]] = {}
    invalid_ids: set[str] = set()
    for section, indices in bad.items():
        entries = data[section]
        kept = [i for i in range(len(entries)) if i not in indices]
        pruned[section] = [entries[i] for i in kept]
        index_map[section] = kept
        invalid_ids |= {str(entries[i].get("id")) for i in indices if isinstance(entries[i], dict)}
    try:
        document = InventoryDocument.model_validate(pruned)
    except ValidationError:
        return Fragment(None, problems), {}
    return Fragment(document, problems, invalid_ids), index_map


def load(path: Path) -> Fragment:
    filename = str(path)
    data, lines = parse(get(path), filename)
    return transform(data, lines, filename, path.parent)


def _attach_provenance(
    document: InventoryDocument, lines: LineMap, filename: str, index_map: dict[str, list[int]]
) -> None:
    # One pass over the line map, grouped by entity, keeps this linear in the file's size.
    by_entity: dict[tuple[str | int, ...], dict[str, str]] = {}
    for path, line in lines.items():
        if len(path) >= 3:
            by_entity.setdefault(path[:2], {})[dotted(path[2:])] = f"{filename}:{line}"

    def provenance(key: tuple[str | int, ...]) -> Provenance:
        return Provenance(
            source=SOURCE,
            location=f"{filename}:{lines.get(key, 1)}",
            fields=by_entity.get(key, {}),
        )

    for section in _SECTIONS:
        entities: list[Entity] = getattr(document, section)
        original = index_map.get(section)
        for index, entity in enumerate(entities):
            entity.provenance = provenance((section, original[index] if original else index))
    for name, data_class in document.data_classes.items():
        data_class.provenance = provenance(("data_classes", name))


def _attach_pointers(document: InventoryDocument, filename: str) -> None:
    for section in _SECTIONS:
        base = f"{filename}#/{section}/"
        for index, entity in enumerate(getattr(document, section)):
            # provenance is not validated (and excluded from dumps): set it directly, at the
            # cost of a dictionary entry, since a large estate has a million entities
            entity.__dict__["provenance"] = Provenance(SOURCE, base + str(index), NOTHING, (), NOTHING)
    for name, data_class in document.data_classes.items():
        data_class.provenance = Provenance(source=SOURCE, location=f"{filename}#/data_classes/{name}")


def _resolve_locations(document: InventoryDocument, base_dir: Path) -> None:
    """A store's ``location`` is relative to the inventory file unless it is a URI."""
    for store in document.stores:
        if store.location and not _URI.match(store.location):
            store.location = str((base_dir / store.location).resolve())


def _derive_tls(document: InventoryDocument) -> None:
    """A stated bucket policy says whether the store enforces TLS, as the AWS and Terraform
    sources read it (:func:`audit.iam.transport.enforces_tls`). Where ``tls_only`` is also
    stated, the value worse for the claim counts: a ``tls_only: true`` the policy does not
    bear out is false, and cites the policy."""
    for store in document.stores:
        # 'policy: none' says nothing of TLS: an organisation's resource control policy may
        # enforce it for every bucket, so a stated tls_only stands
        if not isinstance(store.policy, dict) or "policy" not in store.__pydantic_fields_set__:
            continue
        derived = enforces_tls(store.policy, object_prefix(s3_identity(store.arn, store.location)))
        stated = store.tls_only if "tls_only" in store.__pydantic_fields_set__ else None
        if derived is None or stated is False or (stated is True and derived):
            continue
        store.tls_only = derived  # validate_assignment is off: the field counts as stated from here
        if store.provenance is not None:
            where = store.provenance.at("policy")
            store.provenance = replace(store.provenance, fields={**store.provenance.fields, "tls_only": where})
