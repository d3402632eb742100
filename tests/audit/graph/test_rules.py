"""The graph rules: reachability, gates, tenant isolation, declared vs potential, and
shortest witness paths, checked on hand-built cases and against networkx on random graphs."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.graph.model import DataGraph
from audit.graph.rules import no_path, only_through, tenant_isolation
from tests.audit.graph.helpers import graph_of, store


def nodes(violation: object) -> list[str]:
    return [hop.entity for hop in violation.path]  # type: ignore[attr-defined]


def test_declared_path_wins_over_an_equally_short_potential_one() -> None:
    graph = graph_of(
        stores=[store("logs", "commercial-api"), store("mix", "training")],
        principals=[{"id": "p", "can_read": ["logs"], "can_write": ["mix"]}],
        jobs=[{"id": "j", "reads": ["logs"], "writes": ["mix"]}],
    )
    (violation,) = no_path(graph, ["store:logs"], ["store:mix"])
    assert violation.kind == "declared"
    assert nodes(violation) == ["logs", "j", "mix"]


def test_declared_path_wins_even_when_longer() -> None:
    graph = graph_of(
        stores=[store("logs"), store("tmp"), store("mix")],
        principals=[{"id": "p", "can_read": ["logs"], "can_write": ["mix"]}],
        jobs=[{"id": "a", "reads": ["logs"], "writes": ["tmp"]}, {"id": "b", "reads": ["tmp"], "writes": ["mix"]}],
    )
    (violation,) = no_path(graph, ["store:logs"], ["store:mix"])
    assert violation.kind == "declared"
    assert nodes(violation) == ["logs", "a", "tmp", "b", "mix"]


def test_one_potential_edge_makes_the_path_potential() -> None:
    graph = graph_of(
        stores=[store("logs"), store("mix")],
        principals=[{"id": "p", "can_read": ["logs"]}],
        jobs=[{"id": "j", "runs_as": "p", "writes": ["mix"]}],
    )
    (violation,) = no_path(graph, ["store:logs"], ["store:mix"])
    assert violation.kind == "potential"
    assert nodes(violation) == ["logs", "p", "j", "mix"]
    assert [h.edge for h in violation.path] == [None, "can-read", "run-by", "writes"]


def test_no_path_means_no_violation() -> None:
    graph = graph_of(stores=[store("logs"), store("mix")], jobs=[{"id": "j", "reads": ["mix"], "writes": ["logs"]}])
    assert no_path(graph, ["store:logs"], ["store:mix"]) == []


def test_a_store_that_is_both_source_and_sink_is_its_own_path() -> None:
    graph = graph_of(stores=[store("both", "commercial-api", "training")])
    (violation,) = no_path(graph, ["store:both"], ["store:both"])
    assert nodes(violation) == ["both"]
    assert violation.kind == "declared"


def test_each_source_gets_its_own_shortest_path_to_its_nearest_sink() -> None:
    graph = graph_of(
        stores=[store("a"), store("b"), store("near"), store("far"), store("mid")],
        jobs=[
            {"id": "j1", "reads": ["a"], "writes": ["near"]},
            {"id": "j2", "reads": ["b"], "writes": ["mid"]},
            {"id": "j3", "reads": ["mid"], "writes": ["far"]},
        ],
    )
    found = {v.source: nodes(v) for v in no_path(graph, ["store:a", "store:b"], ["store:near", "store:far"])}
    assert found == {"store:a": ["a", "j1", "near"], "store:b": ["b", "j2", "mid", "j3", "far"]}


GATED = {
    "stores": [
        store("raw", "consumer-opt-in"),
        store("clean", "consumer-opt-in", passed_gates=["consent-filter"]),
        store("mix", "training"),
    ],
    "principals": [{"id": "filter-role"}],
    "jobs": [
        {"id": "filter", "runs_as": "filter-role", "reads": ["raw"], "writes": ["clean"], "gate": ["consent-filter"]},
        {"id": "builder", "reads": ["clean"], "writes": ["mix"]},
    ],
}


def test_path_through_a_gate_passes() -> None:
    graph = graph_of(**GATED)
    sources = graph.stores_of_classes(["consumer-opt-in"])
    assert only_through(graph, sources, ["store:mix"], ["consent-filter"]) == []


def test_bypass_into_a_post_gate_store_is_caught_from_the_origin() -> None:
    leaky = {**GATED, "jobs": [*GATED["jobs"], {"id": "debug", "reads": ["raw"], "writes": ["clean"]}]}
    graph = graph_of(**leaky)
    sources = graph.stores_of_classes(["consumer-opt-in"])
    ((gate, violation),) = only_through(graph, sources, ["store:mix"], ["consent-filter"])
    assert gate == "consent-filter"
    assert nodes(violation) == ["raw", "debug", "clean", "builder", "mix"]


def test_each_missing_gate_is_its_own_violation() -> None:
    graph = graph_of(**GATED)
    sources = graph.stores_of_classes(["consumer-opt-in"])
    results = only_through(graph, sources, ["store:mix"], ["consent-filter", "pii-scrub"])
    # nothing scrubs PII: both stores bypass that gate; the consent gate holds
    assert sorted((g, v.source) for g, v in results) == [("pii-scrub", "store:clean"), ("pii-scrub", "store:raw")]


def test_a_role_shared_with_a_non_gate_job_is_not_a_gate() -> None:
    shared = {
        **GATED,
        "principals": [{"id": "filter-role", "can_read": ["raw"], "can_write": ["mix"]}],
        "jobs": [*GATED["jobs"], {"id": "export", "runs_as": "filter-role"}],
    }
    graph = graph_of(**shared)
    sources = graph.stores_of_classes(["consumer-opt-in"])
    ((_, violation),) = only_through(graph, sources, ["store:mix"], ["consent-filter"])
    assert nodes(violation) == ["raw", "filter-role", "mix"]
    assert violation.kind == "potential"


TENANTS = [{"id": "acme", "tier": "enterprise"}, {"id": "globex", "tier": "enterprise"}]


def test_tenant_isolation_reports_each_ordered_pair_once() -> None:
    graph = graph_of(
        tenants=TENANTS,
        stores=[store("acme-ws", tenant="acme"), store("globex-ws", tenant="globex"), store("shared")],
        principals=[{"id": "globex-app", "tenant": "globex", "can_read": ["shared", "globex-ws"]}],
        jobs=[{"id": "join", "reads": ["acme-ws", "globex-ws"], "writes": ["shared"]}],
    )
    results = tenant_isolation(graph)
    assert [(r.from_tenant, r.to_tenant) for r in results] == [("acme", "globex")]
    (result,) = results
    assert result.violation.kind == "potential"
    assert nodes(result.violation) == ["acme-ws", "join", "shared", "globex-app"]
    assert result.reached == ("principal:globex-app",)


def test_tenant_reaching_its_own_resources_is_fine() -> None:
    graph = graph_of(
        tenants=TENANTS,
        stores=[store("acme-ws", tenant="acme"), store("acme-2", tenant="acme"), store("globex-ws", tenant="globex")],
        principals=[{"id": "acme-app", "tenant": "acme", "can_read": ["acme-ws"], "can_write": ["acme-2"]}],
    )
    assert tenant_isolation(graph) == []


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[dict[str, object], list[str], list[str]]:
    count = draw(st.integers(2, 9))
    names = [f"s{i}" for i in range(count)]
    jobs = []
    for index in range(draw(st.integers(0, 8))):
        jobs.append(
            {
                "id": f"j{index}",
                "reads": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
                "writes": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
            }
        )
    principals = [
        {
            "id": f"p{index}",
            "can_read": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
            "can_write": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
        }
        for index in range(draw(st.integers(0, 3)))
    ]
    sources = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    sinks = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    sections = {"stores": [store(n) for n in names], "jobs": jobs, "principals": principals}
    return sections, [f"store:{s}" for s in sources], [f"store:{s}" for s in sinks]


@settings(max_examples=200, deadline=None)
@given(random_graphs())
def test_reachability_and_witness_paths_agree_with_networkx(
    case: tuple[dict[str, object], list[str], list[str]],
) -> None:
    sections, sources, sinks = case
    graph = graph_of(**sections)  # type: ignore[arg-type]
    declared = nx.DiGraph([(u, v) for u, v, d in graph.edge_items() if d["declared"]])
    everything = nx.DiGraph([(u, v) for u, v, _ in graph.edge_items()])
    declared.add_nodes_from(graph.nx.nodes)
    everything.add_nodes_from(graph.nx.nodes)

    def distance(g: nx.DiGraph, source: str) -> int | None:
        lengths = [nx.shortest_path_length(g, source, t) for t in sinks if nx.has_path(g, source, t)]
        return min(lengths) if lengths else None

    found = {v.source: v for v in no_path(graph, sources, sinks)}
    for source in sources:
        in_use, permitted = distance(declared, source), distance(everything, source)
        if permitted is None:
            assert source not in found
            continue
        violation = found[source]
        assert violation.kind == ("declared" if in_use is not None else "potential")
        assert len(violation.path) - 1 == (in_use if in_use is not None else permitted)
        assert violation.path[-1].node in sinks
        keys = [h.node for h in violation.path]
        for u, v in itertools.pairwise(keys):
            assert (declared if violation.kind == "declared" else everything).has_edge(u, v)


def _tenant_isolation_by_traversal(graph: DataGraph) -> set[tuple[str, str, str, tuple[str, ...]]]:
    """The obvious algorithm: a traversal per tenant (declared edges, then all)."""
    found: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    everything = nx.DiGraph([(u, v) for u, v, _ in graph.edge_items()])
    declared = nx.DiGraph([(u, v) for u, v, d in graph.edge_items() if d["declared"]])
    owner = {n: d["tenant"] for n, d in graph.node_items() if d["tenant"]}
    for tenant in sorted(set(owner.values())):
        stores = [n for n, d in graph.node_items() if d["tenant"] == tenant and d["node_type"] == "store"]
        for kind, g in (("declared", declared), ("potential", everything)):
            reached = set(stores)
            for origin in stores:
                if origin in g:
                    reached |= nx.descendants(g, origin)
            for node in reached:
                other = owner.get(node)
                if other and other != tenant:
                    found.setdefault((tenant, other), (kind, ()))
    return {(a, b, kind, ()) for (a, b), (kind, _) in found.items()}


@st.composite
def tenant_graphs(draw: st.DrawFn) -> dict[str, object]:
    tenants = [f"t{i}" for i in range(draw(st.integers(1, 70)))]  # past 64: bitsets of two words
    names = [f"s{i}" for i in range(draw(st.integers(2, 14)))]
    stores = [
        {**store(n), **({"tenant": draw(st.sampled_from(tenants))} if draw(st.booleans()) else {})} for n in names
    ]
    jobs = [
        {
            "id": f"j{i}",
            "reads": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
            "writes": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
        }
        for i in range(draw(st.integers(0, 10)))
    ]
    principals = [
        {
            "id": f"p{i}",
            "can_read": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
            "can_write": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
            **({"tenant": draw(st.sampled_from(tenants))} if draw(st.booleans()) else {}),
        }
        for i in range(draw(st.integers(0, 4)))
    ]
    used = sorted({s["tenant"] for s in stores if "tenant" in s} | {p["tenant"] for p in principals if "tenant" in p})
    return {
        "tenants": [{"id": t, "tier": "enterprise"} for t in used],
        "stores": stores,
        "jobs": jobs,
        "principals": principals,
    }


@settings(max_examples=150, deadline=None)
@given(tenant_graphs())
def test_tenant_isolation_by_bitsets_equals_a_traversal_per_tenant(sections: dict[str, object]) -> None:
    graph = graph_of(**sections)  # type: ignore[arg-type]
    results = tenant_isolation(graph)
    assert {(r.from_tenant, r.to_tenant, r.violation.kind, ()) for r in results} == _tenant_isolation_by_traversal(
        graph
    )
    for result in results:
        first, last = result.violation.path[0], result.violation.path[-1]
        assert graph.node(first.node)["tenant"] == result.from_tenant
        assert graph.node(last.node)["tenant"] == result.to_tenant
        assert last.node == result.reached[0], "the witness ends at the nearest node reached"


def test_tenant_bitsets_are_exact_on_a_graph_with_many_components() -> None:
    """Beyond 46,341 strongly connected components, label x count no longer fits 32 bits:
    the bitsets must still say exactly which tenants reach each node."""
    import numpy as np

    from audit.graph.compiled import CompiledGraph
    from audit.graph.rules import _tenant_reach

    rng = np.random.default_rng(5)
    size, tenants = 120_000, 70
    # a random DAG (edges from lower to higher numbers) with a few cycles thrown in
    src = rng.integers(0, size - 1, 150_000)
    dst = np.minimum(src + rng.integers(1, 2_000, len(src)), size - 1)
    back = rng.integers(1_000, size, 500)
    src, dst = np.concatenate([src, back]), np.concatenate([dst, back - rng.integers(1, 50, 500)])
    compiled = CompiledGraph([f"n{i:06d}" for i in range(size)], src, dst, np.ones(len(src), dtype=np.bool_))
    seed = np.full(size, -1, dtype=np.int64)
    seeded = rng.choice(size, 300, replace=False)
    seed[seeded] = rng.integers(0, tenants, len(seeded))
    components, labels = _tenant_reach(compiled, seed, tenants)
    bits = components[labels]
    for tenant in (0, 1, 63, 64, 69):
        roots = np.flatnonzero(seed == tenant)
        expected = np.zeros(size, dtype=np.bool_)
        if len(roots):
            tree = compiled.bfs(roots)
            expected[tree.order[1:]] = True
        got = (bits[:, tenant // 64] >> np.uint64(tenant % 64)) & np.uint64(1)
        assert np.array_equal(got.astype(np.bool_), expected), tenant
