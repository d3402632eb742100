"""Whether a bucket policy enforces TLS: the one reading every source shares (a described
inventory's ``policy``, the AWS collector's GetBucketPolicy, a Terraform plan's
``aws_s3_bucket_policy``), so a store's ``tls_only`` means the same wherever it came from.

A policy enforces TLS for a store when its Deny statements refuse every principal reading
and writing every object of the store over plain HTTP: for each of ``s3:GetObject``,
``s3:GetObjectVersion`` and ``s3:PutObject``, a Deny that applies to the action (Action /
NotAction, case-insensitive wildcards), surely covers the store's objects (Resource /
NotResource, as any Deny is judged), names everyone (``Principal: "*"``; a NotPrincipal
spares someone) and whose Condition is ``aws:SecureTransport = false`` alone (``Bool`` or
``BoolIfExists``; a further condition key narrows the Deny to some plain-HTTP requests).
A Deny of ``s3:PutObject`` alone leaves reads over plain HTTP open: it does not enforce TLS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.iam.policy import PolicyError, Resource, Statement, parse_policy

TLS_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject")
_OPERATORS = ("Bool", "BoolIfExists")


def object_prefix(location: str | None) -> str | None:
    """``s3://bucket/prefix/`` -> ``arn:aws:s3:::bucket/prefix/``: the ARN every object of
    the store starts with."""
    if not location or not location.startswith("s3://"):
        return None
    return "arn:aws:s3:::" + location.removeprefix("s3://")


def enforces_tls(document: Any, objects: str | None) -> bool | None:
    """Does the bucket policy deny every plain-HTTP read and write of the objects under
    ``objects`` (an ARN prefix such as ``arn:aws:s3:::bucket/``)?

    None when it cannot be told: the policy is not readable IAM JSON, or the store's objects
    are not known (a bucket whose name is unknown until apply). No policy enforces nothing.
    """
    if document is None:
        return False
    if objects is None:
        return None
    try:
        statements = parse_policy(document, "bucket policy").statements
    except PolicyError:
        return None
    resource = Resource(objects, is_prefix=True)
    denying = [s for s in statements if _refuses_plain_http(s) and s.surely_applies_to(resource)]
    return all(any(s.applies_to_action(action) for s in denying) for action in TLS_ACTIONS)


def _refuses_plain_http(statement: Statement) -> bool:
    if statement.effect != "Deny" or statement.principal is None or not statement.principal.everyone:
        return False
    condition = statement.condition or {}
    if len(condition) != 1:
        return False
    ((operator, tests),) = condition.items()
    if operator not in _OPERATORS or not isinstance(tests, Mapping) or len(tests) != 1:
        return False
    ((key, value),) = tests.items()
    values = value if isinstance(value, list) else [value]
    return str(key).lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in values)
