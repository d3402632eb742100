"""The data graph: nodes that hold or move data, edges meaning "data can move from u to v".

Stored compactly so estates of 10^6 nodes and 5*10^6 edges fit in memory: a node is a
slotted record, edges are parallel arrays (source, target, kind, declared, conditional)
and their evidence is kept as *proofs* that build the :class:`Evidence` an auditor reads
only when a finding or an export asks for it. After :meth:`DataGraph.freeze` (done once,
when the graph is complete) adjacency is indexed in CSR form, and reachability runs on a
compiled copy (:mod:`audit.graph.compiled`). networkx is the export format and remains
available as :attr:`DataGraph.nx`, materialised on demand.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from audit.coverage import CoverageGap
from audit.graph.evidence import (
    Evidence,
    OwnProof,
    Proof,
    SharedProof,
    _evidence_of,
    _is_proof,
    _listed,
    distinct_evidence,
)
from audit.graph.frozen import EdgeData, Frozen, IntArray, NodeData, _edge_key
from audit.graph.kinds import (
    DECLARED_CODE,
    KIND_CODE,
    KIND_NAMES,
    KINDS,
    PUBLIC_NODE,
    EdgeKind,
    NodeType,
    external_key,
    node_key,
)
from audit.inventory import Inventory

if TYPE_CHECKING:
    from audit.graph.compiled import CompiledGraph

__all__ = [  # what this module has always offered (its parts now live beside it)
    "DECLARED_CODE",
    "KINDS",
    "KIND_CODE",
    "KIND_NAMES",
    "PUBLIC_NODE",
    "DataGraph",
    "EdgeData",
    "EdgeKind",
    "Evidence",
    "Frozen",
    "IntArray",
    "NodeData",
    "NodeType",
    "OwnProof",
    "Proof",
    "SharedProof",
    "VoidedGate",
    "distinct_evidence",
    "external_key",
    "node_key",
]


@dataclass(frozen=True)
class VoidedGate:
    """A gate an auditor marked on a principal that the graph does not apply, and why."""

    principal: str
    gate: str
    reason: str


class DataGraph:
    """Nodes keyed by ``type:id`` and at most one edge per (source, target, kind).

    Node attributes: ``node_type``, ``entity``, ``classes``, ``tenant``, ``gates`` (gate kinds
    the node performs), ``passed_gates`` (stores: gates its data has already passed),
    ``training_sink``, ``account``, ``zone``.
    Edge attributes: ``kind``, ``declared``, ``conditional``, ``evidence`` (a tuple of Evidence).
    Adding an edge that exists (same kind) merges its evidence; one unconditional grant
    makes it unconditional.
    """

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.gaps: list[CoverageGap] = []
        self.voided_gates: list[VoidedGate] = []
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._nodes: list[NodeData] = []
        # edges as added, in typed arrays (a list would hold an 8-byte pointer per number)
        self._src = array("q")
        self._dst = array("q")
        self._kind = array("b")
        self._conditional = array("b")
        self._proofs: list[Any] = []  # only ever appended to: a frozen graph shares it
        self._frozen: Frozen | None = None
        # what checks derive from the complete graph and share (cleared when it changes)
        self.memo: dict[Any, Any] = {}

    # -- building --------------------------------------------------------------------------

    def add_node(self, key: str, node_type: NodeType, entity: str, **attrs: Any) -> None:
        data = NodeData(node_type.value, entity, **attrs)
        if key in self._index:
            self._nodes[self._index[key]] = data
            self._thaw()
            return
        self._index[key] = len(self._keys)
        self._keys.append(key)
        self._nodes.append(data)
        self._thaw()

    def add_nodes(self, nodes: Iterable[tuple[str, NodeData]]) -> None:
        """Add (or replace) many nodes at once."""
        index, keys, datas = self._index, self._keys, self._nodes
        for key, data in nodes:
            found = index.get(key)
            if found is None:
                index[key] = len(keys)
                keys.append(key)
                datas.append(data)
            else:
                datas[found] = data
        self._thaw()

    def add_edge(
        self, u: str, v: str, kind: EdgeKind, evidence: Iterable[Evidence] | Proof, *, conditional: bool = False
    ) -> None:
        """Add an edge, or merge its evidence into the existing edge of that kind."""
        self.add_edges([(u, v, kind, evidence, conditional)])

    def add_edges(self, edges: Sequence[tuple[str, str, EdgeKind, Iterable[Evidence] | Proof, bool]]) -> None:
        """Add many (source, target, kind, evidence or proof, conditional) edges at once."""
        index = self._index
        self._src.extend([index[edge[0]] for edge in edges])
        self._dst.extend([index[edge[1]] for edge in edges])
        self._kind.extend([KIND_CODE[edge[2]] for edge in edges])
        self._conditional.extend([edge[4] for edge in edges])
        self._proofs.extend([edge[3] if _is_proof(edge[3]) else _listed(edge[3]) for edge in edges])
        self._thaw()

    def add_numbered_edges(
        self,
        src: Sequence[int] | IntArray,
        dst: Sequence[int] | IntArray,
        kind: Sequence[int] | npt.NDArray[np.integer[Any]],
        proofs: Sequence[Proof],
        conditional: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Add many edges given by node numbers (:attr:`numbers`) and kind codes
        (``KIND_CODE``), each with its proof (unconditional unless told): what a builder of
        millions of edges uses, with no tuple per edge."""
        count = len(src)
        if not count == len(dst) == len(kind) == len(proofs) == (count if conditional is None else len(conditional)):
            raise ValueError("one source, target, kind, proof (and condition) per edge")
        self._src.frombytes(np.asarray(src, dtype=np.int64).tobytes())
        self._dst.frombytes(np.asarray(dst, dtype=np.int64).tobytes())
        self._kind.frombytes(np.asarray(kind, dtype=np.int8).tobytes())
        if conditional is None:
            self._conditional.frombytes(bytes(count))
        else:
            self._conditional.frombytes(np.asarray(conditional, dtype=np.int8).tobytes())
        self._proofs.extend(proofs)
        self._thaw()

    def _thaw(self) -> None:
        if self._frozen is not None:
            self._frozen = None
            self.__dict__.pop("compiled", None)
            self.__dict__.pop("nx", None)
            self.__dict__.pop("_by_class", None)
            self.__dict__.pop("_sinks", None)
        if self.memo:
            self.memo.clear()

    def freeze(self) -> Frozen:
        """Deduplicate the edges and index them (once; adding more thaws the graph)."""
        if self._frozen is not None:
            return self._frozen
        size = len(self._keys)
        src = np.array(self._src, dtype=np.int64)  # copies: the arrays may grow again
        dst = np.array(self._dst, dtype=np.int64)
        kind = np.array(self._kind, dtype=np.int64)
        conditional = np.array(self._conditional, dtype=np.bool_)
        key = _edge_key(src, dst, kind, size)
        order = np.argsort(key, kind="stable")  # stable: fast on the runs edges are added in
        ordered = key[order]
        if not np.any(ordered[1:] == ordered[:-1]):  # the usual case: no edge was stated twice
            del key, ordered
            self._frozen = Frozen(size, src, dst, kind.astype(np.int8), conditional, self._proofs, out_order=order)
            return self._frozen
        del order, ordered
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        # merge duplicates: evidence concatenated in order, conditional only if every grant is
        rank = np.empty(len(unique), dtype=np.int64)
        rank[np.argsort(first)] = np.arange(len(unique))
        group = rank[inverse]  # raw edge -> merged edge, numbered in the order first added
        chosen = np.sort(first)
        proofs = [self._proofs[i] for i in chosen.tolist()]
        counts = np.bincount(group, minlength=len(unique))
        more: dict[int, list[Any]] = {int(target): [] for target in np.flatnonzero(counts > 1)}
        for raw in np.flatnonzero(counts[group] > 1).tolist():
            more[int(group[raw])].append(self._proofs[raw])
        all_conditional = np.ones(len(unique), dtype=np.bool_)
        np.logical_and.at(all_conditional, group, conditional)
        self._frozen = Frozen(
            size, src[chosen], dst[chosen], kind[chosen].astype(np.int8), all_conditional, proofs, more
        )
        return self._frozen

    @property
    def frozen(self) -> Frozen:
        return self.freeze()

    # -- reading ---------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._index

    @property
    def keys(self) -> Sequence[str]:
        return self._keys

    def index_of(self, key: str) -> int:
        return self._index[key]

    @property
    def numbers(self) -> Mapping[str, int]:
        """Each node's number, by key (the numbers :meth:`add_numbered_edges` takes)."""
        return self._index

    def node(self, key: str) -> NodeData:
        return self._nodes[self._index[key]]

    def column(self, name: str) -> list[Any]:
        """One node attribute for every node, by node index (computed once per graph)."""
        if name not in NodeData.FIELDS:
            raise KeyError(name)
        found = self.memo.get(("column", name))
        if found is None:
            found = self.memo[("column", name)] = list(map(attrgetter(name), self._nodes))
        return found

    def type_mask(self, *node_types: NodeType) -> npt.NDArray[np.bool_]:
        """Per node index: is the node of one of these types (computed once per graph)."""
        key = ("type-mask", *sorted(t.value for t in node_types))
        found = self.memo.get(key)
        if found is None:
            wanted = {t.value for t in node_types}
            kinds = self.column("node_type")
            found = self.memo[key] = np.fromiter(map(wanted.__contains__, kinds), np.bool_, len(kinds))
        return found

    def node_items(self) -> Iterator[tuple[str, NodeData]]:
        """Every node with its attributes."""
        return zip(self._keys, self._nodes, strict=True)

    def nodes_of(self, node_type: NodeType) -> Iterator[str]:
        wanted = node_type.value
        return (n for n, kind in zip(self._keys, self.column("node_type"), strict=True) if kind == wanted)

    def number_of_nodes(self) -> int:
        return len(self._keys)

    def number_of_edges(self) -> int:
        return len(self.frozen.src)

    def edge_items(self) -> Iterator[tuple[str, str, EdgeData]]:
        """Every edge (one per kind between two nodes) with its attributes."""
        frozen, keys = self.frozen, self._keys
        for eid, (u, v) in enumerate(zip(frozen.src.tolist(), frozen.dst.tolist(), strict=True)):
            yield keys[u], keys[v], EdgeData(self, eid)

    def edges_of_kind(self, kind: EdgeKind) -> Iterator[tuple[str, str, EdgeData]]:
        frozen, keys = self.frozen, self._keys
        for eid in np.flatnonzero(frozen.kind == KIND_CODE[kind]).tolist():
            yield keys[int(frozen.src[eid])], keys[int(frozen.dst[eid])], EdgeData(self, eid)

    def out_edges(self, key: str) -> list[tuple[str, EdgeData]]:
        """(target, edge) for every edge leaving the node, by target then kind."""
        frozen = self.frozen
        return [(self._keys[int(frozen.dst[e])], EdgeData(self, int(e))) for e in frozen.out_edges(self._index[key])]

    def in_edges(self, key: str) -> list[tuple[str, EdgeData]]:
        """(source, edge) for every edge entering the node, by source then kind."""
        frozen = self.frozen
        return [(self._keys[int(frozen.src[e])], EdgeData(self, int(e))) for e in frozen.in_edges(self._index[key])]

    def predecessors(self, key: str) -> list[str]:
        return sorted({u for u, _ in self.in_edges(key)})

    def edges_between(self, u: str, v: str) -> list[EdgeData]:
        return [edge for target, edge in self.out_edges(u) if target == v]

    def edges_citing(self, eids: Iterable[int], wanted: Callable[[Mapping[str, Any]], bool]) -> list[int]:
        """The edges among ``eids`` that rest on at least one IAM statement ``wanted`` accepts.

        Each statement is judged once, and so is each proof many edges share (one grant
        reaching many stores) and each group of statements, whatever the number of edges:
        the edges are matched to their verdicts by the identity of their proofs, in bulk.
        """
        frozen = self.frozen
        single, more = frozen._proof, frozen._more
        by_statement: dict[int, bool] = {}
        by_group: dict[int, bool] = {}

        def judged(statements: Iterable[Mapping[str, Any]]) -> bool:
            for statement in statements:
                verdict = by_statement.get(id(statement))
                if verdict is None:
                    verdict = by_statement[id(statement)] = wanted(statement)
                if verdict:
                    return True
            return False

        shapes: dict[type, str] = {}  # what a kind of proof offers, looked up once per kind

        def shape(kind: type) -> str:
            offered = shapes.get(kind)
            if offered is None:
                offered = shapes[kind] = next(
                    (name for name in ("group", "statements", "evidence", "evidence_at") if hasattr(kind, name)),
                    "items",
                )
            return offered

        def cites(proof: Any) -> bool:
            offered = shape(type(proof))
            if offered == "group":
                group = proof.group
                verdict = by_group.get(id(group))
                if verdict is None:
                    verdict = by_group[id(group)] = judged(proof.statements())
                return verdict
            if offered == "statements":
                return judged(proof.statements())
            if offered in ("evidence", "evidence_at"):
                return False  # a declared fact: no statement
            return judged(e.statement for e in proof if e.kind == "iam-statement" and e.statement)

        chosen = np.fromiter(eids, np.int64)
        proofs = list(map(single.__getitem__, chosen.tolist()))
        # each distinct proof judged once (a proof is alive for the graph's life: ids are unique)
        identities = np.fromiter(map(id, proofs), np.uint64, len(proofs))
        _, first, inverse = np.unique(identities, return_index=True, return_inverse=True)
        distinct = [proofs[i] for i in first.tolist()]
        # proofs of a kind that quotes no statement (declared facts) need no judging one by one
        kinds = list(map(type, distinct))
        quoting = {kind: shape(kind) not in ("evidence", "evidence_at") for kind in set(kinds)}
        judge = np.fromiter(map(quoting.__getitem__, kinds), np.bool_, len(kinds))
        verdicts = np.zeros(len(distinct), dtype=np.bool_)
        for position in np.flatnonzero(judge).tolist():
            verdicts[position] = cites(distinct[position])
        hit = verdicts[inverse]
        if more:  # an edge stated more than once rests on any of its proofs
            merged = np.flatnonzero(np.isin(chosen, np.fromiter(more, np.int64, len(more))))
            for position in merged.tolist():
                hit[position] = any(map(cites, more[int(chosen[position])]))
        found: list[int] = chosen[hit].tolist()
        return found

    def evidence(self, eid: int) -> tuple[Evidence, ...]:
        """The evidence of an edge, built from its proofs (duplicates dropped, order kept)."""
        return tuple(
            distinct_evidence(item for proof in self.frozen.proofs(eid) for item in _evidence_of(proof, self, eid))
        )

    @cached_property
    def _sinks(self) -> list[str]:
        return sorted(compress(self._keys, self.column("training_sink")))

    def training_sinks(self) -> list[str]:
        return list(self._sinks)

    @cached_property
    def _by_class(self) -> dict[str, list[npt.NDArray[np.int64]]]:
        """Per class, the node indices of its stores (in parts). Stores share few distinct
        sets of classes, so the stores are grouped by their set, not walked class by class."""
        column = self.column("classes")
        distinct = list(set(column))
        code = np.fromiter(map({c: i for i, c in enumerate(distinct)}.__getitem__, column), np.int64, len(column))
        stores = np.flatnonzero(self.type_mask(NodeType.STORE))
        order = np.argsort(code[stores], kind="stable")
        bounds = np.searchsorted(code[stores][order], np.arange(len(distinct) + 1))
        index: dict[str, list[npt.NDArray[np.int64]]] = {}
        for position, classes in enumerate(distinct):
            members = stores[order[bounds[position] : bounds[position + 1]]]
            if not len(members):  # a set of classes only nodes other than stores have
                continue
            for cls in classes:
                index.setdefault(cls, []).append(members)
        return index

    def class_store_ids(self, classes: Iterable[str]) -> npt.NDArray[np.int64]:
        """The stores of any of these classes, as compiled node numbers in key order
        (computed once per set of classes: several checks ask for the same classes, and
        there may be 10^5 such stores)."""
        wanted = frozenset(classes)
        found: npt.NDArray[np.int64] | None = self.memo.get(("class-store-ids", wanted))
        if found is None:
            rank = self.compiled.rank
            held = np.zeros(len(rank), dtype=np.bool_)  # a store of two wanted classes counts once
            for cls in wanted:
                for part in self._by_class.get(cls, ()):
                    held[rank[part]] = True
            found = self.memo[("class-store-ids", wanted)] = np.flatnonzero(held)
            found.flags.writeable = False  # shared by every check that asks
        return found

    def protected_store_ids(self) -> npt.NDArray[np.int64]:
        """The stores of a protected class (the inventory's ``protected_stores``), as
        compiled node numbers in key order."""
        return self.class_store_ids(name for name, c in self.inventory.data_classes.items() if c.protected)

    def unclassified_store_ids(self) -> npt.NDArray[np.int64]:
        """The stores of no class, as compiled node numbers in key order."""
        classified = np.fromiter(map(bool, self.column("classes")), np.bool_, len(self._keys))
        return np.sort(self.compiled.rank[np.flatnonzero(self.type_mask(NodeType.STORE) & ~classified)])

    def stores_of_classes(self, classes: Iterable[str]) -> list[str]:
        """The stores of any of these classes, by key, in key order."""
        wanted = frozenset(classes)
        found: list[str] | None = self.memo.get(("stores-of-classes", wanted))
        if found is None:
            nodes = self.compiled.nodes
            found = self.memo[("stores-of-classes", wanted)] = list(
                map(nodes.__getitem__, self.class_store_ids(wanted).tolist())
            )
        return list(found)

    def edge_count_by_kind(self) -> dict[str, int]:
        counts = np.bincount(self.frozen.kind.astype(np.int64), minlength=len(KINDS))
        return {KIND_NAMES[code]: int(n) for code, n in sorted(enumerate(counts), key=lambda c: KIND_NAMES[c[0]]) if n}

    def declared_count(self) -> int:
        return int(self.frozen.declared.sum())

    @cached_property
    def compiled(self) -> CompiledGraph:
        """The CSR form used for reachability; built once, after the graph is complete."""
        from audit.graph.compiled import CompiledGraph

        return CompiledGraph.from_graph(self)

    @cached_property
    def nx(self) -> nx.MultiDiGraph[str]:
        """The graph as a networkx MultiDiGraph keyed by edge kind (export, exploration)."""
        graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        for node, data in self.node_items():
            graph.add_node(node, **dict(data))
        for u, v, edge in self.edge_items():
            graph.add_edge(u, v, key=edge["kind"], **dict(edge))
        return graph
