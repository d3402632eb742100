"""A complete graph's storage: slotted node records, edges as parallel arrays indexed in CSR
form (:class:`Frozen`), and the mapping views over them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from audit.graph.kinds import DECLARED_CODE, KIND_NAMES, KINDS

if TYPE_CHECKING:
    from audit.graph.model import DataGraph

_EMPTY: frozenset[str] = frozenset()


class NodeData(Mapping[str, Any]):
    """One node's attributes: a slotted record read like a mapping."""

    __slots__ = (
        "account",
        "classes",
        "entity",
        "gates",
        "node_type",
        "passed_gates",
        "tenant",
        "training_sink",
        "zone",
    )
    FIELDS = ("node_type", "entity", "classes", "tenant", "gates", "passed_gates", "training_sink", "account", "zone")

    def __init__(
        self,
        node_type: str,
        entity: str,
        classes: tuple[str, ...] = (),
        tenant: str | None = None,
        gates: frozenset[str] = _EMPTY,
        passed_gates: frozenset[str] = _EMPTY,
        training_sink: bool = False,
        account: str | None = None,
        zone: str | None = None,
    ) -> None:
        self.node_type = node_type
        self.entity = entity
        self.classes = classes
        self.tenant = tenant
        self.gates = gates
        self.passed_gates = passed_gates
        self.training_sink = training_sink
        self.account = account
        self.zone = zone

    def __getitem__(self, key: str) -> Any:
        if key not in self.FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.FIELDS)

    def __len__(self) -> int:
        return len(self.FIELDS)


class EdgeData(Mapping[str, Any]):
    """One edge's attributes (``kind``, ``declared``, ``conditional``, ``evidence``), read
    from the graph's arrays; the evidence is built when it is read."""

    __slots__ = ("_graph", "eid")
    FIELDS = ("kind", "declared", "conditional", "evidence")

    def __init__(self, graph: DataGraph, eid: int) -> None:
        self._graph = graph
        self.eid = eid

    def __getitem__(self, key: str) -> Any:
        frozen = self._graph.frozen
        if key == "kind":
            return KIND_NAMES[frozen.kind[self.eid]]
        if key == "declared":
            return bool(frozen.declared[self.eid])
        if key == "conditional":
            return bool(frozen.conditional[self.eid])
        if key == "evidence":
            return self._graph.evidence(self.eid)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.FIELDS)

    def __len__(self) -> int:
        return len(self.FIELDS)


IntArray = npt.NDArray[np.int64]


def _edge_key(first: IntArray, second: IntArray, kind: npt.NDArray[Any], size: int) -> IntArray:
    """One number per edge that sorts as (first, second, kind) does."""
    key: IntArray = (first.astype(np.int64) * max(size, 1) + second) * len(KINDS) + kind
    return key


def _edge_order(first: IntArray, second: IntArray, kind: npt.NDArray[Any], size: int) -> IntArray:
    """The edges by (first, second, kind); at most one edge per triple, so no ties."""
    return np.argsort(_edge_key(first, second, kind, size)).astype(np.int64, copy=False)


class Frozen:
    """The edges of a complete graph as arrays, one per (source, target, kind), with CSR
    indexes of the edges leaving and entering each node."""

    def __init__(
        self,
        size: int,
        src: IntArray,
        dst: IntArray,
        kind: npt.NDArray[np.int8],
        conditional: npt.NDArray[np.bool_],
        proofs: list[Any],
        more: dict[int, list[Any]] | None = None,
        out_order: IntArray | None = None,
    ) -> None:
        self.src = src
        self.dst = dst
        self.kind = kind
        self.declared = DECLARED_CODE[kind]
        self.conditional = conditional
        # one proof per edge, and every proof of the few edges stated more than once (a list
        # per edge would cost ~80 bytes each, 400 MB at 5*10^6 edges)
        self._proof = proofs
        self._more = more or {}
        # edges by (source, target, kind) and by (target, source, kind): one sort of a
        # combined key each, the order np.lexsort would give, in a fraction of its time
        self.out_order = _edge_order(src, dst, kind, size) if out_order is None else out_order
        self.out_ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=size))]).astype(np.int64)
        self.in_order = _edge_order(dst, src, kind, size)
        self.in_ptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=size))]).astype(np.int64)

    def proofs(self, eid: int) -> Sequence[Any]:
        """What proves the edge: each source's proof, in the order they were added."""
        more = self._more.get(eid)
        return (self._proof[eid],) if more is None else more

    def out_edges(self, node: int) -> IntArray:
        return self.out_order[self.out_ptr[node] : self.out_ptr[node + 1]]

    def in_edges(self, node: int) -> IntArray:
        return self.in_order[self.in_ptr[node] : self.in_ptr[node + 1]]
