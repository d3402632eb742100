"""One identity-resolution and merge layer for every source.

Inventory files, the AWS collector, Terraform plans and OpenLineage events describe the
same estate from different angles. An entity is the same entity when it shares an id
*or* an identity (a bucket's ARN, an s3:// location, a role's ARN) with another, so an
overlay that names ``api-logs`` with the bucket's ARN merges into the collected bucket.

Facts that agree merge silently; lists of independent facts (reads, grants, policies)
are unioned; facts that disagree are *conflicts*: reported, never silently overwritten,
and resolved to the strictest value for the verdict (the union of classifications, the
longest retention, the weakest encryption, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.inventory import InputRecord, Inventory
from audit.locations import s3_identity
from audit.model import (
    Account,
    DataClass,
    Entity,
    InventoryDocument,
    Job,
    KmsKey,
    Principal,
    Provenance,
    Store,
    StoreKind,
    Tenant,
)
from audit.references import check_references
from audit.taxonomy import BUILTIN_DATA_CLASSES, BUILTIN_GATE_KINDS

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class Conflict:
    """Two sources disagree about one fact; ``chosen`` is what the audit uses."""

    entity: str
    field: str
    values: tuple[tuple[str, str], ...]  # (value as text, where it was stated)
    chosen: str
    rule: str


def identity_tokens(section: str, entity: Entity, key: str | None = None) -> list[str]:
    """Everything that identifies an entity: its id (``key``, when the caller has it) and,
    where it has one, its ARN."""
    tokens = ["id:" + (key if key is not None else str(getattr(entity, "id", None) or getattr(entity, "arn", "")))]
    if section == "stores":
        s3 = s3_identity(getattr(entity, "arn", None), getattr(entity, "location", None))
        if s3:
            tokens.append(f"s3:{s3}")
        else:
            if getattr(entity, "arn", None):
                tokens.append(f"arn:{entity.arn}")  # type: ignore[attr-defined]
            if getattr(entity, "location", None):  # a table or dataset named by where it lives
                tokens.append(f"location:{entity.location}")  # type: ignore[attr-defined]
    elif section == "principals" and getattr(entity, "arn", None):
        tokens.append(f"arn:{entity.arn}")  # type: ignore[attr-defined]
    return tokens


# ---- how each disagreeing field is resolved ------------------------------------------------

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


# ---- the merge itself -------------------------------------------------------------------


@dataclass
class SectionMerge:
    merged: list[Entity] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # every id seen -> the merged id
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, token: str) -> str:
        self.parent.setdefault(token, token)
        root = token
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[token] != root:  # path compression
            self.parent[token], token = root, self.parent[token]
        return root

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _where(entity: Entity) -> str:
    return entity.provenance.location if entity.provenance else "(input)"


def _location(where: str) -> tuple[str, int | None]:
    file, _, line = where.rpartition(":")
    return (file, int(line)) if file and line.isdigit() else (where, None)


def merge_section(section: str, groups_in_order: Sequence[Sequence[E]]) -> SectionMerge:
    """Merge one section (``stores``, ``principals``...) given each document's entities."""
    result = SectionMerge()
    finder = _UnionFind()
    owner: dict[str, str] = {}  # identity token -> the first entity's id token having it
    ordered: list[tuple[E, str, str]] = []  # (entity, its first identity token, its key)
    repeated = False
    for entities in groups_in_order:
        seen_here: dict[str, E] = {}
        for entity in entities:
            key = str(getattr(entity, "id", None) or getattr(entity, "arn", ""))
            if key in seen_here:  # within one document a repeated id is a mistake, not a merge
                file, line = _location(_where(entity))
                result.problems.append(
                    Problem(
                        file,
                        line,
                        f"{section} (id {key})",
                        f"'{key}' is defined twice in this file (also at {_where(seen_here[key])})",
                        "give each entry a unique id, or remove the duplicate",
                    )
                )
                continue
            seen_here[key] = entity
            tokens = identity_tokens(section, entity, key)
            own = tokens[0]
            repeated = repeated or own in owner  # an id another document states too
            ordered.append((entity, own, key))
            for token in tokens:
                first = owner.setdefault(token, own)
                if first != own:  # another entity has this identity: the two are one
                    finder.join(first, own)
    joined = bool(finder.parent)  # else no two ids share an identity: group by id alone
    if not joined and not repeated:  # the usual case: every entity stands alone
        result.merged.extend(entity for entity, _, _ in ordered)
        result.aliases.update((key, key) for _, _, key in ordered)
        return result
    groups: dict[str, list[tuple[E, str]]] = {}
    for entity, token, key in ordered:
        groups.setdefault(finder.find(token) if joined else token, []).append((entity, key))
    merged_list, aliases = result.merged, result.aliases
    for members in groups.values():
        if len(members) == 1:  # the usual case: an entity no other source states
            entity, key = members[0]
            merged_list.append(entity)
            aliases[key] = key
            continue
        merged = _merge_group(section, [m for m, _ in members], result)
        merged_list.append(merged)
        merged_key = str(getattr(merged, "id", None) or getattr(merged, "arn", ""))
        for _, key in members:
            aliases[key] = merged_key
    return result


