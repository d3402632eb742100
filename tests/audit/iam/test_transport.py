"""Whether a bucket policy enforces TLS (one function for every source), table-driven: each
case is a policy and whether it refuses every principal reading and writing every object of
the store over plain HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from audit.iam.transport import enforces_tls, object_prefix

BUCKET = "arn:aws:s3:::data"
OBJECTS = f"{BUCKET}/"
PLAIN = {"Bool": {"aws:SecureTransport": "false"}}


def deny(action: Any = "s3:*", resource: Any = (BUCKET, f"{BUCKET}/*"), **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"Effect": "Deny", "Principal": "*", "Condition": PLAIN}
    if "not_action" in extra:
        raw["NotAction"] = extra.pop("not_action")
    else:
        raw["Action"] = action
    raw["Resource"] = list(resource) if isinstance(resource, tuple) else resource
    raw.update(extra)
    return raw


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


CASES: list[tuple[str, Any, str | None, bool | None]] = [
    # --- enforced -----------------------------------------------------------------------------
    ("deny-all-of-s3", policy(deny()), OBJECTS, True),
    ("deny-upper-case-action", policy(deny("S3:*")), OBJECTS, True),
    ("deny-everything", policy(deny("*", "*")), OBJECTS, True),
    ("deny-read-and-write-actions", policy(deny(["s3:GetObject*", "s3:PutObject"])), OBJECTS, True),
    ("deny-by-notaction", policy(deny(not_action="s3:ListBucket")), OBJECTS, True),
    ("one-statement-per-action", policy(deny("s3:Get*"), deny("s3:PutObject")), OBJECTS, True),
    ("bool-if-exists", policy(deny(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}})), OBJECTS, True),
    ("value-as-a-list", policy(deny(Condition={"Bool": {"aws:SecureTransport": ["false"]}})), OBJECTS, True),
    ("value-as-a-yaml-boolean", policy(deny(Condition={"Bool": {"aws:securetransport": False}})), OBJECTS, True),
    ("principal-aws-star", policy(deny(Principal={"AWS": "*"})), OBJECTS, True),
    ("prefix-store-under-a-prefix-deny", policy(deny(resource=f"{BUCKET}/public/*")), f"{BUCKET}/public/", True),
    # --- not enforced ---------------------------------------------------------------------------
    ("deny-put-only", policy(deny("s3:PutObject")), OBJECTS, False),
    ("deny-get-only", policy(deny("s3:GetObject")), OBJECTS, False),
    ("old-versions-readable", policy(deny(["s3:GetObject", "s3:PutObject"])), OBJECTS, False),
    ("bucket-arn-only", policy(deny(resource=BUCKET)), OBJECTS, False),
    ("part-of-the-bucket", policy(deny(resource=f"{BUCKET}/public/*")), OBJECTS, False),
    ("another-bucket", policy(deny(resource="arn:aws:s3:::other/*")), OBJECTS, False),
    ("one-principal", policy(deny(Principal={"AWS": "arn:aws:iam::111111111111:root"})), OBJECTS, False),
    (
        "not-principal-spares-someone",
        policy(
            {**{k: v for k, v in deny().items() if k != "Principal"}, "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}}
        ),
        OBJECTS,
        False,
    ),
    (
        "narrowed-by-another-key",
        policy(deny(Condition={"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceVpce": "v"}})),
        OBJECTS,
        False,
    ),
    ("true-not-false", policy(deny(Condition={"Bool": {"aws:SecureTransport": "true"}})), OBJECTS, False),
    ("allow-not-deny", policy({**deny(), "Effect": "Allow"}), OBJECTS, False),
    (
        "unconditional-deny-is-not-about-tls",
        policy({k: v for k, v in deny().items() if k != "Condition"}),
        OBJECTS,
        False,
    ),
    ("no-statement", policy(), OBJECTS, False),
    ("no-policy", None, OBJECTS, False),
    # --- cannot be told ---------------------------------------------------------------------------
    ("not-iam-json", {"Statement": [{"Effect": "Sometimes"}]}, OBJECTS, None),
    ("objects-unknown", policy(deny()), None, None),
]


@pytest.mark.parametrize(("document", "objects", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_enforces_tls(document: Any, objects: str | None, expected: bool | None) -> None:
    assert enforces_tls(document, objects) is expected


def test_object_prefix() -> None:
    assert object_prefix("s3://data/acme/") == "arn:aws:s3:::data/acme/"
    assert object_prefix(None) is None
    assert object_prefix("/local/dir") is None
