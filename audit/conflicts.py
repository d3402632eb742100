"""How facts that sources disagree on are resolved: a rule per field, each choosing the
value strictest for the verdict (the union of classifications, the longest retention, the
weakest encryption, ...) and saying so, and the :class:`Conflict` the report lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from audit.model import Entity


@dataclass(frozen=True)
class Conflict:
    """Two sources disagree about one fact; ``chosen`` is what the audit uses."""

    entity: str
    field: str
    values: tuple[tuple[str, str], ...]  # (value as text, where it was stated)
    chosen: str
    rule: str


Values = list[tuple[Any, Entity]]
Resolution = tuple[Any, bool, str]  # (value, is a reported conflict, rule text)


def _text(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return "null" if value is None else str(value)


def _distinct(values: Values) -> list[Any]:
    seen: list[Any] = []
    for value, _ in values:
        if value not in seen:
            seen.append(value)
    return seen


def first(values: Values) -> Resolution:
    distinct = _distinct(values)
    return distinct[0], len(distinct) > 1, "the first source's value is used"


def union(values: Values) -> Resolution:
    merged: list[Any] = []
    for value, _ in values:
        merged.extend(v for v in value if v not in merged)
    return merged, False, "union"


def union_reported(values: Values) -> Resolution:
    merged, _, _ = union(values)
    return merged, len({tuple(v) for v, _ in values}) > 1, "every classification applies (union)"


def intersection_reported(values: Values) -> Resolution:
    common = [g for g in values[0][0] if all(g in v for v, _ in values)]
    return common, len({tuple(sorted(v)) for v, _ in values}) > 1, "only gates every source agrees on (intersection)"


def longest_retention(values: Values) -> Resolution:
    distinct = _distinct(values)
    chosen = None if None in distinct else max(distinct)
    return chosen, len(distinct) > 1, "the longest retention (null: kept forever)"


_ENCRYPTION_STRENGTH = {"none": 0, "unknown": 1, "AES256": 2, "aws:kms": 3}


def weakest_encryption(values: Values) -> Resolution:
    distinct = _distinct(values)
    return min(distinct, key=lambda v: _ENCRYPTION_STRENGTH.get(v, 1)), len(distinct) > 1, "the weakest encryption"


def any_false(values: Values) -> Resolution:
    distinct = _distinct(values)
    return (False if False in distinct else distinct[0]), len(distinct) > 1, "the weaker setting (false)"


def any_true(values: Values) -> Resolution:
    distinct = _distinct(values)
    return (True if True in distinct else distinct[0]), len(distinct) > 1, "the riskier setting (true)"


def minimum(values: Values) -> Resolution:
    distinct = _distinct(values)
    known = [v for v in distinct if v is not None]
    return (min(known) if known else None), len(distinct) > 1, "the strictest limit (smallest)"


def stated_policy(values: Values) -> Resolution:
    """Bucket policies that disagree: every grant any source states (a Deny only where every
    source states it), so no source's grant is lost and no one source's Deny hides one."""
    distinct = _distinct(values)
    documents = [v for v in distinct if isinstance(v, dict)]
    if len(distinct) == 1 or not documents:
        return distinct[0], len(distinct) > 1, "the stated policy"
    statements = [_listed(d.get("Statement")) for d in documents]
    allows = [s for each in statements for s in each if not (isinstance(s, dict) and s.get("Effect") == "Deny")]
    denies = [s for s in statements[0] if isinstance(s, dict) and s.get("Effect") == "Deny"]
    denies = [s for s in denies if all(s in each for each in statements[1:])]
    unique: list[Any] = []
    for statement in [*allows, *denies]:
        if statement not in unique:
            unique.append(statement)
    merged = {"Version": documents[0].get("Version", "2012-10-17"), "Statement": unique}
    return merged, True, "every grant any source states (a Deny only where every source states it)"


def _listed(statements: Any) -> list[Any]:
    if statements is None:
        return []
    return list(statements) if isinstance(statements, list) else [statements]


Rule = Callable[[Values], Resolution]

RULES: dict[str, dict[str, Rule]] = {
    "stores": {
        "classes": union_reported,
        "canaries": union,
        "replicates_to": union,
        "passed_gates": intersection_reported,
        "retention_days": longest_retention,
        "encryption": weakest_encryption,
        "public_access_blocked": any_false,
        "tls_only": any_false,
        "access_logging": any_false,
        "public_acl": any_true,
        "versioning": any_true,
        "policy": stated_policy,
    },
    "principals": {
        "trusts": union,
        "policies": union,
        "can_read": union,
        "can_write": union,
        "gate": intersection_reported,
    },
    "jobs": {"reads": union, "writes": union, "gate": intersection_reported},
    "data_classes": {
        "protected": any_true,
        "training_sink": any_true,
        "personal_data": any_true,
        "max_retention_days": minimum,
        "removed_by": intersection_reported,
    },
}
LIST_FIELDS = {
    "classes",
    "canaries",
    "replicates_to",
    "passed_gates",
    "trusts",
    "policies",
    "can_read",
    "can_write",
    "gate",
    "reads",
    "writes",
}