def _preferred(members: Sequence[E]) -> E:
    """The entity whose id names the merged one: an auditor's own id wins over a collector's."""
    described = [m for m in members if m.provenance is not None and m.provenance.source == "inventory"]
    return described[0] if described else members[0]


def _merge_group(section: str, members: Sequence[E], result: SectionMerge) -> E:
    if len(members) == 1:
        return members[0]
    base = _preferred(members)
    rules = RULES.get(section, {})
    names = {n for m in members for n in m.model_fields_set} - {"id", "provenance"}
    update: dict[str, Any] = {}
    fields: dict[str, str] = {}
    notes: dict[str, str] = {}
    label = f"{section[:-1]}:{getattr(base, 'id', None) or getattr(base, 'arn', '')}"
    if section in ("stores", "principals"):
        arns = {token for m in members for token in identity_tokens(section, m)[1:]}
        if len(arns) > 1:
            file, line = _location(_where(members[-1]))
            result.problems.append(
                Problem(
                    file,
                    line,
                    label,
                    f"the sources give different identities for one id: {', '.join(sorted(arns))}",
                    "an id names one store or principal: rename one of them",
                )
            )
    for name in sorted(names):
        stated: Values = [(getattr(m, name), m) for m in members if name in m.model_fields_set]
        rule = rules.get(name, union if name in LIST_FIELDS else first)
        value, conflicted, text = rule(stated)
        update[name] = value
        if conflicted:
            result.conflicts.append(
                Conflict(
                    entity=label,
                    field=name,
                    values=tuple((_text(v), _where(m)) for v, m in stated),
                    chosen=_text(value),
                    rule=text,
                )
            )
        located, noted = _field_locations(name, value, stated)
        fields.update(located)
        notes.update(noted)
    for member in reversed(members):  # keep the first source's location for every other field
        if member.provenance is not None:
            fields.update({k: v for k, v in member.provenance.fields.items() if k.split("[")[0] not in LIST_FIELDS})
    merged = base.model_copy(update=update)
    if base.provenance is not None:
        also = tuple(_where(m) for m in members if m is not base)
        merged.provenance = Provenance(
            source=base.provenance.source, location=base.provenance.location, fields=fields, also=also, notes=notes
        )
    return merged


def _field_locations(name: str, value: Any, stated: Values) -> tuple[dict[str, str], dict[str, str]]:
    """Where each entry of a merged list came from (and its note), at its new index."""
    if name not in LIST_FIELDS or not isinstance(value, list):
        return {}, {}
    locations: dict[str, str] = {}
    notes: dict[str, str] = {}
    for index, item in enumerate(value):
        for original, member in stated:
            if item in original and member.provenance is not None:
                old = f"{name}[{original.index(item)}]"
                locations[f"{name}[{index}]"] = member.provenance.at(old)
                if old in member.provenance.notes:
                    notes[f"{name}[{index}]"] = member.provenance.notes[old]
                break
    return locations, notes


def _assign(entity: Entity, name: str, value: list[str]) -> None:
    """Set a list field only when it changed (most references already name the merged id)."""
    if getattr(entity, name) != value:
        setattr(entity, name, value)


def rewrite(values: Iterable[str], aliases: dict[str, str]) -> list[str]:
    """References renamed to the merged ids; positions kept, so cited lines stay right."""
    return [aliases.get(v, v) for v in values]


# ---- the whole inventory -------------------------------------------------------------


