"""IamAccess: IAM JSON in the inventory becomes cited, layered potential edges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import audit.iam.access as access_module
from audit.graph.build import build_graph
from audit.graph.model import DataGraph
from audit.sources import load_inventory
from tests.conftest import WriteYaml

HEADER = """
version: 1
accounts:
  - {id: "111111111111", name: serving, zone: serving}
  - {id: "222222222222", name: training, zone: training}
"""


def bucket(name: str, **extra: Any) -> dict[str, Any]:
    """A bucket in the serving account; its policy stated as none unless given (policy=None
    leaves it unstated: unknown)."""
    stated = {"id": name, "arn": f"arn:aws:s3:::{name}", "account": "serving", "policy": "none", **extra}
    return {key: value for key, value in stated.items() if value is not None}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role(name: str, *policies: dict[str, Any], account: str = "111111111111", **extra: Any) -> dict[str, Any]:
    return {"id": name, "arn": f"arn:aws:iam::{account}:role/{name}", "policies": list(policies), **extra}


def graph(write_yaml: WriteYaml, **sections: Any) -> DataGraph:
    import yaml

    text = HEADER + yaml.safe_dump(sections, sort_keys=False)
    return build_graph(load_inventory([str(write_yaml(text))]))


def edges(g: DataGraph) -> set[tuple[str, str, str]]:
    return {(u, v, d["kind"]) for u, v, d in g.edge_items()}


def test_identity_policy_reaches_only_the_buckets_it_names(write_yaml: WriteYaml) -> None:
    g = graph(
        write_yaml,
        stores=[bucket("team-a"), bucket("team-b"), bucket("other")],
        principals=[
            role(
                "r",
                policy(allow("s3:GetObject", "arn:aws:s3:::team-*/*"), allow("s3:PutObject", "arn:aws:s3:::other/*")),
            )
        ],
    )
    assert edges(g) == {
        ("store:team-a", "principal:r", "can-read"),
        ("store:team-b", "principal:r", "can-read"),
        ("principal:r", "store:other", "can-write"),
    }


def test_edges_cite_statement_lines_and_layers(write_yaml: WriteYaml) -> None:
    g = graph(
        write_yaml,
        stores=[bucket("data")],
        principals=[role("r", policy(allow("s3:GetObject", "arn:aws:s3:::data/*", Sid="ReadData")))],
    )
    evidence = g.nx.edges["store:data", "principal:r", "can-read"]["evidence"]
    statement, layers = evidence
    assert statement.kind == "iam-statement"
    assert statement.statement["Sid"] == "ReadData"
    assert "Allow s3:GetObject on arn:aws:s3:::data/*" in statement.detail
    file, _, line = statement.location.rpartition(":")
    lines = Path(file).read_text().splitlines()
    statement_lines = lines[int(line) - 1 : int(line) + 3]  # the statement starts on the cited line
    assert "- Effect: Allow" in statement_lines[0]
    assert any("Sid: ReadData" in text for text in statement_lines)
    assert layers.kind == "iam-layers"
    assert "evaluated: identity, resource-policy" in layers.detail
    assert "not available (not restricting): scp" in layers.detail


def test_cross_account_needs_the_bucket_policy_too(write_yaml: WriteYaml) -> None:
    reader = role("r", policy(allow("s3:GetObject", "*")), account="222222222222")
    assert edges(graph(write_yaml, stores=[bucket("data", policy="none")], principals=[reader])) == set()
    empty = policy()
    assert edges(graph(write_yaml, stores=[bucket("data", policy=empty)], principals=[reader])) == set()
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "222222222222"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::data/*",
    }
    g = graph(write_yaml, stores=[bucket("data", policy=policy(grant))], principals=[reader])
    assert edges(g) == {("store:data", "principal:r", "can-read")}
    assert len(g.nx.edges["store:data", "principal:r", "can-read"]["evidence"]) == 3  # both statements + layers


def test_an_unstated_bucket_policy_is_unknown_not_none(write_yaml: WriteYaml) -> None:
    """Changed semantics (issue 17): a store that states no policy may have one granting
    the other account; the cross-account identity grant is an edge resting on that
    assumption, named in its evidence. Same-account grants need no bucket policy."""
    reader = role("r", policy(allow("s3:GetObject", "*")), account="222222222222")
    g = graph(write_yaml, stores=[bucket("data", policy=None)], principals=[reader])
    assert edges(g) == {("store:data", "principal:r", "can-read")}
    evidence = g.nx.edges["store:data", "principal:r", "can-read"]["evidence"]
    assumed = [e for e in evidence if e.kind == "iam-assumption"]
    assert len(assumed) == 1
    assert "no source states the bucket policy of data" in assumed[0].detail
    assert "not available (not restricting): scp, resource-policy" in evidence[-1].detail
    # a same-account reader needs no bucket policy: no assumption is named
    local = role("l", policy(allow("s3:GetObject", "*")))
    g = graph(write_yaml, stores=[bucket("data", policy=None)], principals=[local])
    evidence = g.nx.edges["store:data", "principal:l", "can-read"]["evidence"]
    assert not [e for e in evidence if e.kind == "iam-assumption"]


def test_prefix_grants_reach_the_prefix_store_only(write_yaml: WriteYaml) -> None:
    stores = [
        {"id": "acme", "arn": "arn:aws:s3:::tenants/acme/*"},
        {"id": "globex", "arn": "arn:aws:s3:::tenants/globex/*"},
    ]
    g = graph(
        write_yaml, stores=stores, principals=[role("r", policy(allow("s3:GetObject", "arn:aws:s3:::tenants/acme/*")))]
    )
    assert edges(g) == {("store:acme", "principal:r", "can-read")}
    # a bucket-wide grant reaches both prefixes
    g = graph(write_yaml, stores=stores, principals=[role("r", policy(allow("s3:*", "arn:aws:s3:::tenants/*")))])
    assert {(u, v) for u, v, k in edges(g) if k == "can-read"} == {
        ("store:acme", "principal:r"),
        ("store:globex", "principal:r"),
    }


def test_unconditional_deny_removes_and_conditional_deny_keeps(write_yaml: WriteYaml) -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::data/*"}
    g = graph(write_yaml, stores=[bucket("data")], principals=[role("r", policy(allow("s3:*", "*"), deny))])
    assert edges(g) == set()
    conditional = {**deny, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    g = graph(write_yaml, stores=[bucket("data")], principals=[role("r", policy(allow("s3:*", "*"), conditional))])
    assert ("store:data", "principal:r", "can-read") in edges(g)


def test_conditional_allow_marks_the_edge(write_yaml: WriteYaml) -> None:
    grant = allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}})
    g = graph(write_yaml, stores=[bucket("data")], principals=[role("r", policy(grant))])
    data = g.nx.edges["store:data", "principal:r", "can-read"]
    assert data["conditional"] is True
    assert data["evidence"][0].conditional is True


def test_bucket_policy_grants_without_identity_policy(write_yaml: WriteYaml) -> None:
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/app"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::data/*",
    }
    g = graph(write_yaml, stores=[bucket("data", policy=policy(grant))], principals=[role("app")])
    assert edges(g) == {("store:data", "principal:app", "can-read")}


def test_third_party_and_public_grants(write_yaml: WriteYaml) -> None:
    vendor = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::shared/*",
    }
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    g = graph(
        write_yaml,
        stores=[
            bucket("shared", policy=policy(vendor)),
            bucket("site", policy=policy(public)),
            bucket(
                "blocked", policy=policy({**public, "Resource": "arn:aws:s3:::blocked/*"}), public_access_blocked=True
            ),
            bucket("acl", public_acl=True),
        ],
    )
    assert edges(g) == {
        ("store:shared", "external:999999999999", "can-read"),
        ("store:site", "public", "can-read"),
        ("store:acl", "public", "can-read"),
    }
    assert g.node("external:999999999999")["node_type"] == "external"


def test_sse_kms_needs_the_key(write_yaml: WriteYaml) -> None:
    key_arn = "arn:aws:kms:us-east-1:111111111111:key/k"
    default_key_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
    )
    stores = [bucket("data", encryption="aws:kms", kms_key=key_arn)]
    keys = [{"arn": key_arn, "account": "111111111111", "policy": default_key_policy}]
    read_only = role("r", policy(allow("s3:GetObject", "*")))
    assert edges(graph(write_yaml, stores=stores, kms_keys=keys, principals=[read_only])) == set()
    with_key = role("r", policy(allow("s3:GetObject", "*"), allow("kms:Decrypt", key_arn)))
    g = graph(write_yaml, stores=stores, kms_keys=keys, principals=[with_key])
    assert edges(g) == {("store:data", "principal:r", "can-read")}
    assert "kms-key-policy" in g.nx.edges["store:data", "principal:r", "can-read"]["evidence"][-1].detail
    # an unknown key policy does not restrict, and says so (as does the bucket policy no
    # source states: since issue 17 unstated is unknown, not none)
    unstated = [bucket("data", encryption="aws:kms", kms_key=key_arn, policy=None)]
    g = graph(write_yaml, stores=unstated, principals=[read_only])
    layers = g.nx.edges["store:data", "principal:r", "can-read"]["evidence"][-1].detail
    assert "not available (not restricting): scp, resource-policy, kms-key-policy" in layers
    g = graph(write_yaml, stores=stores, principals=[read_only])
    layers = g.nx.edges["store:data", "principal:r", "can-read"]["evidence"][-1].detail
    assert "not available (not restricting): scp, kms-key-policy" in layers


def test_trust_policies_become_assume_edges(write_yaml: WriteYaml) -> None:
    trust = policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci"}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "abc"}},
        },
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
    )
    g = graph(write_yaml, principals=[role("target", trust_policy=trust), role("ci"), role("bystander")])
    assert edges(g) == {
        ("principal:target", "principal:ci", "can-assume"),
        ("principal:target", "external:444444444444", "can-assume"),
    }
    assert g.nx.edges["principal:target", "external:444444444444", "can-assume"]["conditional"] is True


@pytest.mark.parametrize(("denied", "readable"), [("s3:GetObject*", False), ("s3:GetObject", True)])
def test_scp_denial_removes_access(write_yaml: WriteYaml, denied: str, readable: bool) -> None:
    # denying s3:GetObject alone still lets old versions be read with s3:GetObjectVersion
    deny_s3 = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": denied, "Resource": "*"}
    )
    text = {"stores": [bucket("data")], "principals": [role("r", policy(allow("s3:*", "*")))]}
    import yaml

    inventory_text = HEADER.replace(
        '{id: "111111111111", name: serving, zone: serving}',
        '{id: "111111111111", name: serving, zone: serving, scps: [{target: r-root, policies: ['
        + yaml.safe_dump(deny_s3, default_flow_style=True).strip()
        + "]}]}",
    ) + yaml.safe_dump(text, sort_keys=False)
    g = build_graph(load_inventory([str(write_yaml(inventory_text))]))
    assert (("store:data", "principal:r", "can-read") in edges(g)) is readable
    assert ("principal:r", "store:data", "can-write") in edges(g)
    assert "evaluated: identity, scp" in g.nx.edges["principal:r", "store:data", "can-write"]["evidence"][-1].detail


@pytest.mark.parametrize(
    ("sections", "scope", "reason"),
    [
        (
            {"principals": [role("r", {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})]},
            "principal:r",
            "cannot be read as IAM JSON",
        ),
        (
            {"stores": [{"id": "t", "kind": "table"}], "principals": [role("r", policy(allow("s3:*", "*")))]},
            "store:t",
            "no S3 location",
        ),
    ],
)
def test_what_cannot_be_evaluated_is_a_gap(
    write_yaml: WriteYaml, sections: dict[str, Any], scope: str, reason: str
) -> None:
    g = graph(write_yaml, **sections)
    assert any(gap.scope == scope and reason in gap.reason for gap in g.gaps), g.gaps


def test_only_candidate_pairs_are_evaluated(write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = [bucket(f"b{i:04d}") for i in range(1000)]
    principals = [role(f"r{i}", policy(allow("s3:GetObject", f"arn:aws:s3:::b{i:04d}/*"))) for i in range(100)]
    calls = []
    real = access_module._first_allowed

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(access_module, "_first_allowed", counting)
    reached: list[int] = []
    real_reached = access_module._reached

    def reaching(context: Any, statement: Any) -> set[int]:
        found = real_reached(context, statement)
        reached.append(len(found))
        return found

    monkeypatch.setattr(access_module, "_reached", reaching)
    g = graph(write_yaml, stores=stores, principals=principals)
    assert len(edges(g)) == 100
    # each statement is looked up in the store index once and reaches its one bucket; no
    # pair is evaluated one by one, let alone 100 x 1000 of them
    assert reached == [1] * 100
    assert calls == []
    inventory = load_inventory(
        [str(write_yaml(HEADER + __import__("yaml").safe_dump({"stores": stores, "principals": principals})))]
    )
    build_graph(inventory, [access_module.IamAccess(bulk=False)])
    assert len(calls) == 100 * 2  # pair by pair: one read and one write decision per candidate pair


def test_a_grant_confined_to_a_tenant_prefix_does_not_reach_the_rest_of_the_bucket(write_yaml: WriteYaml) -> None:
    stores = [
        bucket("shared"),
        {"id": "acme", "arn": "arn:aws:s3:::shared/acme/*", "account": "serving"},
        {"id": "globex", "arn": "arn:aws:s3:::shared/globex/*", "account": "serving"},
    ]
    principals = [
        role("acme-app", policy(allow("s3:*", "arn:aws:s3:::shared/acme/*"))),
        role("globex-app", policy(allow("s3:*", "arn:aws:s3:::shared/globex/*"))),
        role("admin", policy(allow("s3:*", "arn:aws:s3:::shared/*"))),
    ]
    found = edges(graph(write_yaml, stores=stores, principals=principals))
    # the tenants' roles touch their own prefix only, so the bucket does not join them
    assert {(u, v) for u, v, _ in found if "acme-app" in u + v} == {
        ("store:acme", "principal:acme-app"),
        ("principal:acme-app", "store:acme"),
    }
    # a bucket-wide grant reaches the bucket and both prefixes
    assert {v for u, v, k in found if u == "principal:admin"} == {"store:shared", "store:acme", "store:globex"}


def test_a_principal_without_an_arn_is_evaluated_in_its_account(write_yaml: WriteYaml) -> None:
    # a role in a Terraform plan before apply has no ARN yet: its policies still count
    g = graph(
        write_yaml,
        stores=[bucket("data")],
        principals=[{"id": "p", "account": "serving", "policies": [policy(allow("s3:GetObject", "*"))]}],
    )
    assert edges(g) == {("store:data", "principal:p", "can-read")}


@pytest.mark.parametrize("seed", range(12))
def test_bulk_decisions_equal_pair_by_pair_decisions(write_yaml: WriteYaml, seed: int) -> None:
    """The bulk path gives exactly the edges, and the evidence, of evaluating every pair."""
    import random

    import yaml

    rng = random.Random(seed)
    names = [f"{rng.choice(['team', 'tm', 'data'])}-{i}" for i in range(12)]
    stores = [bucket(n) for n in names]
    stores += [{"id": f"{n}-inner", "arn": f"arn:aws:s3:::{n}/inner/*", "account": "serving"} for n in names[:3]]
    stores[0]["policy"] = policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    patterns = [f"arn:aws:s3:::{rng.choice(names)}/*" for _ in range(6)] + [
        "arn:aws:s3:::team-*",
        "arn:aws:s3:::*/inner/*",
        "arn:aws:s3:::d?ta-*",
        "*",
    ]
    actions = ["s3:GetObject", "s3:PutObject", "s3:Get*", "s3:*", "s3:GetObjectVersion"]
    principals = []
    for i in range(8):
        statements = [
            allow(
                rng.choice(actions),
                rng.sample(patterns, k=rng.randint(1, 3)),
                **({"Condition": {"StringEquals": {"aws:PrincipalTag/x": "y"}}} if rng.random() < 0.2 else {}),
            )
            for _ in range(rng.randint(1, 3))
        ]
        extra = {"account": "222222222222"} if rng.random() < 0.2 else {}
        principals.append(role(f"r{i}", policy(*statements), account="222222222222" if extra else "111111111111"))
    text = HEADER + yaml.safe_dump({"stores": stores, "principals": principals}, sort_keys=False)
    inventory = load_inventory([str(write_yaml(text))])
    bulk = build_graph(inventory, [access_module.IamAccess(bulk=True)])
    pairwise = build_graph(inventory, [access_module.IamAccess(bulk=False)])

    def described(g: DataGraph) -> list[tuple[str, str, str, bool, list[str]]]:
        return sorted(
            (u, v, d["kind"], d["conditional"], [e.model_dump_json() for e in d["evidence"]])
            for u, v, d in g.edge_items()
        )

    assert described(bulk) == described(pairwise)
    assert any(d["kind"] == "can-read" for _, _, d in bulk.edge_items())
