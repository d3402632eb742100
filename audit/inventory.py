"""One inventory merged from every source, with every reference checked.

Unknown references are errors, never silent drops: a job that reads a store nobody
described would otherwise vanish from the graph and a leak with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.model import (
    Account,
    DataClass,
    Entity,
    Flow,
    InventoryDocument,
    Job,
    Principal,
    Store,
    Tenant,
    Zone,
)
from audit.taxonomy import BUILTIN_DATA_CLASSES, BUILTIN_GATE_KINDS
from audit.validation import suggest

ACCOUNT_ID = re.compile(r"^\d{12}$")
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
FEDERATED_PROVIDER = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:(?:oidc|saml)-provider/(.+)$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):")


E = TypeVar("E", Account, Tenant, Store, Principal, Job)


@dataclass(frozen=True)
class InputRecord:
    """One input of the run, as report.json's ``run.inputs`` lists it."""

    source: str
    path_or_uri: str
    sha256: str


@dataclass
class Inventory:
    organisation: str
    accounts: dict[str, Account] = field(default_factory=dict)
    data_classes: dict[str, DataClass] = field(default_factory=dict)
    gate_kinds: frozenset[str] = BUILTIN_GATE_KINDS
    tenants: dict[str, Tenant] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)

    def account(self, ref: str | None) -> Account | None:
        """An account by id or by name."""
        if ref is None:
            return None
        found = self.accounts.get(ref)
        if found is not None:
            return found
        return next((a for a in self.accounts.values() if a.name == ref), None)

    def principal_account(self, principal: Principal) -> Account | None:
        return self.account(principal.account or arn_account(principal.arn))

    def job_account(self, job: Job) -> Account | None:
        if job.account is not None:
            return self.account(job.account)
        runner = self.principals.get(job.runs_as or "")
        return self.principal_account(runner) if runner is not None else None

    def zone(self, account: Account | None) -> Zone | None:
        return account.zone if account is not None else None

    def is_training_sink(self, store: Store) -> bool:
        return any(self.data_classes[c].training_sink for c in store.classes if c in self.data_classes)

    def is_protected(self, store: Store) -> bool:
        return any(self.data_classes[c].protected for c in store.classes if c in self.data_classes)


def arn_account(arn: str | None) -> str | None:
    if not arn:
        return None
    match = _ARN_ACCOUNT.match(arn)
    return match.group(1) if match else None


def merge(
    documents: Sequence[InventoryDocument],
    inputs: Iterable[InputRecord] = (),
    gaps: Iterable[CoverageGap] = (),
    *,
    earlier_problems: Iterable[Problem] = (),
    invalid_ids: Iterable[str] = (),
) -> Inventory:
    """Merge documents into one inventory; raise InputError listing every problem.

    ``earlier_problems`` come from loading; ``invalid_ids`` name entries dropped for them,
    whose references are not reported a second time as unknown.
    """
    problems: list[Problem] = list(earlier_problems)
    organisation = _organisation(documents, problems)
    inventory = Inventory(organisation=organisation, inputs=list(inputs), gaps=list(gaps))
    inventory.data_classes = _data_classes(documents, problems)
    inventory.gate_kinds = BUILTIN_GATE_KINDS | {g for d in documents for g in d.gate_kinds}
    for document in documents:
        _collect(inventory.accounts, document.accounts, "accounts", problems)
        _collect(inventory.tenants, document.tenants, "tenants", problems)
        _collect(inventory.stores, document.stores, "stores", problems)
        _collect(inventory.principals, document.principals, "principals", problems)
        _collect(inventory.jobs, document.jobs, "jobs", problems)
        inventory.flows.extend(document.flows)
    problems.extend(check_references(inventory, frozenset(invalid_ids)))
    if problems:
        raise InputError(problems)
    return inventory


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


def _data_classes(documents: Sequence[InventoryDocument], problems: list[Problem]) -> dict[str, DataClass]:
    classes = dict(BUILTIN_DATA_CLASSES)
    defined_by: dict[str, DataClass] = {}
    for document in documents:
        for name, given in document.data_classes.items():
            earlier = defined_by.get(name)
            if earlier is not None and _stated(earlier) != _stated(given):
                where, line = _where(given)
                problems.append(
                    Problem(
                        where,
                        line,
                        f"data_classes.{name}",
                        f"defined differently in {_where_text(earlier)}",
                        "define each data class once, or identically",
                    )
                )
                continue
            defined_by[name] = given
            base = classes.get(name)
            merged = base.model_copy(update=_stated(given)) if base is not None else given
            merged.provenance = given.provenance
            classes[name] = merged
    return classes


def _stated(data_class: DataClass) -> dict[str, object]:
    return {name: getattr(data_class, name) for name in data_class.model_fields_set}


def _collect(target: dict[str, E], entities: Iterable[E], section: str, problems: list[Problem]) -> None:
    for entity in entities:
        key = str(entity.id)
        if key in target:
            where, line = _where(entity)
            problems.append(
                Problem(
                    where,
                    line,
                    f"{section} (id {key})",
                    f"'{key}' is defined twice (also at {_where_text(target[key])})",
                    "give each entry a unique id, or remove the duplicate",
                )
            )
            continue
        target[key] = entity


def _where(entity: Entity, field_name: str | None = None) -> tuple[str, int | None]:
    if entity.provenance is None:
        return "(inputs)", None
    location = entity.provenance.at(field_name) if field_name else entity.provenance.location
    file, _, line = location.rpartition(":")
    if file and line.isdigit():
        return file, int(line)
    return location, None