def merge_documents(
    documents: Sequence[InventoryDocument],
    inputs: Iterable[InputRecord] = (),
    gaps: Iterable[CoverageGap] = (),
    *,
    earlier_problems: Iterable[Problem] = (),
    invalid_ids: Iterable[str] = (),
) -> Inventory:
    """Merge every source's documents into one inventory; raise InputError listing every
    problem. ``earlier_problems`` come from loading; ``invalid_ids`` name entries dropped
    for them, whose references are not reported a second time as unknown."""
    problems: list[Problem] = list(earlier_problems)
    inventory = Inventory(organisation=_organisation(documents, problems), inputs=list(inputs), gaps=list(gaps))
    inventory.data_classes, class_conflicts = _data_classes(documents)
    inventory.conflicts.extend(class_conflicts)
    inventory.gate_kinds = BUILTIN_GATE_KINDS | {g for d in documents for g in d.gate_kinds}
    merged: dict[str, SectionMerge] = {}
    for section in ("accounts", "tenants", "kms_keys", "stores", "principals", "jobs"):
        merged[section] = merge_section(section, [getattr(d, section) for d in documents])
        problems.extend(merged[section].problems)
        inventory.conflicts.extend(merged[section].conflicts)
    principals = merged["principals"].aliases
    inventory.accounts = {a.id: a for a in _typed(merged["accounts"], Account)}
    inventory.tenants = {t.id: t for t in _typed(merged["tenants"], Tenant)}
    inventory.kms_keys = {k.arn: k for k in _typed(merged["kms_keys"], KmsKey)}
    inventory.stores = {s.id: s for s in _typed(merged["stores"], Store)}
    refs = StoreReferences(inventory, merged["stores"].aliases)
    for store in list(inventory.stores.values()):
        _assign(store, "replicates_to", refs.resolve_all(store.replicates_to, store, "replicates_to"))
        if store.kind is None:
            store.kind = infer_store_kind(store)
            if store.kind is None:
                file, line = _location(_where(store))
                problems.append(
                    Problem(
                        file,
                        line,
                        f"stores (id {store.id})",
                        "the kind of store is unknown",
                        "give 'kind' (s3-bucket, s3-prefix, table, dataset) or an 'arn'",
                    )
                )
    for principal in _typed(merged["principals"], Principal):
        _assign(principal, "can_read", refs.resolve_all(principal.can_read, principal, "can_read"))
        _assign(principal, "can_write", refs.resolve_all(principal.can_write, principal, "can_write"))
        _assign(principal, "trusts", rewrite(principal.trusts, principals))
        inventory.principals[principal.id] = principal
    for job in _typed(merged["jobs"], Job):
        _assign(job, "reads", refs.resolve_all(job.reads, job, "reads"))
        _assign(job, "writes", refs.resolve_all(job.writes, job, "writes"))
        if job.runs_as and job.runs_as in principals and principals[job.runs_as] != job.runs_as:
            job.runs_as = principals[job.runs_as]
        inventory.jobs[job.id] = job
    seen_flows: set[tuple[str, str]] = set()
    for flow in (f for d in documents for f in d.flows):
        flow.source, flow.to = refs.resolve(flow.source, flow), refs.resolve(flow.to, flow)
        if (flow.source, flow.to) not in seen_flows:
            seen_flows.add((flow.source, flow.to))
            inventory.flows.append(flow)
    inventory.gaps.extend(_conflict_gaps(inventory.conflicts))
    inventory.gaps.extend(
        CoverageGap(
            scope=f"account:{a.id}",
            checks=("SEP-*",),
            reason=f"the zone of account {a.id} ({a.name}) is unknown: give it in an overlay "
            "(serving, training, corporate or external) or tag the account 'zone'",
        )
        for a in inventory.accounts.values()
        if a.zone == "unknown"
    )
    problems.extend(check_references(inventory, frozenset(invalid_ids)))
    if problems:
        raise InputError(problems)
    return inventory


