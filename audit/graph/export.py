"""Export the data graph: GraphML, node-link JSON and DOT (for Gephi, yEd, Graphviz)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import networkx as nx

from audit.graph.model import DataGraph


def _plain(value: Any) -> Any:
    """A JSON-friendly form of an attribute value (sets sorted, evidence as dicts)."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    return value


def _scalar(value: Any) -> str | bool | int | float:
    """GraphML holds scalars only: lists and evidence become JSON text."""
    if isinstance(value, str | bool | int | float):
        return value
    if value is None:
        return ""
    return json.dumps(_plain(value), sort_keys=True)


def to_node_link(graph: DataGraph) -> bytes:
    data = nx.node_link_data(graph.nx, edges="edges")
    for node in data["nodes"]:
        for key, value in list(node.items()):
            node[key] = _plain(value)
    for edge in data["edges"]:
        for key, value in list(edge.items()):
            edge[key] = _plain(value)
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def to_graphml(graph: DataGraph) -> bytes:
    flat: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for node, attrs in graph.node_items():
        flat.add_node(node, **{k: _scalar(v) for k, v in attrs.items()})
    for u, v, edge in graph.edge_items():
        flat.add_edge(u, v, key=edge["kind"], **{k: _scalar(val) for k, val in edge.items()})
    buffer = io.BytesIO()
    nx.write_graphml(flat, buffer, encoding="utf-8")
    return buffer.getvalue()


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SHAPES = {"store": "cylinder", "principal": "ellipse", "job": "box", "public": "doubleoctagon", "external": "octagon"}


def to_dot(graph: DataGraph) -> bytes:
    lines = ["digraph data_flow {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for node, attrs in sorted(graph.node_items(), key=lambda item: item[0]):
        label = attrs["entity"]
        if attrs["classes"]:
            label += "\n[" + ", ".join(attrs["classes"]) + "]"
        style = ', style=filled, fillcolor="#fde2e1"' if attrs["training_sink"] else ""
        lines.append(
            f"  {_dot_id(node)} [label={_dot_id(label)}, shape={_SHAPES.get(attrs['node_type'], 'ellipse')}{style}];"
        )
    for u, v, edge in sorted(graph.edge_items(), key=lambda e: (e[0], e[1], e[2]["kind"])):
        style = "solid" if edge["declared"] else "dashed"
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [label={_dot_id(edge['kind'])}, style={style}];")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


EXPORTERS: dict[str, Callable[[DataGraph], bytes]] = {
    "graphml": to_graphml,
    "json": to_node_link,
    "dot": to_dot,
}
