"""Every reference in the merged inventory must resolve.

Unknown references are errors, never silent drops: a job that reads a store nobody
described would otherwise vanish from the graph and a leak with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from audit.errors import Problem
from audit.inventory import ACCOUNT_ID, SERVICE_PRINCIPAL, Inventory, arn_account
from audit.model import Entity, Store
from audit.validation import suggest


def locate(entity: Entity, field_name: str | None = None) -> tuple[str, int | None]:
    """(file, line) of an entity or one of its fields, for a Problem."""
    if entity.provenance is None:
        return "(inputs)", None
    location = entity.provenance.at(field_name) if field_name else entity.provenance.location
    file, _, line = location.rpartition(":")
    if file and line.isdigit():
        return file, int(line)
    return location, None


def check_references(inventory: Inventory, dropped: frozenset[str] = frozenset()) -> list[Problem]:
    """Every reference must name something the inventory defines.

    References to ``dropped`` ids (entries already reported invalid) are not reported again.
    """
    if _all_known(inventory):
        return []  # the usual case, answered with set operations (an estate has 10^6 references)
    return [p for p, value in _reference_problems(inventory) if value not in dropped]


def _all_known(inv: Inventory) -> bool:
    """Does every reference name something defined? (No problem to locate, then.)"""
    stores, principals, jobs = inv.stores.values(), inv.principals.values(), inv.jobs.values()
    accounts = set(inv.accounts) | {a.name for a in inv.accounts.values()}
    named_accounts = {s.account for s in stores} | {p.account for p in principals} | {j.account for j in jobs}
    store_refs = {r for s in stores for r in s.replicates_to}
    store_refs |= {r for p in principals for refs in (p.can_read, p.can_write) for r in refs}
    store_refs |= {r for j in jobs for refs in (j.reads, j.writes) for r in refs}
    store_refs |= {r for f in inv.flows for r in (f.source, f.to)}
    gates = {g for s in stores for g in s.passed_gates} | {g for j in jobs for g in j.gate}
    gates |= {g for p in principals for g in p.gate or ()}
    gates |= {g for c in inv.data_classes.values() for g in c.removed_by}
    return (
        named_accounts - {None} <= accounts
        and {c for s in stores for c in s.classes} <= inv.data_classes.keys()
        and {c for s in stores for _, c in _vocabulary(s)} <= inv.data_classes.keys()
        and {s.tenant for s in stores} | {p.tenant for p in principals} <= {None, *inv.tenants}
        and store_refs <= inv.stores.keys()
        and {p for p in (j.runs_as for j in jobs) if p is not None} <= inv.principals.keys()
        and all(_is_trust_reference(t, inv) for p in principals for t in p.trusts)
        and gates <= inv.gate_kinds
        and (not inv.accounts or all(p.account or arn_account(p.arn) for p in principals))
    )


def _reference_problems(inv: Inventory) -> Iterator[tuple[Problem, str]]:
    account_refs = set(inv.accounts) | {a.name for a in inv.accounts.values()}
    classes = sorted(inv.data_classes)
    gates = sorted(inv.gate_kinds)

    def missing(
        entity: Entity, section: str, field_name: str, value: str, kind: str, known: Iterable[str], hint: str
    ) -> tuple[Problem, str]:
        file, line = locate(entity, field_name)
        label = f"{section} (id {getattr(entity, 'id', '?')}).{field_name}"
        did_you_mean = suggest(value, sorted(known))
        problem = Problem(
            file, line, label, f"unknown {kind} '{value}'", "; ".join(p for p in (did_you_mean, hint) if p)
        )
        return problem, value

    def each(values: list[str], name: str, known: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
        """The values that name nothing known, with where they are (``reads[1]``): most
        references are fine, and only the bad ones are worth a name."""
        for index, value in enumerate(values):
            if not known(value):
                yield f"{name}[{index}]", value

    for name, data_class in inv.data_classes.items():
        for ref, gate in each(data_class.removed_by, "removed_by", inv.gate_kinds.__contains__):
            problem, value = missing(
                data_class, "data_classes", ref, gate, "gate kind", gates, "define it under 'gate_kinds'"
            )
            yield replace(problem, field=f"data_classes.{name}.{ref}"), value

    for store in inv.stores.values():
        if store.account is not None and store.account not in account_refs:
            yield missing(
                store, "stores", "account", store.account, "account", account_refs, "define it under 'accounts'"
            )
        for ref, cls in each(store.classes, "classes", inv.data_classes.__contains__):
            yield missing(store, "stores", ref, cls, "data class", classes, "define it under 'data_classes'")
        for label, cls in _vocabulary(store):
            if cls not in inv.data_classes:
                yield missing(
                    store,
                    "stores",
                    f"vocabulary.provenance.values.{label}",
                    cls,
                    "data class",
                    classes,
                    "map the label to a data class, or define the class under 'data_classes'",
                )
        if store.tenant is not None and store.tenant not in inv.tenants:
            yield missing(store, "stores", "tenant", store.tenant, "tenant", inv.tenants, "define it under 'tenants'")
        for ref, target in each(store.replicates_to, "replicates_to", inv.stores.__contains__):
            yield missing(store, "stores", ref, target, "store", inv.stores, "define it under 'stores'")
        for ref, gate in each(store.passed_gates, "passed_gates", inv.gate_kinds.__contains__):
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
            file, line = locate(principal)
            yield (
                Problem(
                    file,
                    line,
                    f"principals (id {principal.id})",
                    "no account: give 'account' or an IAM 'arn'",
                    "zone rules need to know where every principal lives",
                ),
                "",
            )
        stored = inv.stores.__contains__
        for ref, store_id in [
            *each(principal.can_read, "can_read", stored),
            *each(principal.can_write, "can_write", stored),
        ]:
            yield missing(principal, "principals", ref, store_id, "store", inv.stores, "define it under 'stores'")
        for ref, trusted in each(principal.trusts, "trusts", lambda value: _is_trust_reference(value, inv)):
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
        for ref, gate in each(principal.gate, "gate", inv.gate_kinds.__contains__):
            yield missing(principal, "principals", ref, gate, "gate kind", gates, "define it under 'gate_kinds'")

    for job in inv.jobs.values():
        if job.runs_as is not None and job.runs_as not in inv.principals:
            yield missing(
                job, "jobs", "runs_as", job.runs_as, "principal", inv.principals, "define it under 'principals'"
            )
        if job.account is not None and job.account not in account_refs:
            yield missing(job, "jobs", "account", job.account, "account", account_refs, "define it under 'accounts'")
        for ref, store_id in [
            *each(job.reads, "reads", inv.stores.__contains__),
            *each(job.writes, "writes", inv.stores.__contains__),
        ]:
            yield missing(job, "jobs", ref, store_id, "store", inv.stores, "define it under 'stores'")
        for ref, gate in each(job.gate, "gate", inv.gate_kinds.__contains__):
            yield missing(job, "jobs", ref, gate, "gate kind", gates, "define it under 'gate_kinds'")

    for flow in inv.flows:
        for name, store_id in (("from", flow.source), ("to", flow.to)):
            if store_id not in inv.stores:
                file, line = locate(flow, name)
                hint = "; ".join(p for p in (suggest(store_id, sorted(inv.stores)), "define it under 'stores'") if p)
                yield Problem(file, line, f"flows.{name}", f"unknown store '{store_id}'", hint), store_id


def _vocabulary(store: Store) -> list[tuple[str, str]]:
    """(label, data class) of a store's provenance vocabulary."""
    vocabulary = store.vocabulary.provenance if store.vocabulary else None
    return list(vocabulary.values.items()) if vocabulary else []


def _is_trust_reference(value: str, inv: Inventory) -> bool:
    return (
        value == "*"
        or value in inv.principals
        or bool(ACCOUNT_ID.match(value))
        or value.startswith("arn:aws")
        or bool(SERVICE_PRINCIPAL.match(value))
    )
