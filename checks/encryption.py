"""ENC-*: client data is encrypted at rest and in transit (C9)."""

from __future__ import annotations

from collections.abc import Iterator

from audit.checkapi import Check, CheckContext, NoParams, Outcome
from audit.graph.classes import describe_classes, protected_holding_stores
from audit.model import Store

S3_KINDS = ("s3-bucket", "s3-prefix")


def _protected(ctx: CheckContext[NoParams]) -> list[Store]:
    """The stores holding protected data: their own classes, or derived from upstream."""
    return protected_holding_stores(ctx.graph)


def encrypted_at_rest(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Every protected store is encrypted at rest, with SSE-KMS or AES256 (ENC-001).

    The finding names the key when there is one; unknown encryption is a coverage gap.

    Example finding::

        ENC-001-4a3b2c1d0e9f  HIGH  declared
        acme-exports holds protected data (enterprise) unencrypted at rest
    """
    if not _protected(ctx):
        yield ctx.nothing_in_scope("store of a protected class")
    for store in _protected(ctx):
        encryption, holder = ctx.inventory.setting(store, "encryption")
        if holder is None or encryption in (None, "unknown"):
            yield ctx.gap(f"store:{store.id}", f"the encryption at rest of {store.id} is unknown")
        elif encryption == "none":
            protected = [c for c, spec in ctx.inventory.data_classes.items() if spec.protected]
            classes = describe_classes(ctx.graph, store, protected)
            yield ctx.store_finding(
                store,
                evidence=[ctx.evidence(holder, "encryption")],
                message=f"{store.id} holds protected data ({classes}) unencrypted at rest",
            )


def tls_enforced(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Every protected S3 store's bucket policy denies requests without TLS (ENC-002):
    a Deny on ``aws:SecureTransport = false``.

    Example finding::

        ENC-002-7c6d5e4f3a2b  MEDIUM  declared
        partner-drop accepts plain HTTP: no bucket policy denies aws:SecureTransport = false
    """
    if not _protected(ctx):
        yield ctx.nothing_in_scope("store of a protected class")
    for store in _protected(ctx):
        if store.kind not in S3_KINDS:
            continue
        tls_only, holder = ctx.inventory.setting(store, "tls_only")
        if holder is None or tls_only is None:
            yield ctx.gap(f"store:{store.id}", f"whether {store.id} enforces TLS is unknown")
        elif not tls_only:
            yield ctx.store_finding(
                store,
                evidence=[ctx.evidence(holder, "tls_only")],
                message=(f"{store.id} accepts plain HTTP: no bucket policy denies aws:SecureTransport = false"),
            )


def keys_rotate(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """The KMS keys of SSE-KMS protected stores rotate automatically (ENC-003).

    A key no source describes, or whose rotation is unknown, is a coverage gap.

    Example finding::

        ENC-003-2b1a0f9e8d7c  LOW  declared
        acme-exports uses KMS key arn:aws:kms:...:key/5d21-acme-exports, which does not rotate
    """
    if not _protected(ctx):
        yield ctx.nothing_in_scope("store of a protected class")
    for store in _protected(ctx):
        encryption, _ = ctx.inventory.setting(store, "encryption")
        if encryption != "aws:kms":
            continue
        key_arn, holder = ctx.inventory.setting(store, "kms_key")
        key = ctx.inventory.kms_keys.get(key_arn or "")
        if key is None or key.rotation_enabled is None:
            yield ctx.gap(
                f"store:{store.id}", f"the rotation of the KMS key of {store.id} ({key_arn or 'not named'}) is unknown"
            )
        elif not key.rotation_enabled:
            evidence = [ctx.evidence(key, "rotation_enabled", f"{key.arn}: rotation_enabled = false")]
            if holder is not None:
                evidence.insert(0, ctx.evidence(holder, "kms_key"))
            yield ctx.store_finding(
                store,
                evidence=evidence,
                message=f"{store.id} uses KMS key {key.arn}, which does not rotate",
            )


CHECKS = (
    Check(
        id="ENC-001",
        title="Protected data is encrypted at rest",
        severity="high",
        claim_ids=("C9",),
        rationale="Client data must be encrypted at rest; an unencrypted store exposes every record to "
        "anyone who reaches the storage layer.",
        remediation="Enable default encryption on the store (SSE-KMS with a customer-managed key, or at least "
        "SSE-S3/AES256) and re-encrypt existing objects.",
        evaluate=encrypted_at_rest,
    ),
    Check(
        id="ENC-002",
        title="Protected data is only served over TLS",
        severity="medium",
        claim_ids=("C9",),
        rationale="Encryption in transit is only enforced when the bucket refuses plain HTTP requests.",
        remediation="Add a bucket policy statement denying s3:* when aws:SecureTransport is false.",
        evaluate=tls_enforced,
    ),
    Check(
        id="ENC-003",
        title="KMS keys protecting client data rotate",
        severity="low",
        claim_ids=("C9",),
        rationale="Automatic rotation limits how much data one key version protects and is expected by most "
        "control frameworks.",
        remediation="Enable automatic key rotation on the customer-managed KMS key.",
        evaluate=keys_rotate,
    ),
)
