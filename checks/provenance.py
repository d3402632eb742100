"""DAT-002 and DAT-005: what the training records say about themselves (claims C1, C2, C3).

A training dataset's provenance column (``source``) and consent column (``consent``) hold
labels, not client data. The scan counts each dataset's distinct labels (a census, on either
engine); these checks read what each label *means*, compared after case folding with ``-``,
``_`` and spaces alike (``Consumer_Opt_Out`` is ``consumer-opt-out``):

1. the store's own vocabulary (``vocabulary.provenance.values`` in the inventory);
2. a data class of the inventory (built-in or the organisation's own);
3. a label the suite lists as consumer data (``consumer``: consent decides);
4. a tenant's id or identifier (the tenant's tier decides).

Only evidence of a violation contradicts a claim: a label naming a protected class, tier or
tenant contradicts that class's claim; opted-out consumer records contradict C3 whatever
the spelling. A label that means nothing known, a record with no label, a consumer record
whose consent is unstated or unrecognised: each is a coverage gap (insufficient evidence)
with its counts and a sample of the labels, never a contradiction of a claim it does not
bear on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, Outcome
from audit.content.requests import ContentRequest, LabelRequest
from audit.content.results import LabelCensus
from audit.graph.model import Evidence
from audit.inventory import Inventory
from audit.labels import fold, folded
from audit.model import Store
from audit.redact import redact_text
from checks.content import DEFAULT_CLASS_CLAIMS, TIER_CLAIMS

CONSUMER_CLASSES = ("consumer-opt-in", "consumer-opt-out")
SAMPLE = 10  # distinct labels quoted in a gap


@dataclass(frozen=True)
class Meaning:
    kind: Literal["class", "consumer", "tenant", "unknown", "missing"]
    name: str = ""  # the data class or tenant


class Lexicon:
    """What a provenance label means in one training dataset."""

    def __init__(self, inventory: Inventory, store: Store | None, consumer_labels: Sequence[str]) -> None:
        vocabulary = store.vocabulary.provenance if store and store.vocabulary else None
        self.own = {fold(k): v for k, v in (vocabulary.values if vocabulary else {}).items()}
        self.classes = {fold(name): name for name in inventory.data_classes}
        self.consumer = folded(consumer_labels)
        self.tenants: dict[str, str] = {}
        for tenant in sorted(inventory.tenants.values(), key=lambda t: t.id):
            for identifier in [tenant.id, *tenant.identifiers]:
                self.tenants.setdefault(fold(identifier), tenant.id)

    def meaning(self, label: str | None) -> Meaning:
        key = fold(label)
        if not key:
            return Meaning("missing")
        if key in self.own:
            return Meaning("class", self.own[key])
        if key in self.classes:
            return Meaning("class", self.classes[key])
        if key in self.consumer:
            return Meaning("consumer")
        if key in self.tenants:
            return Meaning("tenant", self.tenants[key])
        return Meaning("unknown")


@dataclass
class Tally:
    """Records of one meaning in one dataset: how many, under which labels, where."""

    records: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    first: list[str] = field(default_factory=list)

    def add(self, label: str | None, records: int, first: Sequence[str]) -> None:
        self.records += records
        shown = "(none)" if label is None else label
        self.labels[shown] = self.labels.get(shown, 0) + records
        self.first.extend(first[: max(0, 5 - len(self.first))])

    def quoted(self) -> str:
        ranked = sorted(self.labels.items(), key=lambda item: (-item[1], item[0]))
        text = ", ".join(f"{safe_label(label)!r} ({count})" for label, count in ranked[:SAMPLE])
        more = len(ranked) - SAMPLE
        return text + (f" and {more} more" if more > 0 else "")


def safe_label(label: str) -> str:
    """A label as a report may quote it: vocabulary, yet a secret or personal data is masked."""
    from audit.content.detectors import looks_personal

    text = label if len(label) <= 60 else label[:59] + "…"
    return "[REDACTED]" if redact_text(text) != text or looks_personal(text) else text


def records_of(census: LabelCensus) -> int:
    return sum(c.records for c in census.counts.values()) + census.overflow


def _scanned(ctx: CheckContext[Any]) -> list[LabelCensus]:
    content = ctx.content
    if content is None or content.failed:
        return []
    return [c for c in content.labels if (d := content.dataset(c.store, "training")) is not None and d.objects]


def _no_records(ctx: CheckContext[Any], census: LabelCensus, what: str) -> Outcome:
    return ctx.gap(f"store:{census.store}", f"training dataset {census.store}: no record was examined: {what}")


def _located(tally: Tally, column: str) -> list[dict[str, Any]]:
    return [{"location": where, "column": column, "kind": "label"} for where in tally.first]


def _evidence(census: LabelCensus, column: str, tally: Tally, what: str) -> list[Evidence]:
    return [
        Evidence(kind="content", location=where, detail=f"{what} (column {column!r}: {tally.quoted()})")
        for where in tally.first
    ]


# --- DAT-002: provenance ---------------------------------------------------------------------


class ProvenanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provenance_column: str = "source"
    allowed_sources: list[str] = Field(
        default_factory=lambda: ["public-web", "licensed", "synthetic", "consumer-opt-in"]
    )
    consumer_sources: list[str] = Field(default_factory=lambda: ["consumer"])
    class_claims: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_CLASS_CLAIMS))


def _column(store: Store | None, default: str, field_name: Literal["provenance", "consent"]) -> str:
    vocabulary = getattr(store.vocabulary, field_name) if store and store.vocabulary else None
    return vocabulary.column if vocabulary and vocabulary.column else default


def provenance_request(params: ProvenanceParams, inventory: Inventory) -> list[ContentRequest]:
    own = {
        s.id: (_column(s, params.provenance_column, "provenance"),)
        for s in inventory.stores.values()
        if s.vocabulary is not None
    }
    return [LabelRequest("DAT-002", (params.provenance_column,), own)]


def provenance_allowed(ctx: CheckContext[ProvenanceParams]) -> Iterator[Outcome]:
    """Every training record names where it came from, and no record names a protected class,
    tier or tenant as its source (DAT-002).

    A label naming ``commercial-api`` (in any spelling, or through the dataset's vocabulary)
    contradicts C1; one naming an enterprise, government or education class or tenant
    contradicts C2. Consumer labels are DAT-005's (consent decides). A label that maps to
    nothing known, or no label at all, is a coverage gap for C1 and C2: provenance is
    unreliable there, which is not evidence that client data is in training.

    Example finding::

        DAT-002-7d6c5b4a3f2e  HIGH  declared
        12 of 4000 records of pretrain-mix name commercial-api as their source (column 'source':
        'Commercial_API' (12))
    """
    params = ctx.params
    allowed = folded(params.allowed_sources)
    if (
        ctx.content is not None
        and not ctx.content.failed
        and not any(d.role == "training" for d in ctx.content.datasets)
    ):
        yield ctx.nothing_in_scope("training sink (a store of a training class)")
    for census in _scanned(ctx):
        store = ctx.inventory.stores.get(census.store)
        column = _column(store, params.provenance_column, "provenance")
        total = records_of(census)
        if not total:
            yield _no_records(ctx, census, "where its records came from was not checked")
            continue
        if column not in census.present:
            yield ctx.gap(
                f"store:{census.store}",
                f"training dataset {census.store}: allowed-source: the dataset has no column {column!r}: "
                "where its records came from was not checked (name its provenance column under the store's "
                "vocabulary.provenance.column)",
            )
            continue
        lexicon = Lexicon(ctx.inventory, store, params.consumer_sources)
        index = census.column(column)
        tallies: dict[tuple[str, str], Tally] = {}
        for key, count in census.counts.items():
            meaning = lexicon.meaning(key[index])
            slot = _provenance_slot(ctx, meaning, allowed)
            if slot is not None:
                tallies.setdefault(slot, Tally()).add(key[index], count.records, count.first)
        for (kind, name), tally in sorted(tallies.items()):
            yield _provenance_outcome(ctx, census, column, total, kind, name, tally)
        if census.overflow:
            yield ctx.gap(
                f"store:{census.store}",
                f"training dataset {census.store}: {census.overflow} records carry labels past the first "
                "10000 distinct ones: their provenance was not read",
            )


def _provenance_slot(ctx: CheckContext[ProvenanceParams], meaning: Meaning, allowed: frozenset[str]) -> Any:
    """(kind, name) of what a label's records show, or None when they are allowed to train."""
    if meaning.kind == "consumer" or (meaning.kind == "class" and meaning.name in CONSUMER_CLASSES):
        return None  # DAT-005: consent decides
    if meaning.kind == "tenant":
        tier = ctx.inventory.tenants[meaning.name].tier
        return None if tier == "consumer" else ("tenant", meaning.name)
    if meaning.kind == "class":
        data_class = ctx.inventory.data_classes.get(meaning.name)
        if data_class is not None and data_class.protected:
            return ("protected", meaning.name)
        return None if fold(meaning.name) in allowed else ("not-allowed", meaning.name)
    return (meaning.kind, "")


def _provenance_outcome(
    ctx: CheckContext[ProvenanceParams],
    census: LabelCensus,
    column: str,
    total: int,
    kind: str,
    name: str,
    tally: Tally,
) -> Outcome:
    of = f"{tally.records} of {total} records of {census.store}"
    scope = f"store:{census.store}"
    if kind in ("protected", "tenant"):
        if kind == "tenant":
            tier = ctx.inventory.tenants[name].tier
            what, claims = f"tenant {name} ({tier})", [TIER_CLAIMS[tier]] if tier in TIER_CLAIMS else None
        else:
            what, claims = name, ctx.params.class_claims.get(name)
        message = f"{of} name {what} as their source (column {column!r}: {tally.quoted()})"
        return ctx.node_finding(
            "store",
            census.store,
            message=message,
            evidence=_evidence(census, column, tally, f"source names {what}"),
            qualifier=f"provenance:{kind}:{name}",
            details={
                "column": column,
                "source": what,
                "records": tally.records,
                "evaluated": total,
                "labels": {safe_label(k): v for k, v in tally.labels.items()},
                "examples": _located(tally, column),
            },
            claims=claims,
        )
    if kind == "missing":
        reason = f"{of} state no source (column {column!r}): where they came from is unknown"
    elif kind == "not-allowed":
        reason = (
            f"{of} name class {name}, which this suite does not list as allowed to train "
            f"(column {column!r}: {tally.quoted()}); add it to DAT-002's allowed_sources if it may"
        )
    else:
        reason = (
            f"{of} ({len(tally.labels)} distinct labels) name a source that maps to no data class, tier or "
            f"tenant: {tally.quoted()}; where they came from is unknown (map the labels under the store's "
            "vocabulary.provenance.values)"
        )
    return ctx.gap(scope, f"training dataset {census.store}: provenance: {reason}")


# --- DAT-005: consent ------------------------------------------------------------------------


class ConsentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provenance_column: str = "source"
    consumer_sources: list[str] = Field(default_factory=lambda: ["consumer"])
    consent_column: str = "consent"
    consent_values: list[str] = Field(default_factory=lambda: ["opt-in", "opted-in", "true", "yes"])
    opted_out_values: list[str] = Field(default_factory=lambda: ["opt-out", "opted-out", "false", "no"])


def consent_request(params: ConsentParams, inventory: Inventory) -> list[ContentRequest]:
    own = {
        s.id: (_column(s, params.provenance_column, "provenance"), _column(s, params.consent_column, "consent"))
        for s in inventory.stores.values()
        if s.vocabulary is not None
    }
    return [LabelRequest("DAT-005", (params.provenance_column, params.consent_column), own)]


def _consent_sets(params: ConsentParams, store: Store | None) -> tuple[frozenset[str], frozenset[str]]:
    vocabulary = store.vocabulary.consent if store and store.vocabulary else None
    opted_in = folded([*params.consent_values, *(vocabulary.opted_in if vocabulary else [])])
    opted_out = folded([*params.opted_out_values, *(vocabulary.opted_out if vocabulary else [])])
    return opted_in - opted_out, opted_out


def consumer_consent(ctx: CheckContext[ConsentParams]) -> Iterator[Outcome]:
    """No opted-out consumer record is in training data, and every consumer record there
    carries opt-in consent (DAT-005).

    A consumer record is one whose source means consumer data (``consumer-opt-out``,
    ``Consumer_Opt_In``, ``consumer``, a consumer tenant, or a label the dataset's vocabulary
    maps to a consumer class). Records of an opted-out source, or whose consent means opted
    out (``opt-out``, ``false``, ``no``, or the dataset's own ``opted_out`` values), contradict
    C3 whatever their spelling. A consumer record with no consent value, or one that means
    neither, is a coverage gap; so is a training set with no consumer record examined at all
    (consent was never put to the test).

    Example finding::

        DAT-005-4a3f2e1d0c9b  HIGH  declared
        7 of 1200 records of sft-chats are consumer records that opted out (columns 'source',
        'consent': 'opt-out' (7))
    """
    params = ctx.params
    if (
        ctx.content is not None
        and not ctx.content.failed
        and not any(d.role == "training" for d in ctx.content.datasets)
    ):
        yield ctx.nothing_in_scope("training sink (a store of a training class)")
    scanned = _scanned(ctx)
    consumer_records = 0
    for census in scanned:
        store = ctx.inventory.stores.get(census.store)
        source_column = _column(store, params.provenance_column, "provenance")
        consent_column = _column(store, params.consent_column, "consent")
        total = records_of(census)
        if not total:
            yield _no_records(ctx, census, "consumer consent was not checked")
            continue
        if source_column not in census.present:
            yield ctx.gap(
                f"store:{census.store}",
                f"training dataset {census.store}: consent-opt-in: the dataset has no column {source_column!r}: "
                "which of its records are consumer records was not checked",
            )
            continue
        lexicon = Lexicon(ctx.inventory, store, params.consumer_sources)
        opted_in, opted_out = _consent_sets(params, store)
        source_at, consent_at = census.column(source_column), census.column(consent_column)
        tallies: dict[str, Tally] = {}
        for key, count in census.counts.items():
            meaning = lexicon.meaning(key[source_at])
            if not _is_consumer(ctx, meaning):
                continue
            consumer_records += count.records
            consent = key[consent_at]
            if meaning.kind == "class" and meaning.name == "consumer-opt-out":
                slot, label = "opted-out-source", key[source_at]
            elif fold(consent) in opted_out:
                slot, label = "opted-out", consent
            elif fold(consent) in opted_in:
                continue
            else:
                slot, label = ("missing" if not fold(consent) else "unknown"), consent
            tallies.setdefault(slot, Tally()).add(label, count.records, count.first)
        for slot, tally in sorted(tallies.items()):
            yield _consent_outcome(ctx, census, (source_column, consent_column), total, slot, tally)
    if scanned and not consumer_records:
        yield ctx.gap(
            "check:DAT-005",
            "no consumer record was examined in the training data: consent was not put to the test "
            "(if consumer data trains, name its source labels in DAT-005's consumer_sources or the store's "
            "vocabulary)",
        )


def _is_consumer(ctx: CheckContext[ConsentParams], meaning: Meaning) -> bool:
    if meaning.kind == "consumer":
        return True
    if meaning.kind == "class":
        return meaning.name in CONSUMER_CLASSES
    if meaning.kind == "tenant":
        return ctx.inventory.tenants[meaning.name].tier == "consumer"
    return False


def _consent_outcome(
    ctx: CheckContext[ConsentParams],
    census: LabelCensus,
    columns: tuple[str, str],
    total: int,
    slot: str,
    tally: Tally,
) -> Outcome:
    of = f"{tally.records} of {total} records of {census.store}"
    source_column, consent_column = columns
    if slot in ("opted-out-source", "opted-out"):
        column = source_column if slot == "opted-out-source" else consent_column
        what = "opted-out consumer data" if slot == "opted-out-source" else "consumer records that opted out"
        return ctx.node_finding(
            "store",
            census.store,
            message=f"{of} are {what} (column {column!r}: {tally.quoted()})",
            evidence=_evidence(census, column, tally, what),
            qualifier=f"consent:{slot}",
            details={
                "column": column,
                "records": tally.records,
                "evaluated": total,
                "labels": {safe_label(k): v for k, v in tally.labels.items()},
                "examples": _located(tally, column),
            },
            claims=["C3"],
        )
    if slot == "missing":
        reason = f"{of} are consumer records with no consent value (column {consent_column!r})"
    else:
        reason = (
            f"{of} are consumer records whose consent means neither opted in nor opted out "
            f"(column {consent_column!r}: {tally.quoted()}); list the values under the store's "
            "vocabulary.consent.opted_in or opted_out"
        )
    return ctx.gap(f"store:{census.store}", f"training dataset {census.store}: consent: {reason}")


CHECKS = (
    Check(
        id="DAT-002",
        title="Training records come from allowed sources",
        severity="high",
        claim_ids=("C1", "C2"),
        rationale="A training record whose source names client data is direct evidence that client data trains; "
        "one whose source names nothing known cannot be shown not to be.",
        remediation="Drop or re-source the records; make the pipeline stamp provenance and reject records whose "
        "source is not allowed to train; map the dataset's own labels under the store's vocabulary.",
        evaluate=provenance_allowed,
        params=ProvenanceParams,
        content=provenance_request,
    ),
    Check(
        id="DAT-005",
        title="Consumer records in training data carry opt-in consent",
        severity="high",
        claim_ids=("C3",),
        rationale="Consumer data may train only with opt-in consent; an opted-out record in a training set breaks "
        "the commitment whatever the spelling of its label.",
        remediation="Drop opted-out consumer records from the dataset and from the consent-filter output; make "
        "the filter reject records with no consent value.",
        evaluate=consumer_consent,
        params=ConsentParams,
        content=consent_request,
    ),
)
