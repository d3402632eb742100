"""The merged inventory: what every source together says the organisation holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from audit.coverage import CoverageGap
from audit.locations import parent_locations, s3_identity
from audit.model import Account, DataClass, Flow, Job, KmsKey, Principal, Store, Tenant, Zone
from audit.taxonomy import BUILTIN_GATE_KINDS

if TYPE_CHECKING:
    from audit.conflicts import Conflict

ACCOUNT_ID = re.compile(r"^\d{12}$")
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
FEDERATED_PROVIDER = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:(?:oidc|saml)-provider/(.+)$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):")


@dataclass(frozen=True)
class InputRecord:
    """One input of the run, as report.json's ``run.inputs`` lists it."""

    source: str
    path_or_uri: str
    sha256: str
    # what the input held, by kind (a lineage file: its lines, events of each kind, bad lines)
    counts: tuple[tuple[str, int], ...] = ()


@dataclass
class Inventory:
    organisation: str
    accounts: dict[str, Account] = field(default_factory=dict)
    data_classes: dict[str, DataClass] = field(default_factory=dict)
    gate_kinds: frozenset[str] = BUILTIN_GATE_KINDS
    kms_keys: dict[str, KmsKey] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

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

    # Class facts per combination of classes: an estate has 10^5 stores but few combinations.
    @cached_property
    def _class_facts(self) -> dict[tuple[str, ...], tuple[bool, bool, int | None]]:
        return {}

    @cached_property
    def _store_facts(self) -> dict[str, tuple[bool, bool, int | None]]:
        return {}

    def _facts(self, store: Store) -> tuple[bool, bool, int | None]:
        facts = self._store_facts.get(store.id)
        if facts is not None:
            return facts
        key = tuple(store.classes)
        facts = self._class_facts.get(key)
        if facts is None:
            known = [self.data_classes[c] for c in key if c in self.data_classes]
            limits = [c.max_retention_days for c in known if c.max_retention_days is not None]
            facts = (any(c.training_sink for c in known), any(c.protected for c in known), min(limits, default=None))
            self._class_facts[key] = facts
        self._store_facts[store.id] = facts
        return facts

    @cached_property
    def _sorted_stores(self) -> list[Store]:
        return sorted(self.stores.values(), key=lambda s: s.id)

    def sorted_stores(self) -> list[Store]:
        """Every store, by id (computed once: checks walk them again and again)."""
        return self._sorted_stores

    @cached_property
    def _protected_stores(self) -> list[Store]:
        return [s for s in self._sorted_stores if self.is_protected(s)]

    def protected_stores(self) -> list[Store]:
        """The stores of a protected class, by id."""
        return self._protected_stores

    def is_training_sink(self, store: Store) -> bool:
        return (self._store_facts.get(store.id) or self._facts(store))[0]

    def is_protected(self, store: Store) -> bool:
        return (self._store_facts.get(store.id) or self._facts(store))[1]

    def max_retention(self, store: Store) -> int | None:
        """The strictest maximum retention of the store's classes (None: no maximum)."""
        return (self._store_facts.get(store.id) or self._facts(store))[2]

    @cached_property
    def _locations(self) -> dict[str, str | None]:
        return {store.id: s3_identity(store.arn, store.location) for store in self.stores.values()}

    def s3_location(self, store: Store) -> str | None:
        """The store's ``s3://bucket/prefix/`` identity (None: not in S3)."""
        if store.id in self._locations and self.stores.get(store.id) is store:
            return self._locations[store.id]
        return s3_identity(store.arn, store.location)

    @cached_property
    def _by_location(self) -> dict[str, Store]:
        located: dict[str, Store] = {}
        for store in self.stores.values():
            location = self._locations.get(store.id) or s3_identity(store.arn, store.location)
            if location is not None:
                located.setdefault(location, store)
        return located

    @cached_property
    def _enclosing(self) -> dict[str, list[Store]]:
        return {}

    def enclosing(self, store: Store) -> list[Store]:
        """The stores whose S3 prefix holds this one (its bucket first... nearest first)."""
        found = self._enclosing.get(store.id)
        if found is None:
            location = self._locations.get(store.id) or s3_identity(store.arn, store.location)
            found = (
                [self._by_location[p] for p in parent_locations(location) if p in self._by_location]
                if location is not None
                else []
            )
            self._enclosing[store.id] = found
        return found

    @cached_property
    def _enclosed(self) -> dict[str, list[Store]]:
        """The enclosing stores of every store inside another (most are not)."""
        return {store.id: found for store in self.stores.values() if (found := self.enclosing(store))}

    def setting(self, store: Store, field_name: str) -> tuple[Any, Store | None]:
        """A bucket-level setting as it applies to the store: its own if stated, else the
        nearest enclosing store's. For the settings a bucket imposes on everything in it
        (default encryption and its key, Block Public Access, the ACL), the value worse for
        the claims among the store's own and its enclosing stores' counts.
        Returns (value, the store that states it) or (None, None)."""
        if store.id in self.stores and store.id not in self._enclosed:  # most stores: no container
            return (getattr(store, field_name), store) if field_name in store.__pydantic_fields_set__ else (None, None)
        stated = self._stated(store, field_name)
        if not stated:
            return None, None
        rank = _WORSE.get(field_name)
        if rank is not None:
            return min(stated, key=lambda found: rank(found[0]))  # nearest first among equals
        if field_name == "kms_key":
            _, holder = self.setting(store, "encryption")
            chosen = next((found for found in stated if found[1] is holder), None)
            if chosen is not None:
                return chosen
        return stated[0]

    def _stated(self, store: Store, field_name: str) -> list[tuple[Any, Store]]:
        """(value, store) for the store and each enclosing store that states the field,
        nearest first."""
        found: list[tuple[Any, Store]] = []
        if field_name in store.__pydantic_fields_set__:
            found.append((getattr(store, field_name), store))
        enclosing = self._enclosed.get(store.id, ()) if store.id in self.stores else self.enclosing(store)
        for holder in enclosing:
            if field_name in holder.__pydantic_fields_set__:
                found.append((getattr(holder, field_name), holder))
        return found

    def bucket_policies(self, store: Store) -> list[Store]:
        """The stores whose stated ``policy`` applies to this store's objects: its own and
        every enclosing store's (a bucket policy binds every prefix its Resource covers),
        nearest first. Empty when no one states a policy: the bucket policy is unknown."""
        if store.id in self.stores and store.id not in self._enclosed:  # most stores: no container
            return [store] if store.policy is not None and "policy" in store.__pydantic_fields_set__ else []
        return [holder for value, holder in self._stated(store, "policy") if value is not None]


_ENCRYPTION_STRENGTH = {"none": 0, None: 1, "unknown": 1, "AES256": 2, "aws:kms": 3}
_WORSE: dict[str, Any] = {  # per field: a rank, lowest worst for the claims
    "encryption": lambda value: _ENCRYPTION_STRENGTH.get(value, 1),
    "public_access_blocked": lambda value: {False: 0, None: 1, True: 2}[value],
    "public_acl": lambda value: {True: 0, None: 1, False: 2}[value],
}


def arn_account(arn: str | None) -> str | None:
    if not arn:
        return None
    match = _ARN_ACCOUNT.match(arn)
    return match.group(1) if match else None
