"""The graph builder: which edges exist, which way they point, what they cite."""

from __future__ import annotations

import json
from pathlib import Path

from audit.graph.build import build_graph
from audit.graph.model import EdgeKind
from audit.sources import load_inventory
from tests.audit.graph.helpers import ACCOUNTS, graph_of, store


def edges(graph_data: object) -> set[tuple[str, str, str]]:
    from audit.graph.model import DataGraph

    assert isinstance(graph_data, DataGraph)
    return {(u, v, d["kind"]) for u, v, d in graph_data.edge_items()}


def test_declared_edges_follow_the_data() -> None:
    graph = graph_of(
        stores=[store("a"), store("b"), store("c", replicates_to=["b"])],
        principals=[{"id": "r"}],
        jobs=[{"id": "j", "runs_as": "r", "reads": ["a"], "writes": ["b"]}],
        flows=[{"from": "b", "to": "a"}],
    )
    assert edges(graph) == {
        ("store:a", "job:j", "reads"),
        ("job:j", "store:b", "writes"),
        ("job:j", "principal:r", "runs-as"),
        ("principal:r", "job:j", "run-by"),
        ("store:c", "store:b", "replicates"),
        ("store:b", "store:a", "flows"),
    }
    declared = {d["kind"] for _, _, d in graph.edge_items() if d["declared"]}
    assert declared == {"reads", "writes", "runs-as", "replicates", "flows"}


def test_described_access_is_potential() -> None:
    graph = graph_of(stores=[store("a"), store("b")], principals=[{"id": "p", "can_read": ["a"], "can_write": ["b"]}])
    assert edges(graph) == {("store:a", "principal:p", "can-read"), ("principal:p", "store:b", "can-write")}
    assert not any(d["declared"] for _, _, d in graph.edge_items())


def test_an_assumer_obtains_the_role_reads_and_writes_through_it() -> None:
    graph = graph_of(
        stores=[store("in"), store("out")],
        principals=[{"id": "role", "trusts": ["user"], "can_read": ["in"], "can_write": ["out"]}, {"id": "user"}],
    )
    assert edges(graph) == {
        ("store:in", "principal:role", "can-read"),
        ("principal:role", "store:out", "can-write"),
        ("principal:role", "principal:user", "can-assume"),  # the user obtains what the role reads
        ("principal:user", "store:out", "can-write"),  # and writes where the role writes
    }
    (note, *chain) = graph.nx.edges["principal:user", "store:out", "can-write"]["evidence"]
    assert note.detail == "user can write out by assuming role"
    assert {e.kind for e in chain} == {"trust-policy", "described-access"}


def test_two_actors_of_one_role_are_not_joined_through_it() -> None:
    graph = graph_of(
        stores=[store("a"), store("b")],
        principals=[
            {"id": "shared", "trusts": ["x", "y"]},
            {"id": "x", "can_read": ["a"]},
            {"id": "y", "can_write": ["b"]},
        ],
    )
    # x's data reaches y only if a store sits between them: none does
    from audit.graph.rules import no_path

    assert no_path(graph, ["store:a"], ["store:b"]) == []


def test_role_chains_carry_writes_to_the_first_actor() -> None:
    graph = graph_of(
        stores=[store("out")],
        principals=[
            {"id": "deep", "trusts": ["middle"], "can_write": ["out"]},
            {"id": "middle", "trusts": ["actor"]},
            {"id": "actor"},
        ],
    )
    assert ("principal:actor", "store:out", "can-write") in edges(graph)


def test_trust_targets_public_external_services_and_accounts() -> None:
    graph = graph_of(
        principals=[
            {"id": "open", "trusts": ["*"]},
            {"id": "vendor-read", "trusts": ["arn:aws:iam::444444444444:root", "999999999999"]},
            {"id": "svc", "trusts": ["sagemaker.amazonaws.com"]},
            {"id": "in-account", "trusts": ["222222222222"]},
            {"id": "gha", "trusts": ["arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"]},
        ]
    )
    found = edges(graph)
    assert ("principal:open", "public", "can-assume") in found
    # trusting everyone includes every principal of the inventory
    assert ("principal:open", "principal:gha", "can-assume") in found
    assert ("principal:vendor-read", "external:444444444444", "can-assume") in found
    # an account of zone 'external' is a third party too
    assert ("principal:vendor-read", "external:999999999999", "can-assume") in found
    assert ("principal:gha", "external:token.actions.githubusercontent.com", "can-assume") in found
    # a service principal is not a data holder: svc gains edges only as an account member
    assert {(u, v) for u, v, _ in found if "principal:svc" in (u, v)} == {
        ("principal:in-account", "principal:svc"),
        ("principal:open", "principal:svc"),
    }
    # trusting an inventory account (sound): any principal in it may assume the role
    assumers = {v for u, v, k in found if u == "principal:in-account" and k == "can-assume"}
    assert assumers == {"principal:open", "principal:vendor-read", "principal:svc", "principal:gha"}
    assert graph.node("public")["node_type"] == "public"


