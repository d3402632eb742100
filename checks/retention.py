"""RET-*: data is kept no longer than the organisation says (C4).

A store's retention is the expiration of its lifecycle (its own ``retention_days``, a
lifecycle rule covering its prefix, or its bucket's), held against the strictest maximum
of its classes. Under versioning, an expired object lives on as a noncurrent version for
as long as noncurrent versions are kept: that is retention too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from audit.checkapi import Check, CheckContext, NoParams, Outcome
from audit.graph.classes import describe_classes, retention_limits
from audit.graph.model import Evidence
from audit.inventory import Inventory
from audit.locations import s3_identity
from audit.model import Store


@dataclass(frozen=True)
class Retention:
    days: int | None  # None: kept forever
    holder: Store  # the store whose setting or lifecycle rule states it
    field_name: str
    detail: str | None = None

    def evidence(self, ctx: CheckContext[Any]) -> Evidence:
        return ctx.evidence(self.holder, self.field_name, self.detail)


def retention(inventory: Inventory, store: Store, ctx: CheckContext[Any]) -> Retention | None:
    """How long the store's current objects live; None when no source says (computed once
    per store: several checks ask)."""
    known: dict[str, Retention | None] = ctx.graph.memo.setdefault("retention", {})
    if store.id in known and inventory.stores.get(store.id) is store:
        return known[store.id]
    found = known[store.id] = _retention(inventory, store)
    return found


def _retention(inventory: Inventory, store: Store) -> Retention | None:
    if "retention_days" in store.__pydantic_fields_set__:
        return Retention(store.retention_days, store, "retention_days")
    enclosing = inventory.enclosing(store)
    if not store.lifecycle and not enclosing:
        return None
    return _covering_rule(inventory, store, "expiration_days", "objects", fallback="retention_days")


def _noncurrent_rule(inventory: Inventory, store: Store) -> Retention | None:
    """The shortest noncurrent-version expiration among the lifecycle rules whose prefix
    covers every object of the store (the nearest holder's rules first, as for expiration).
    A rule filtered to another prefix (``tmp/``) says nothing about this store's versions."""
    return _covering_rule(inventory, store, "noncurrent_days", "noncurrent versions")


def _covering_rule(
    inventory: Inventory, store: Store, days: str, what: str, fallback: str | None = None
) -> Retention | None:
    """The shortest lifecycle rule setting ``days`` whose prefix covers every object of the
    store, the nearest holder (the store, then each store enclosing it) first; with
    ``fallback``, an enclosing holder that states that field instead ends the search."""
    location = s3_identity(store.arn, store.location) or ""
    for holder in (store, *inventory.enclosing(store)):
        key_prefix = location[len(s3_identity(holder.arn, holder.location) or "") :]
        covering = [r for r in holder.lifecycle if getattr(r, days) is not None and key_prefix.startswith(r.prefix)]
        if covering:
            rule = min(covering, key=lambda r: getattr(r, days) or 0)
            count = getattr(rule, days)
            said = f"{holder.id}: lifecycle rule for prefix '{rule.prefix}' expires {what} after {count} days"
            return Retention(count, holder, "lifecycle", said)
        if fallback and holder is not store and fallback in holder.__pydantic_fields_set__:
            return Retention(getattr(holder, fallback), holder, fallback)
    return None


def _limited(ctx: CheckContext[NoParams]) -> list[tuple[Store, int]]:
    """The stores holding a class with a maximum retention, with that maximum (by id)."""
    limited: list[tuple[Store, int]] | None = ctx.graph.memo.get("retention-limited")
    if limited is None:
        limited = ctx.graph.memo["retention-limited"] = retention_limits(ctx.graph)
    return limited


def _limit_text(ctx: CheckContext[NoParams], store: Store, limit: int) -> str:
    strict = [c for c, spec in ctx.inventory.data_classes.items() if spec.max_retention_days == limit]
    return f"{limit} days ({describe_classes(ctx.graph, store, strict)})"


def retention_within_limit(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Each store's retention is within the maximum of its strictest class (RET-001).

    A store whose retention no source states is a coverage gap.

    Example finding::

        RET-001-1e7c0a29d4f2  HIGH  declared
        api-logs-dr keeps data for 400 days; its classes allow 30 days (commercial-api)
    """
    if not _limited(ctx):
        yield ctx.nothing_in_scope("store holding a class with a maximum retention")
    for store, limit in _limited(ctx):
        kept = retention(ctx.inventory, store, ctx)
        if kept is None:
            yield ctx.gap(
                f"store:{store.id}",
                f"the retention of {store.id} is unknown: no lifecycle or "
                "retention_days is stated for it or its bucket",
            )
        elif kept.days is not None and kept.days > limit:
            yield ctx.store_finding(
                store,
                evidence=[kept.evidence(ctx)],
                message=f"{store.id} keeps data for {kept.days} days; its classes allow "
                f"{_limit_text(ctx, store, limit)}",
                details={"retention_days": kept.days, "limit_days": limit},
            )


def expiration_exists(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No store holding a class with a maximum retention keeps data forever (RET-002).

    Example finding::

        RET-002-0b5d64e3a8c1  HIGH  declared
        api-debug-dumps has no expiration: data is kept forever; its classes allow 30 days (commercial-api)
    """
    if not _limited(ctx):
        yield ctx.nothing_in_scope("store holding a class with a maximum retention")
    for store, limit in _limited(ctx):
        kept = retention(ctx.inventory, store, ctx)
        if kept is not None and kept.days is None:
            yield ctx.store_finding(
                store,
                evidence=[kept.evidence(ctx)],
                message=f"{store.id} has no expiration: data is kept forever; its classes allow "
                f"{_limit_text(ctx, store, limit)}",
                details={"retention_days": None, "limit_days": limit},
            )


def noncurrent_versions_expire(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Under versioning, current plus noncurrent retention stays within the maximum (RET-003).

    Unknown versioning on such a store is a coverage gap: noncurrent versions might be
    kept forever.

    Example finding::

        RET-003-9f1e2d3c4b5a  MEDIUM  declared
        feedback-labels is versioned and keeps noncurrent versions forever; its classes allow 365 days
    """
    if not _limited(ctx):
        yield ctx.nothing_in_scope("store holding a class with a maximum retention")
    for store, limit in _limited(ctx):
        versioned, holder = ctx.inventory.setting(store, "versioning")
        if holder is None:
            yield ctx.gap(
                f"store:{store.id}",
                f"whether {store.id} is versioned is unknown: noncurrent versions may outlive its retention",
            )
            continue
        if not versioned:
            continue
        kept = retention(ctx.inventory, store, ctx)
        noncurrent, noncurrent_holder = ctx.inventory.setting(store, "noncurrent_retention_days")
        evidence = [ctx.evidence(holder, "versioning")]
        if noncurrent is None and (rule := _noncurrent_rule(ctx.inventory, store)) is not None:
            noncurrent = rule.days
            evidence.append(rule.evidence(ctx))
        elif noncurrent_holder is not None and noncurrent is not None:
            evidence.append(
                ctx.evidence(
                    noncurrent_holder,
                    "noncurrent_retention_days",
                    f"noncurrent versions expire after {noncurrent} days",
                )
            )
        if noncurrent is None:
            yield ctx.store_finding(
                store,
                evidence=evidence,
                message=(
                    f"{store.id} is versioned and keeps noncurrent versions forever; its classes allow "
                    f"{_limit_text(ctx, store, limit)}"
                ),
                details={"limit_days": limit},
            )
        elif kept is not None and kept.days is not None and kept.days + noncurrent > limit:
            total = kept.days + noncurrent
            yield ctx.store_finding(
                store,
                evidence=[kept.evidence(ctx), *evidence],
                message=(
                    f"{store.id} keeps an object {kept.days} days and its noncurrent version {noncurrent} more "
                    f"({total} days); its classes allow {_limit_text(ctx, store, limit)}"
                ),
                details={"total_days": total, "limit_days": limit},
            )


CHECKS = (
    Check(
        id="RET-001",
        title="Retention within the limit of the data's class",
        severity="high",
        claim_ids=("C4",),
        rationale="Customers are told how long their data is kept (API data 30 days, consumer opt-in data "
        "5 years); a store that keeps it longer breaks the commitment for every record in it.",
        remediation="Set a lifecycle expiration no longer than the class allows on the store (or the prefix "
        "rule that covers it); for copies, expire them with the original.",
        evaluate=retention_within_limit,
    ),
    Check(
        id="RET-002",
        title="Data with a retention limit has an expiration at all",
        severity="high",
        claim_ids=("C4",),
        rationale="A store with no expiration keeps its data forever, whatever the stated limit.",
        remediation="Add a lifecycle rule expiring every object (no filter, or one rule per prefix) within "
        "the class's maximum retention.",
        evaluate=expiration_exists,
    ),
    Check(
        id="RET-003",
        title="Noncurrent versions do not outlive the retention limit",
        severity="medium",
        claim_ids=("C4",),
        rationale="With versioning, deleting or expiring an object keeps its previous versions; unless they "
        "expire too, the data is still there.",
        remediation="Add NoncurrentVersionExpiration so that retention plus noncurrent retention stays within "
        "the limit, or suspend versioning on the store.",
        evaluate=noncurrent_versions_expire,
    ),
)
