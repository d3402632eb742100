"""The data graph: nodes that hold or move data, edges meaning "data can move from u to v".

networkx is the model (and the export format); reachability runs on a compiled copy
(:mod:`audit.graph.compiled`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

import networkx as nx
from pydantic import BaseModel, ConfigDict

from audit.coverage import CoverageGap
from audit.inventory import Inventory

if TYPE_CHECKING:
    from audit.graph.compiled import CompiledGraph


class NodeType(StrEnum):
    STORE = "store"
    PRINCIPAL = "principal"
    JOB = "job"
    PUBLIC = "public"
    EXTERNAL = "external"


class EdgeKind(StrEnum):
    READS = "reads"
    WRITES = "writes"
    REPLICATES = "replicates"
    FLOWS = "flows"
    RUNS_AS = "runs-as"
    RUN_BY = "run-by"
    CAN_READ = "can-read"
    CAN_WRITE = "can-write"
    CAN_ASSUME = "can-assume"

    @property
    def declared(self) -> bool:
        """Declared edges say data does move; the others say it is permitted to."""
        return self in _DECLARED


_DECLARED = frozenset({EdgeKind.READS, EdgeKind.WRITES, EdgeKind.REPLICATES, EdgeKind.FLOWS, EdgeKind.RUNS_AS})

PUBLIC_NODE = "public"


class Evidence(BaseModel):
    """Why an edge exists: where the fact was read and, for policies, the statement itself."""

    model_config = ConfigDict(frozen=True)

    kind: str
    location: str
    detail: str
    statement: dict[str, Any] | None = None
    conditional: bool = False


def node_key(node_type: NodeType, entity_id: str) -> str:
    if node_type is NodeType.PUBLIC:
        return PUBLIC_NODE
    return f"{node_type.value}:{entity_id}"


def external_key(account_or_provider: str) -> str:
    return f"{NodeType.EXTERNAL.value}:{account_or_provider}"


class DataGraph:
    """A MultiDiGraph keyed by ``type:id`` with one edge per (u, v, kind).

    Node attributes: ``node_type``, ``entity``, ``classes``, ``tenant``, ``gates`` (gate kinds
    the node performs), ``passed_gates`` (stores: gates its data has already passed),
    ``training_sink``, ``account``, ``zone``.
    Edge attributes: ``kind``, ``declared``, ``conditional``, ``evidence`` (a tuple of Evidence).
    """

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.nx: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        self.gaps: list[CoverageGap] = []

    def add_node(self, key: str, node_type: NodeType, entity: str, **attrs: Any) -> None:
        defaults: dict[str, Any] = {
            "classes": (),
            "tenant": None,
            "gates": frozenset(),
            "passed_gates": frozenset(),
            "training_sink": False,
            "account": None,
            "zone": None,
        }
        self.nx.add_node(key, node_type=node_type.value, entity=entity, **(defaults | attrs))

    def add_edge(
        self, u: str, v: str, kind: EdgeKind, evidence: Iterable[Evidence], *, conditional: bool = False
    ) -> None:
        """Add an edge, or merge its evidence into the existing edge of that kind."""
        evidence = tuple(evidence)
        if self.nx.has_edge(u, v, key=kind.value):
            data = self.nx.edges[u, v, kind.value]
            data["evidence"] = data["evidence"] + tuple(e for e in evidence if e not in data["evidence"])
            # One unconditional grant is enough to make the edge unconditional.
            data["conditional"] = data["conditional"] and conditional
            return
        self.nx.add_edge(
            u,
            v,
            key=kind.value,
            kind=kind.value,
            declared=kind.declared,
            conditional=conditional,
            evidence=evidence,
        )

    def node(self, key: str) -> dict[str, Any]:
        attrs: dict[str, Any] = self.nx.nodes[key]
        return attrs

    def node_items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every node with its attributes."""
        return iter(self.nx.nodes(data=True))

    def edge_items(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every edge (one per kind between two nodes) with its attributes."""
        return iter(self.nx.edges(data=True))

    def nodes_of(self, node_type: NodeType) -> Iterator[str]:
        return (n for n, data in self.node_items() if data["node_type"] == node_type.value)

    def training_sinks(self) -> list[str]:
        return sorted(n for n, data in self.node_items() if data["training_sink"])

    def stores_of_classes(self, classes: Iterable[str]) -> list[str]:
        wanted = set(classes)
        return sorted(
            n
            for n, data in self.node_items()
            if data["node_type"] == NodeType.STORE.value and wanted.intersection(data["classes"])
        )

    def edge_count_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, _, kind in self.nx.edges(keys=True):
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    @cached_property
    def compiled(self) -> CompiledGraph:
        """The CSR form used for reachability; built once, after the graph is complete."""
        from audit.graph.compiled import CompiledGraph

        return CompiledGraph.from_graph(self)
