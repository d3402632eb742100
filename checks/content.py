"""DAT-001, DAT-003, DAT-004: evidence from the data itself (claims C1, C2, C3, C6).

Configuration can prove there is no *path* to training; these checks look for client data
*in* the training data. They read nothing themselves: each states what the scan must read
(a fingerprint request, or expectation suites from ``checks/expectations/``), the engine
scans once for all of them, and the checks turn the results into findings. (DAT-002 and
DAT-005, which read provenance and consent labels, are in :mod:`checks.provenance`.) A finding cites
record locations and digests, never values (unless the run asked for ``--show-values``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, Outcome
from audit.content.requests import ContentRequest, ExpectationRequest, FingerprintRequest
from audit.content.results import Example, ExpectationOutcome, MatchSet
from audit.coverage import CoverageGap
from audit.findings import PathHop
from audit.graph.model import Evidence
from audit.inventory import Inventory

EXPECTATIONS_DIR = Path(__file__).parent / "expectations"
PROTECTED_TIERS = ("commercial-api", "enterprise", "gov", "education")
TIER_CLAIMS = {"commercial-api": "C1", "enterprise": "C2", "gov": "C2", "education": "C2"}
DEFAULT_CLASS_CLAIMS = {
    "commercial-api": ["C1"],
    "enterprise": ["C2"],
    "gov": ["C2"],
    "education": ["C2"],
    "consumer-opt-out": ["C3"],
}


def suite_paths(names: Sequence[str]) -> tuple[Path, ...]:
    """Expectation suites by built-in name (``personal-data``) or path."""
    paths = []
    for name in names:
        path = Path(name)
        paths.append(path if path.suffix in (".yaml", ".yml") else EXPECTATIONS_DIR / f"{name}.yaml")
    return tuple(paths)


def _example_evidence(example: Example, what: str) -> Evidence:
    source = f"; copies {example.source}" if example.source else ""
    value = f"; value: {example.value}" if example.value is not None else ""
    return Evidence(
        kind="content",
        location=example.location,
        detail=f"{what} in column {example.column!r} ({example.kind}, {example.digest}){source}{value}",
    )


def _examples(examples: Sequence[Example]) -> list[dict[str, Any]]:
    return [
        {
            "location": e.location,
            "column": e.column,
            "kind": e.kind,
            "copies": e.source or None,
            "digest": e.digest,
            **({"value": e.value} if e.value is not None else {}),
        }
        for e in examples
    ]


def _no_training_data(ctx: CheckContext[Any]) -> bool:
    content = ctx.content
    return content is not None and not content.failed and not any(d.role == "training" for d in content.datasets)


# --- DAT-001: fingerprints and canaries ------------------------------------------------------


class FingerprintParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protected_classes: list[str] | None = None  # default: every protected class of the inventory
    min_chars: int = Field(default=24, ge=8)
    records: bool = True
    class_claims: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_CLASS_CLAIMS))


def _protected_classes(params: FingerprintParams, inventory: Inventory) -> list[str]:
    if params.protected_classes is not None:
        return list(params.protected_classes)
    return sorted(name for name, cls in inventory.data_classes.items() if cls.protected)


def fingerprint_request(params: FingerprintParams, inventory: Inventory) -> list[ContentRequest]:
    return [
        FingerprintRequest("DAT-001", tuple(_protected_classes(params, inventory)), params.min_chars, params.records)
    ]


def _match_claims(params: FingerprintParams, ctx: CheckContext[FingerprintParams], store_id: str) -> list[str] | None:
    store = ctx.inventory.stores.get(store_id)
    claims = sorted({c for cls in (store.classes if store else []) for c in params.class_claims.get(cls, [])})
    return claims or None


def client_records_in_training(ctx: CheckContext[FingerprintParams]) -> Iterator[Outcome]:
    """No record or planted canary of a protected store is in a training dataset (DAT-001).

    Every record of every protected store is fingerprinted (each long text cell and the
    whole record, after NFKC, case folding and whitespace collapsing); every training record
    is tested against the fingerprints with a Bloom filter, and every candidate re-checked
    exactly. Canaries that the auditor planted in protected data are searched for too.

    Example finding::

        DAT-001-3c2b1a0f9e8d  CRITICAL  declared
        3 records of api-logs (commercial-api) are in training dataset pretrain-mix
        (2 cell copies, 1 canary)
    """
    content = ctx.content
    if content is None or content.failed:  # a failed scan is already a gap for every claim
        return
    if _no_training_data(ctx):
        yield ctx.nothing_in_scope("training sink (a store of a training class)")
    if not any(d.role == "protected" for d in content.datasets):
        yield ctx.nothing_in_scope("store of a protected class to fingerprint")
    else:
        yield from _claims_without_stores(ctx)
    for match in content.matches:
        yield _copied(ctx, match)


def _claims_without_stores(ctx: CheckContext[FingerprintParams]) -> Iterator[Outcome]:
    """Fail closed per claim: a claim none of whose classes has a store to fingerprint was not
    tested by DAT-001 (no opted-out consumer store: nothing shows opted-out data is absent).
    A store that is described but could not be read is already a gap of the scan."""
    assert ctx.content is not None
    fingerprinted = {
        cls
        for d in ctx.content.datasets
        if d.role == "protected" and (store := ctx.inventory.stores.get(d.store)) is not None
        for cls in store.classes
    }
    by_claim: dict[str, set[str]] = {}
    for cls, claims in ctx.params.class_claims.items():
        for claim in claims:
            by_claim.setdefault(claim, set()).add(cls)
    for claim, classes in sorted(by_claim.items()):
        if not classes & fingerprinted:
            yield CoverageGap(
                scope="check:DAT-001",
                reason=f"no store of {', '.join(sorted(classes))} was fingerprinted: nothing shows that its "
                f"records are absent from the training data (describe the store and its location)",
                checks=(),
                claims=(claim,),
            )


def _copied(ctx: CheckContext[FingerprintParams], match: MatchSet) -> Outcome:
    store = ctx.inventory.stores.get(match.protected)
    classes = ", ".join(store.classes) if store else "protected"
    kinds = ", ".join(f"{count} {kind} {'match' if count == 1 else 'matches'}" for kind, count in match.by_kind.items())
    noun = "record" if match.rows == 1 else "records"
    finding = ctx.finding(
        endpoints=(f"store:{match.protected}", f"store:{match.training}"),
        kind="declared",
        message=f"{match.rows} {noun} of {match.protected} ({classes}) {'is' if match.rows == 1 else 'are'} in "
        f"training dataset {match.training} ({kinds})",
        details={
            "protected": match.protected,
            "training": match.training,
            "records": match.rows,
            "by_kind": match.by_kind,
            "canaries": match.canaries,
            "examples": _examples(match.examples),
        },
        claims=_match_claims(ctx.params, ctx, match.protected),
    )
    evidence = [_example_evidence(e, f"{match.protected} data") for e in match.examples]
    finding.path = [
        PathHop(node=match.protected, node_type="store", edge=None),
        PathHop(node=match.training, node_type="store", edge="holds-copies-of", evidence=evidence),
    ]
    finding.evidence = evidence
    return finding


# --- expectation checks --------------------------------------------------------------------


def _outcome_finding(
    ctx: CheckContext[Any], outcome: ExpectationOutcome, message: str, claims: list[str] | None = None
) -> Outcome:
    arguments = ", ".join(f"{k}={v}" for k, v in sorted(outcome.arguments.items()))
    evidence = [
        Evidence(
            kind="expectation",
            location=f"{outcome.store} column {outcome.column!r}",
            detail=f"Great Expectations {outcome.gx_type}({arguments}): {outcome.unexpected} unexpected of "
            f"{outcome.evaluated} evaluated ({outcome.missing} missing)",
        ),
        *(_example_evidence(e, outcome.label) for e in outcome.examples),
    ]
    return ctx.node_finding(
        "store",
        outcome.store,
        message=message,
        evidence=evidence,
        qualifier=f"{outcome.expectation}:{outcome.column}",
        details={
            "expectation": outcome.expectation,
            "gx_type": outcome.gx_type,
            "arguments": outcome.arguments,
            "column": outcome.column,
            "evaluated": outcome.evaluated,
            "missing": outcome.missing,
            "unexpected": outcome.unexpected,
            "matched": outcome.matched,
            "examples": _examples(outcome.examples),
        },
        claims=claims,
    )


def _expectation_findings(ctx: CheckContext[Any]) -> Iterator[Outcome]:
    if ctx.content is None or ctx.content.failed:
        return
    if _no_training_data(ctx):
        yield ctx.nothing_in_scope("training sink (a store of a training class)")
    yield from _unexamined(ctx)
    for outcome in ctx.content.for_check(ctx.check.id):
        if outcome.unexpected:
            yield _outcome_finding(ctx, outcome, _sentence(outcome))


def _unexamined(ctx: CheckContext[Any]) -> Iterator[Outcome]:
    """Fail closed per dataset: a training dataset that was read but on which none of the
    check's rules evaluated a single record (no text column, no record) proves nothing."""
    assert ctx.content is not None
    evaluated: dict[str, int] = {}
    for outcome in ctx.content.for_check(ctx.check.id):
        evaluated[outcome.store] = evaluated.get(outcome.store, 0) + outcome.evaluated
    gapped = {g.scope for g in ctx.content.gaps if ctx.check.id in g.checks}
    for dataset in ctx.content.datasets:
        scope = f"store:{dataset.store}"
        if dataset.role != "training" or not dataset.objects or scope in gapped or evaluated.get(dataset.store):
            continue
        yield ctx.gap(
            scope,
            f"training dataset {dataset.store}: no record was examined by {ctx.check.id}'s rules "
            f"({dataset.scanned} records read; no column they apply to holds a value)",
        )


