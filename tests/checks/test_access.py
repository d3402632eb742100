"""ACC-001: a wildcard grant of protected data is found however it is spelled (actions
ignore case, service wildcards, resource patterns over every bucket), and only where the
wildcard reaches the protected store; SCPs, boundaries and key policies grant nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from audit.checkapi import CheckContext
from audit.findings import Finding
from audit.graph.build import build_graph
from audit.sources import load_inventory
from checks import load_registry
from tests.conftest import WriteYaml

CHECK = load_registry(plugins=False).checks["ACC-001"]
SERVING = "111111111111"
HEADER = {
    "version": 1,
    "accounts": [{"id": SERVING, "name": "serving", "zone": "serving"}],
}
API_LOGS = {"id": "api-logs", "arn": "arn:aws:s3:::api-logs", "account": "serving", "classes": ["commercial-api"]}
# a lake bucket whose api/ prefix holds the API logs of another product
LAKE = [
    {"id": "lake", "arn": "arn:aws:s3:::lake", "account": "serving"},
    {"id": "lake-api", "kind": "s3-prefix", "arn": "arn:aws:s3:::lake/api/*", "classes": ["commercial-api"]},
]


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def flagged(write_yaml: WriteYaml, *statements: dict[str, Any], stores: Any = None, **extra: Any) -> set[str]:
    """The readers ACC-001 reports (as 'store -> principal')."""
    principal = {"id": "reader", "arn": f"arn:aws:iam::{SERVING}:role/reader", "policies": [document(*statements)]}
    principal.update(extra.pop("principal", {}))
    inventory_text = yaml.safe_dump(
        {**HEADER, **extra, "stores": stores or [API_LOGS], "principals": [principal]}, sort_keys=False
    )
    inventory = load_inventory([str(write_yaml(inventory_text))])
    graph = build_graph(inventory)
    context = CheckContext(check=CHECK, inventory=inventory, graph=graph, params=CHECK.params(), now=datetime.now(UTC))
    assert any(kind == "can-read" for _, _, kind in ((u, v, d["kind"]) for u, v, d in graph.edge_items())), (
        "every case grants the reader the protected data"
    )
    return {f"{f.path[0].node} -> {f.path[-1].node}" for f in CHECK.evaluate(context) if isinstance(f, Finding)}


@pytest.mark.parametrize(
    ("statement", "stores"),
    [
        # actions ignore case: "S3:*" is "s3:*"
        (allow("S3:*", "arn:aws:s3:::api-logs/*"), None),
        # a service wildcard on the store's own objects grants far more than reading them
        (allow("s3:Get*", "arn:aws:s3:::api-logs/*"), None),
        (allow(["s3:ListBucket", "s3:*Object"], "arn:aws:s3:::api-logs/*"), None),
        # every bucket, spelled as an S3 ARN
        (allow("s3:GetObject", "arn:aws:s3:::*"), None),
        (allow("s3:GetObject", "arn:aws:s3:::*/*"), None),
        (allow("s3:GetObject", ["arn:aws:s3:::elsewhere/*", "arn:aws:s3:::*"]), None),
        # a service wildcard on a bucket-wide pattern that covers a protected prefix
        (allow("s3:Get*", "arn:aws:s3:::lake/*"), LAKE),
        (allow("s3:GetObject", "arn:aws:s3:::*/api/*"), LAKE),
        # the forms found before
        (allow("s3:*", "*"), None),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::api-logs/*"}, None),
    ],
    ids=[
        "upper-case-service",
        "service-wildcard",
        "wildcard-in-action-list",
        "every-bucket",
        "every-object",
        "every-bucket-beside-a-named-one",
        "service-wildcard-over-prefix",
        "bucket-wildcard-over-prefix",
        "star",
        "not-action",
    ],
)
def test_wildcard_grants_are_found(write_yaml: WriteYaml, statement: dict[str, Any], stores: Any) -> None:
    store = "lake-api" if stores else "api-logs"
    assert f"{store} -> reader" in flagged(write_yaml, statement, stores=stores)


@pytest.mark.parametrize(
    ("statements", "stores", "extra"),
    [
        # the store's objects, named
        ((allow("s3:GetObject", "arn:aws:s3:::api-logs/*"),), None, {}),
        ((allow(["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::api-logs/*"),), None, {}),
        # the whole bucket named, with the action named: a grant on lake/*, not a wildcard
        ((allow("s3:GetObject", "arn:aws:s3:::lake/*"),), LAKE, {}),
        # a bucket-name prefix scopes the grant to a naming convention (a tenant's buckets)
        ((allow("s3:GetObject", "arn:aws:s3:::api-*"),), None, {}),
        # a wildcard in the same statement that does not reach the protected store
        ((allow("s3:GetObject", ["arn:aws:s3:::api-logs/*", "arn:aws:s3:::scratch-*/*"]),), None, {}),
        # ... nor in another statement
        ((allow("s3:GetObject", "arn:aws:s3:::api-logs/*"), allow("s3:*", "arn:aws:s3:::scratch/*")), None, {}),
        # SCPs and boundaries bound access: FullAWSAccess and an s3:* boundary grant nothing
        (
            (allow("s3:GetObject", "arn:aws:s3:::api-logs/*"),),
            None,
            {
                "accounts": [
                    {
                        "id": SERVING,
                        "name": "serving",
                        "zone": "serving",
                        "scps": [{"target": "r-root", "policies": [document(allow("*", "*"))]}],
                    }
                ],
                "principal": {"permission_boundary": document(allow("s3:*", "*"))},
            },
        ),
    ],
    ids=[
        "named",
        "named-actions",
        "bucket-named",
        "bucket-name-prefix",
        "wildcard-elsewhere-same-statement",
        "wildcard-elsewhere",
        "bounds",
    ],
)
def test_named_grants_stay_quiet(
    write_yaml: WriteYaml, statements: tuple[dict[str, Any], ...], stores: Any, extra: dict[str, Any]
) -> None:
    assert flagged(write_yaml, *statements, stores=stores, **extra) == set()


def test_a_wildcard_in_the_identity_policy_counts_even_if_a_boundary_repeats_it(write_yaml: WriteYaml) -> None:
    wide = allow("s3:*", "*")
    assert flagged(write_yaml, wide, principal={"permission_boundary": document(wide)}) == {"api-logs -> reader"}
