"""Graph exports parse back with the tools people open them in."""

from __future__ import annotations

import io
import json

import networkx as nx

from audit.graph.build import build_graph
from audit.graph.export import to_dot, to_graphml, to_node_link
from audit.sources import load_inventory
from tests.audit.graph.helpers import graph_of, store
from tests.conftest import EXAMPLE_ORG


def test_graphml_round_trips_nodes_edges_and_evidence() -> None:
    graph = build_graph(load_inventory([str(EXAMPLE_ORG)]))
    parsed = nx.read_graphml(io.BytesIO(to_graphml(graph)), force_multigraph=True)
    assert set(parsed.nodes) == set(graph.nx.nodes)
    assert parsed.number_of_edges() == graph.nx.number_of_edges()
    data = parsed.edges["store:api-logs", "job:billing-rollup", "reads"]
    assert data["declared"] is True
    (evidence,) = json.loads(data["evidence"])
    assert evidence["location"].endswith("pipelines.yaml:6")


def test_node_link_json_is_plain_json() -> None:
    graph = build_graph(load_inventory([str(EXAMPLE_ORG)]))
    data = json.loads(to_node_link(graph))
    assert len(data["nodes"]) == graph.nx.number_of_nodes()
    assert len(data["edges"]) == graph.nx.number_of_edges()
    consent = next(n for n in data["nodes"] if n["id"] == "job:consent-filter")
    assert consent["gates"] == ["consent-filter"]


def test_dot_escapes_names_and_draws_every_edge() -> None:
    graph = graph_of(
        stores=[store('we"ird\\name', "training"), store("b")],
        jobs=[{"id": "j", "reads": ["b"], "writes": ['we"ird\\name']}],
    )
    text = to_dot(graph).decode()
    assert text.startswith("digraph data_flow {")
    assert text.rstrip().endswith("}")
    assert '"store:we\\"ird\\\\name"' in text
    assert text.count("->") == graph.nx.number_of_edges()
    assert "style=dashed" not in text  # reads/writes are declared: solid