class StoreReferences:
    """Resolves references to stores: by id (or a merged-away id), or by S3 location.

    ``s3://bucket/path/file`` resolves to the most specific store holding that path. A
    location no store holds becomes a stub store for its bucket: unclassified, so a path
    from it to training is reported (ISO-007) rather than lost.
    """

    def __init__(self, inventory: Inventory, aliases: dict[str, str]) -> None:
        self.inventory = inventory
        self.aliases = aliases
        self.by_location: dict[str, str] = {}
        for store in inventory.stores.values():
            location = s3_identity(store.arn, store.location)
            if location is not None:
                self.by_location.setdefault(location, store.id)

    def resolve_all(self, references: Iterable[str], referrer: Entity, field_name: str = "") -> list[str]:
        """Every reference resolved; two that name one store become one entry (the first
        keeps its cited location)."""
        aliases = self.aliases
        resolved = references if isinstance(references, list) else list(references)
        for reference in resolved:
            if aliases.get(reference) != reference:
                resolved = [self.resolve(r, referrer) for r in resolved]
                break
        else:  # the usual case: merged ids already, each once (the list itself is kept)
            if len(resolved) < 2 or len(set(resolved)) == len(resolved):
                return resolved
        unique = list(dict.fromkeys(resolved))
        if len(unique) < len(resolved) and field_name and referrer.provenance is not None:
            first = {store: resolved.index(store) for store in unique}
            provenance = referrer.provenance
            moved = {f"{field_name}[{new}]": f"{field_name}[{first[store]}]" for new, store in enumerate(unique)}
            fields = {k: v for k, v in provenance.fields.items() if not k.startswith(f"{field_name}[")}
            notes = {k: v for k, v in provenance.notes.items() if not k.startswith(f"{field_name}[")}
            for new, old in moved.items():
                if old in provenance.fields:
                    fields[new] = provenance.fields[old]
                if old in provenance.notes:
                    notes[new] = provenance.notes[old]
            referrer.provenance = replace(provenance, fields=fields, notes=notes)
        return unique

    def resolve(self, reference: str, referrer: Entity) -> str:
        if reference in self.aliases:
            return self.aliases[reference]
        if reference in self.inventory.stores or not reference.startswith(("s3://", "s3a://", "s3n://", "arn:aws:s3")):
            return reference
        location = s3_identity(reference if reference.startswith("arn:") else None, reference)
        if location is None:
            return reference
        probe = location
        while probe.count("/") >= 3:
            if probe in self.by_location:
                return self.by_location[probe]
            probe = probe.rstrip("/").rsplit("/", 1)[0] + "/"
        return self._stub(location.split("/")[2], referrer)

    def _stub(self, bucket: str, referrer: Entity) -> str:
        store_id = bucket if bucket not in self.inventory.stores else f"s3://{bucket}/"
        source = referrer.provenance.source if referrer.provenance else "inventory"
        where = referrer.provenance.location if referrer.provenance else "(input)"
        stub = Store(
            id=store_id,
            kind="s3-bucket",
            arn=f"arn:aws:s3:::{bucket}",
            description=f"not described by any source; referenced at {where}",
        )
        stub.provenance = Provenance(source=source, location=where)
        self.inventory.stores[store_id] = stub
        self.by_location[f"s3://{bucket}/"] = store_id
        return store_id


def _typed(section: SectionMerge, kind: type[E]) -> list[E]:
    return [e for e in section.merged if isinstance(e, kind)]


def infer_store_kind(store: Store) -> StoreKind | None:
    s3 = s3_identity(store.arn, store.location)
    if s3 is not None:
        return "s3-prefix" if s3.count("/") > 3 else "s3-bucket"
    if store.arn and ":glue:" in store.arn and ":table/" in store.arn:
        return "table"
    return None


def _conflict_gaps(conflicts: Iterable[Conflict]) -> Iterator[CoverageGap]:
    """A store claimed by two tenants cannot be placed on either side of an isolation rule."""
    for conflict in conflicts:
        if conflict.field == "tenant":
            yield CoverageGap(
                scope=conflict.entity,
                reason=f"sources disagree on its tenant: {', '.join(v for v, _ in conflict.values)}",
                checks=("ISO-006",),
            )


def _organisation(documents: Sequence[InventoryDocument], problems: list[Problem]) -> str:
    named = [d.organisation for d in documents if d.organisation]
    if len(set(named)) > 1:
        problems.append(
            Problem(
                "(inputs)",
                None,
                "organisation",
                f"the inputs name different organisations: {', '.join(sorted(set(named)))}",
                "audit one organisation per run, or give every file the same name",
            )
        )
    return named[0] if named else "(unnamed organisation)"


def _data_classes(documents: Sequence[InventoryDocument]) -> tuple[dict[str, DataClass], list[Conflict]]:
    """Organisation classes merge over the built-in taxonomy; disagreeing sources resolve
    to the strictest value (protected if any says so, the shortest maximum retention)."""
    classes = dict(BUILTIN_DATA_CLASSES)
    conflicts: list[Conflict] = []
    stated: dict[str, list[DataClass]] = {}
    for document in documents:
        for name, given in document.data_classes.items():
            stated.setdefault(name, []).append(given)
    for name, givens in stated.items():
        update: dict[str, Any] = {}
        for field_name in sorted({f for g in givens for f in g.model_fields_set} - {"provenance"}):
            values: Values = [(getattr(g, field_name), g) for g in givens if field_name in g.model_fields_set]
            value, conflicted, rule = RULES["data_classes"].get(field_name, first)(values)
            update[field_name] = value
            if conflicted:
                conflicts.append(
                    Conflict(
                        f"data_class:{name}",
                        field_name,
                        tuple((_text(v), _where(g)) for v, g in values),
                        _text(value),
                        rule,
                    )
                )
        base = classes.get(name)
        merged = base.model_copy(update=update) if base is not None else givens[0].model_copy(update=update)
        merged.provenance = givens[0].provenance
        classes[name] = merged
    return classes, conflicts