def _sentence(outcome: ExpectationOutcome) -> str:
    noun = "record" if outcome.evaluated == 1 else "records"
    where = f"{outcome.store} (column {outcome.column!r})"
    return f"{outcome.label} in {outcome.unexpected} of {outcome.evaluated} {noun} of {where}"


class IdentifierParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[str] = Field(default_factory=lambda: list(PROTECTED_TIERS))
    suites: list[str] = Field(default_factory=lambda: ["tenant-identifiers"])


def _identifiers(params: IdentifierParams, inventory: Inventory) -> dict[str, str]:
    """Identifier (case-folded) -> tenant id, for the tenants of the protected tiers."""
    found: dict[str, str] = {}
    for tenant in sorted(inventory.tenants.values(), key=lambda t: t.id):
        if tenant.tier in params.tiers:
            for identifier in [tenant.id, *tenant.identifiers]:
                if len(identifier) >= 4:  # shorter strings would match everywhere
                    found.setdefault(identifier.casefold(), tenant.id)
    return found


def identifiers_regex(identifiers: Sequence[str]) -> str:
    alternatives = "|".join(re.escape(i) for i in sorted(identifiers, key=lambda i: (-len(i), i)))
    return f"(?i)(?<![A-Za-z0-9_-])({alternatives})(?![A-Za-z0-9_-])"


