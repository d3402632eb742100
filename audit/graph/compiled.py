"""The data graph compiled to CSR arrays for reachability with scipy.sparse.csgraph.

Multi-source questions ("does any store of these classes reach any sink?") are answered
by one breadth-first search from a virtual node joined to every source (or, on the
reversed graph, to every sink), so each rule costs one traversal, not one per source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import breadth_first_order

if TYPE_CHECKING:
    from audit.graph.model import DataGraph

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

UNREACHED = -9999  # scipy's marker for a node outside the BFS tree


@dataclass(frozen=True)
class Traversal:
    """One BFS from a virtual root joined to ``roots``.

    ``parent[i]`` is the node before ``i`` on a shortest path from the nearest root
    (``root`` itself for a root, UNREACHED if ``i`` was not reached); ``order`` lists the
    reached nodes by non-decreasing distance.
    """

    root: int
    parent: IntArray
    order: IntArray

    def reached(self, node: int) -> bool:
        return bool(self.parent[node] != UNREACHED)

    def chain(self, node: int) -> list[int]:
        """Nodes from ``node`` back to its nearest root, inclusive."""
        chain = [node]
        while (step := int(self.parent[chain[-1]])) != self.root:
            chain.append(step)
        return chain


class CompiledGraph:
    def __init__(self, nodes: Sequence[str], src: IntArray, dst: IntArray, declared: BoolArray) -> None:
        self.nodes = list(nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self.src = src
        self.dst = dst
        self.declared = declared

    @classmethod
    def from_graph(cls, graph: DataGraph) -> CompiledGraph:
        nodes = sorted(graph.nx.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        edges = [(index[u], index[v], bool(d["declared"])) for u, v, d in graph.edge_items()]
        src = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
        dst = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
        declared = np.fromiter((e[2] for e in edges), dtype=np.bool_, count=len(edges))
        return cls(nodes, src, dst, declared)

    @property
    def size(self) -> int:
        return len(self.nodes)

    def mask(self, nodes: Sequence[str]) -> BoolArray:
        result = np.zeros(self.size, dtype=np.bool_)
        result[[self.index[n] for n in nodes]] = True
        return result

    def bfs(
        self,
        roots: Sequence[int],
        *,
        reverse: bool = False,
        declared_only: bool = False,
        blocked: BoolArray | None = None,
    ) -> Traversal:
        """Breadth-first search from all ``roots`` at once.

        ``reverse`` follows edges backwards (from sinks towards sources); ``declared_only``
        keeps declared edges only; ``blocked`` nodes are never entered (roots excepted).
        """
        keep = self.declared.copy() if declared_only else np.ones(len(self.src), dtype=np.bool_)
        if blocked is not None:
            keep &= ~blocked[self.src] & ~blocked[self.dst]
        src, dst = self.src[keep], self.dst[keep]
        if reverse:
            src, dst = dst, src
        root = self.size
        roots_arr = np.asarray(roots, dtype=np.int64)
        rows = np.concatenate([src, np.full(len(roots_arr), root, dtype=np.int64)])
        cols = np.concatenate([dst, roots_arr])
        data = np.ones(len(rows), dtype=np.int8)
        matrix = csr_array((data, (rows, cols)), shape=(root + 1, root + 1))
        order, parent = breadth_first_order(matrix, root, directed=True, return_predecessors=True)
        return Traversal(root, parent.astype(np.int64), order.astype(np.int64))