def test_principal_carries_a_gate_only_if_every_job_running_as_it_does() -> None:
    graph = graph_of(
        stores=[store("a")],
        principals=[{"id": "dedicated"}, {"id": "shared"}, {"id": "marked", "gate": ["pii-scrub"]}],
        jobs=[
            {"id": "filter", "runs_as": "dedicated", "gate": ["consent-filter"]},
            {"id": "filter2", "runs_as": "shared", "gate": ["consent-filter"]},
            {"id": "export", "runs_as": "shared"},
        ],
    )
    assert graph.node("principal:dedicated")["gates"] == {"consent-filter"}
    assert graph.node("principal:shared")["gates"] == frozenset()
    assert graph.node("principal:marked")["gates"] == {"pii-scrub"}
    assert graph.node("job:filter")["gates"] == {"consent-filter"}


def test_training_sinks_are_training_stores_and_training_jobs() -> None:
    graph = graph_of(
        stores=[store("mix", "training"), store("logs", "commercial-api")],
        jobs=[{"id": "train", "kind": "training"}, {"id": "etl"}],
    )
    assert graph.training_sinks() == ["job:train", "store:mix"]


def test_edges_cite_the_entry_that_creates_them() -> None:
    graph = graph_of(stores=[store("a")], jobs=[{"id": "j", "reads": ["a"]}])
    data = graph.nx.edges["store:a", "job:j", EdgeKind.READS.value]
    (evidence,) = data["evidence"]
    assert evidence.location == "test:jobs[0]"
    assert "reads a" in evidence.detail


def test_distinct_evidence_drops_repeats_keeps_order_and_tells_statements_apart() -> None:
    from audit.graph.model import Evidence, distinct_evidence

    read = Evidence(kind="iam-statement", location="p.json#/0", detail="Allow s3:GetObject", statement={"A": 1})
    other = Evidence(kind="iam-statement", location="p.json#/0", detail="Allow s3:GetObject", statement={"A": 2})
    job = Evidence(kind="inventory", location="jobs.yaml:3", detail="job x reads y")
    assert distinct_evidence([job, read, job, other, read]) == [job, read, other]


def test_stores_of_classes_holds_each_store_once_in_key_order() -> None:
    graph = graph_of(
        stores=[
            store("z", "enterprise"),
            store("m", "enterprise", "feedback"),
            store("a", "feedback"),
            store("k", "enterprise"),
            store("u"),
        ],
        jobs=[{"id": "j", "reads": ["z"], "writes": ["a"]}],
    )
    assert graph.stores_of_classes(["enterprise", "feedback"]) == ["store:a", "store:k", "store:m", "store:z"]
    assert graph.stores_of_classes(["feedback"]) == ["store:a", "store:m"]
    assert graph.stores_of_classes(["training"]) == []
    compiled = graph.compiled
    assert [compiled.nodes[i] for i in graph.class_store_ids(["enterprise"])] == ["store:k", "store:m", "store:z"]


def test_each_declared_edge_cites_the_entry_that_states_it(tmp_path: Path) -> None:
    # one proof serves all of a job's edges: each edge still names its own list entry
    stores = [
        {"id": name, "kind": "s3-bucket", "account": "serving", **extra}
        for name, extra in (("a", {}), ("b", {}), ("c", {"replicates_to": ["a", "b"]}), ("d", {}))
    ]
    jobs = [
        {"id": "other", "reads": ["d"]},
        {"id": "j", "runs_as": "r", "reads": ["a", "b", "c"], "writes": ["d", "a"]},
    ]
    document = {
        "version": 1,
        "accounts": ACCOUNTS,
        "stores": stores,
        "principals": [{"id": "r", "account": "training"}],
        "jobs": jobs,
    }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(document))
    graph = build_graph(load_inventory([str(path)]))
    cited = {
        (u, v, d["kind"]): [(e.location.partition("#")[2], e.detail) for e in d["evidence"]]
        for u, v, d in graph.edge_items()
        if d["declared"] or d["kind"] == "run-by"
    }
    assert cited == {
        ("store:d", "job:other", "reads"): [("/jobs/0/reads/0", "job other reads d")],
        ("store:a", "job:j", "reads"): [("/jobs/1/reads/0", "job j reads a")],
        ("store:b", "job:j", "reads"): [("/jobs/1/reads/1", "job j reads b")],
        ("store:c", "job:j", "reads"): [("/jobs/1/reads/2", "job j reads c")],
        ("job:j", "store:d", "writes"): [("/jobs/1/writes/0", "job j writes d")],
        ("job:j", "store:a", "writes"): [("/jobs/1/writes/1", "job j writes a")],
        ("job:j", "principal:r", "runs-as"): [("/jobs/1/runs_as", "job j runs as r")],
        ("principal:r", "job:j", "run-by"): [("/jobs/1/runs_as", "r's permissions are used by job j")],
        ("store:c", "store:a", "replicates"): [("/stores/2/replicates_to/0", "c replicates to a")],
        ("store:c", "store:b", "replicates"): [("/stores/2/replicates_to/1", "c replicates to b")],
    }


def test_protected_store_ids_are_the_inventorys_protected_stores() -> None:
    # a store of a protected class, of an unprotected one, of both, and of none
    graph = graph_of(
        stores=[
            store("a", "commercial-api"),
            store("b", "model-artifact"),
            store("c", "model-artifact", "commercial-api"),
            store("d"),
        ],
    )
    nodes = graph.compiled.nodes
    expected = [f"store:{s.id}" for s in graph.inventory.protected_stores()]
    assert [nodes[i] for i in graph.protected_store_ids()] == expected == ["store:a", "store:c"]