def _where_text(entity: Entity) -> str:
    return entity.provenance.location if entity.provenance is not None else "another input"


def check_references(inventory: Inventory, dropped: frozenset[str] = frozenset()) -> list[Problem]:
    """Every reference must name something the inventory defines.

    References to ``dropped`` ids (entries already reported invalid) are not reported again.
    """
    return [p for p, value in _reference_problems(inventory) if value not in dropped]


def _reference_problems(inv: Inventory) -> Iterator[tuple[Problem, str]]:
    account_refs = set(inv.accounts) | {a.name for a in inv.accounts.values()}
    classes = sorted(inv.data_classes)
    gates = sorted(inv.gate_kinds)

    def missing(
        entity: Entity, section: str, field_name: str, value: str, kind: str, known: Iterable[str], hint: str
    ) -> tuple[Problem, str]:
        where, line = _where(entity, field_name)
        label = f"{section} (id {getattr(entity, 'id', '?')}).{field_name}"
        did_you_mean = suggest(value, sorted(known))
        problem = Problem(
            where, line, label, f"unknown {kind} '{value}'", "; ".join(p for p in (did_you_mean, hint) if p)
        )
        return problem, value

    def each(values: list[str], name: str) -> Iterator[tuple[str, str]]:
        for index, value in enumerate(values):
            yield f"{name}[{index}]", value

    for store in inv.stores.values():
        if store.account is not None and store.account not in account_refs:
            yield missing(
                store, "stores", "account", store.account, "account", account_refs, "define it under 'accounts'"
            )
        for ref, cls in each(store.classes, "classes"):
            if cls not in inv.data_classes:
                yield missing(store, "stores", ref, cls, "data class", classes, "define it under 'data_classes'")
        if store.tenant is not None and store.tenant not in inv.tenants:
            yield missing(store, "stores", "tenant", store.tenant, "tenant", inv.tenants, "define it under 'tenants'")
        for ref, target in each(store.replicates_to, "replicates_to"):
            if target not in inv.stores:
                yield missing(store, "stores", ref, target, "store", inv.stores, "define it under 'stores'")
        for ref, gate in each(store.passed_gates, "passed_gates"):
            if gate not in inv.gate_kinds:
                yield missing(store, "stores", ref, gate, "gate kind", gates, "define it under 'gate_kinds'")

    for principal in inv.principals.values():
        account = principal.account or arn_account(principal.arn)
        if principal.account is not None and principal.account not in account_refs:
            yield missing(
                principal,
                "principals",
                "account",
                principal.account,
                "account",
                account_refs,
                "define it under 'accounts'",
            )
        elif account is None and inv.accounts:
            where, line = _where(principal)
            yield (
                Problem(
                    where,
                    line,
                    f"principals (id {principal.id})",
                    "no account: give 'account' or an IAM 'arn'",
                    "zone rules need to know where every principal lives",
                ),
                "",
            )
        for ref, store_id in [*each(principal.can_read, "can_read"), *each(principal.can_write, "can_write")]:
            if store_id not in inv.stores:
                yield missing(principal, "principals", ref, store_id, "store", inv.stores, "define it under 'stores'")
        for ref, trusted in each(principal.trusts, "trusts"):
            if not _is_trust_reference(trusted, inv):
                yield missing(
                    principal,
                    "principals",
                    ref,
                    trusted,
                    "principal",
                    inv.principals,
                    "name a principal id, an account id, an IAM ARN, a service (sagemaker.amazonaws.com) or '*'",
                )
        if principal.tenant is not None and principal.tenant not in inv.tenants:
            yield missing(
                principal, "principals", "tenant", principal.tenant, "tenant", inv.tenants, "define it under 'tenants'"
            )
        for ref, gate in each(principal.gate, "gate"):
            if gate not in inv.gate_kinds:
                yield missing(principal, "principals", ref, gate, "gate kind", gates, "define it under 'gate_kinds'")

    for job in inv.jobs.values():
        if job.runs_as is not None and job.runs_as not in inv.principals:
            yield missing(
                job, "jobs", "runs_as", job.runs_as, "principal", inv.principals, "define it under 'principals'"
            )
        if job.account is not None and job.account not in account_refs:
            yield missing(job, "jobs", "account", job.account, "account", account_refs, "define it under 'accounts'")
        for ref, store_id in [*each(job.reads, "reads"), *each(job.writes, "writes")]:
            if store_id not in inv.stores:
                yield missing(job, "jobs", ref, store_id, "store", inv.stores, "define it under 'stores'")
        for ref, gate in each(job.gate, "gate"):
            if gate not in inv.gate_kinds:
                yield missing(job, "jobs", ref, gate, "gate kind", gates, "define it under 'gate_kinds'")

    for flow in inv.flows:
        for name, store_id in (("from", flow.source), ("to", flow.to)):
            if store_id not in inv.stores:
                where, line = _where(flow, name)
                hint = "; ".join(p for p in (suggest(store_id, sorted(inv.stores)), "define it under 'stores'") if p)
                yield Problem(where, line, f"flows.{name}", f"unknown store '{store_id}'", hint), store_id


def _is_trust_reference(value: str, inv: Inventory) -> bool:
    return (
        value == "*"
        or value in inv.principals
        or bool(ACCOUNT_ID.match(value))
        or value.startswith("arn:aws")
        or bool(SERVICE_PRINCIPAL.match(value))
    )