def identifier_request(params: IdentifierParams, inventory: Inventory) -> list[ContentRequest]:
    identifiers = _identifiers(params, inventory)
    if not identifiers:
        return []
    return [
        ExpectationRequest(
            "DAT-003", suite_paths(params.suites), {"protected_identifiers_regex": identifiers_regex(list(identifiers))}
        )
    ]


def no_tenant_identifiers(ctx: CheckContext[IdentifierParams]) -> Iterator[Outcome]:
    """No identifier of a commercial-API, enterprise, government or education tenant (its
    id, or the customer and organisation ids the inventory lists) appears in training data
    (DAT-003). The finding names the tenants found, never the text around them.

    Example finding::

        DAT-003-2b1a0f9e8d7c  HIGH  declared
        Identifier of a protected tenant in 3 of 4000 records of pretrain-mix (column 'text'):
        acme-corp (enterprise)
    """
    identifiers = _identifiers(ctx.params, ctx.inventory)
    if not identifiers:
        yield ctx.nothing_in_scope("tenant of a protected tier with identifiers")
        return
    if ctx.content is None or ctx.content.failed:
        return
    if _no_training_data(ctx):
        yield ctx.nothing_in_scope("training sink (a store of a training class)")
    yield from _unexamined(ctx)
    for outcome in ctx.content.for_check(ctx.check.id):
        if not outcome.unexpected:
            continue
        tenants = sorted({identifiers[m] for m in outcome.matched if m in identifiers})
        named = ", ".join(f"{t} ({ctx.inventory.tenants[t].tier})" for t in tenants) or "protected tenants"
        claims = sorted({TIER_CLAIMS[ctx.inventory.tenants[t].tier] for t in tenants}) or None
        message = f"{_sentence(outcome)}: {named}"
        yield _outcome_finding(ctx, outcome, message, claims)


class PersonalDataParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    suites: list[str] = Field(default_factory=lambda: ["personal-data"])


def personal_data_request(params: PersonalDataParams, inventory: Inventory) -> list[ContentRequest]:
    return [ExpectationRequest("DAT-004", suite_paths(params.suites), {})]


def no_personal_data(ctx: CheckContext[PersonalDataParams]) -> Iterator[Outcome]:
    """No personal data in the text of training data: email addresses, phone numbers,
    Luhn-valid card numbers, API keys and secrets (DAT-004).

    Example finding::

        DAT-004-9f8e7d6c5b4a  HIGH  declared
        Email address in 2 of 4000 records of sft-chats (column 'text')
    """
    yield from _expectation_findings(ctx)


CHECKS = (
    Check(
        id="DAT-001",
        title="Client records and canaries are not in training data",
        severity="critical",
        claim_ids=("C1", "C2", "C3"),
        rationale="A path can be closed on paper and data still copied; a record found in a training set is "
        "direct evidence that the commitment is broken.",
        remediation="Remove the copied records from the training dataset and every model trained on it since; "
        "find the job that copied them (the lineage of the dataset) and close that path.",
        evaluate=client_records_in_training,
        params=FingerprintParams,
        content=fingerprint_request,
    ),
    Check(
        id="DAT-003",
        title="No identifiers of protected tenants in training data",
        severity="high",
        claim_ids=("C1", "C2"),
        rationale="A customer or organisation id in training text shows that tenant data reached training, "
        "even where the records were transformed.",
        remediation="Remove the records; find the source that carried tenant data into training and filter "
        "tenant identifiers at the gate.",
        evaluate=no_tenant_identifiers,
        params=IdentifierParams,
        content=identifier_request,
    ),
    Check(
        id="DAT-004",
        title="No personal data in training data",
        severity="high",
        claim_ids=("C6",),
        rationale="The commitment is that training data is sanitised; personal data found in it shows the "
        "sanitising gate failed or was bypassed.",
        remediation="Run the records through the pii-scrub gate again (or drop them); fix the gate's detector "
        "for the pattern found.",
        evaluate=no_personal_data,
        params=PersonalDataParams,
        content=personal_data_request,
    ),
)
