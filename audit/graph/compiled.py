"""The data graph compiled to CSR arrays for reachability with scipy.sparse.csgraph.

Multi-source questions ("does any store of these classes reach any sink?") are answered
by one breadth-first search from a virtual node joined to every source (or, on the
reversed graph, to every sink), so each rule costs one traversal, not one per source.
The CSR rows are built straight from edge arrays kept sorted by (source, target) and by
(target, source), so filtering edges (declared only, gates blocked) costs one vectorised
pass and no sort.
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


@dataclass(frozen=True)
class _Direction:
    """The edges in CSR row order for one direction: ``rows`` sorted, ``cols`` beside them."""

    rows: IntArray
    cols: IntArray
    declared: BoolArray


class CompiledGraph:
    """Nodes numbered in key order (so traversals, and the witness paths they choose, do not
    depend on the order the inventory listed things)."""

    def __init__(self, nodes: Sequence[str], src: IntArray, dst: IntArray, declared: BoolArray) -> None:
        self.nodes = list(nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        # the graph's node number -> this compiled number (its position in key order)
        self.rank: IntArray = np.arange(len(self.nodes), dtype=np.int64)
        self.src = src
        self.dst = dst
        self.declared = declared
        forward = np.lexsort((dst, src))
        backward = np.lexsort((src, dst))
        self._forward = _Direction(src[forward], dst[forward], declared[forward])
        self._backward = _Direction(dst[backward], src[backward], declared[backward])

    @classmethod
    def from_graph(cls, graph: DataGraph) -> CompiledGraph:
        frozen = graph.freeze()
        keys = list(graph.keys)
        order = np.fromiter(sorted(range(len(keys)), key=keys.__getitem__), np.int64, len(keys))
        rank = np.empty(len(keys), dtype=np.int64)
        rank[order] = np.arange(len(keys), dtype=np.int64)
        nodes = [keys[i] for i in order.tolist()]
        compiled = cls(nodes, rank[frozen.src], rank[frozen.dst], frozen.declared.copy())
        compiled.rank = rank
        return compiled

    @property
    def size(self) -> int:
        return len(self.nodes)

    def mask(self, nodes: Sequence[str]) -> BoolArray:
        result = np.zeros(self.size, dtype=np.bool_)
        result[[self.index[n] for n in nodes]] = True
        return result

    def matrix(
        self,
        roots: Sequence[int] | IntArray = (),
        *,
        reverse: bool = False,
        declared_only: bool = False,
        blocked: BoolArray | None = None,
    ) -> csr_array:
        """The CSR adjacency (one extra row: a virtual root joined to ``roots``)."""
        direction = self._backward if reverse else self._forward
        rows, cols = direction.rows, direction.cols
        if declared_only or blocked is not None:
            keep = direction.declared.copy() if declared_only else np.ones(len(rows), dtype=np.bool_)
            if blocked is not None:
                keep &= ~blocked[rows] & ~blocked[cols]
            rows, cols = rows[keep], cols[keep]
        root = self.size
        roots_arr = np.asarray(roots, dtype=np.int64)
        counts = np.bincount(rows, minlength=root)
        indptr = np.empty(root + 2, dtype=np.int64)
        indptr[0] = 0
        np.cumsum(counts, out=indptr[1 : root + 1])
        indptr[root + 1] = indptr[root] + len(roots_arr)
        indices = np.concatenate([cols, roots_arr]).astype(np.int32 if root < 2**31 - 1 else np.int64)
        data = np.ones(len(indices), dtype=np.int8)
        return csr_array((data, indices, indptr), shape=(root + 1, root + 1))

    def bfs(
        self,
        roots: Sequence[int] | IntArray,
        *,
        reverse: bool = False,
        declared_only: bool = False,
        blocked: BoolArray | None = None,
    ) -> Traversal:
        """Breadth-first search from all ``roots`` at once.

        ``reverse`` follows edges backwards (from sinks towards sources); ``declared_only``
        keeps declared edges only; ``blocked`` nodes are never entered (roots excepted).
        """
        matrix = self.matrix(roots, reverse=reverse, declared_only=declared_only, blocked=blocked)
        order, parent = breadth_first_order(matrix, self.size, directed=True, return_predecessors=True)
        return Traversal(self.size, parent.astype(np.int64), order.astype(np.int64))
