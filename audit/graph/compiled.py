"""The data graph compiled to CSR arrays for reachability with scipy.sparse.csgraph.

Multi-source questions ("does any store of these classes reach any sink?") are answered
by one breadth-first search from a virtual node joined to every source (or, on the
reversed graph, to every sink), so each rule costs one traversal, not one per source.
Each direction's CSR arrays (edges sorted by (source, target), or by (target, source)) are
built once, and its declared edges' once when first asked for; a traversal copies only the
row starts and appends the virtual root's row. Blocked nodes (gates) become dead ends in
that copy, so no traversal filters or sorts the edges again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    """The edges in CSR row order for one direction: ``cols`` the far end of each edge, row
    by row, ``indptr`` where each row starts, with one more row (the virtual root's, empty)
    at the end; numbers in the CSR index type."""

    cols: npt.NDArray[np.signedinteger[Any]]
    declared: BoolArray
    indptr: npt.NDArray[np.signedinteger[Any]]

    @classmethod
    def of(cls, rows: IntArray, cols: IntArray, declared: BoolArray, size: int, dtype: type) -> _Direction:
        """From edges sorted by row."""
        return cls(cols.astype(dtype), declared, _indptr(np.bincount(rows, minlength=size), dtype))

    def declared_only(self) -> _Direction:
        size = len(self.indptr) - 2
        before = np.concatenate([[0], np.cumsum(self.declared)])  # declared edges before each edge
        counts = before[self.indptr[1 : size + 1]] - before[self.indptr[:size]]
        kept = self.declared[self.declared]
        return _Direction(self.cols[self.declared], kept, _indptr(counts, self.indptr.dtype.type))


def _indptr(counts: npt.NDArray[np.signedinteger[Any]], dtype: type) -> npt.NDArray[np.signedinteger[Any]]:
    """Row starts from the number of edges in each row, and one more row, empty, at the end."""
    size = len(counts)
    indptr: npt.NDArray[np.signedinteger[Any]] = np.zeros(size + 2, dtype=dtype)
    np.cumsum(counts, out=indptr[1 : size + 1])
    indptr[size + 1] = indptr[size]
    return indptr


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
        size = len(self.nodes)
        # CSR numbers: 32 bits while every node number and edge position (with the virtual
        # root and its edges to up to every node) fits, as csgraph would choose itself
        self._index_type: type = np.int32 if len(src) + 2 * size + 2 < 2**31 else np.int64
        # by (source, target) and by (target, source): one stable sort of a combined key
        # orders exactly as np.lexsort does, in half the time
        forward = np.argsort(src * max(size, 1) + dst, kind="stable")
        backward = np.argsort(dst * max(size, 1) + src, kind="stable")
        self._directions = {
            (False, False): _Direction.of(src[forward], dst[forward], declared[forward], size, self._index_type),
            (True, False): _Direction.of(dst[backward], src[backward], declared[backward], size, self._index_type),
        }
        self._ones = np.ones(0, dtype=np.float64)

    def _direction(self, reverse: bool, declared_only: bool) -> _Direction:
        """The edges one way, all or declared only (each built once, when first asked for)."""
        found = self._directions.get((reverse, declared_only))
        if found is None:
            found = self._directions[(reverse, True)] = self._directions[(reverse, False)].declared_only()
        return found

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
        """The CSR adjacency (one extra row: a virtual root joined to ``roots``).

        Every edge out of a ``blocked`` node is turned into a loop to itself, so a search
        may step onto it but never past it (``bfs`` then drops it from its tree)."""
        direction = self._direction(reverse, declared_only)
        indptr = direction.indptr.copy()
        root = self.size
        roots_arr: npt.NDArray[np.signedinteger[Any]] = np.asarray(roots, dtype=self._index_type)
        indptr[root + 1] = indptr[root] + len(roots_arr)
        indices = np.concatenate([direction.cols, roots_arr])
        if blocked is not None:  # a blocked node's edges all lead back to itself: a dead end
            closed = np.flatnonzero(blocked)
            starts, ends = indptr[closed], indptr[closed + 1]
            indices[spans(starts, ends)] = np.repeat(closed, ends - starts)
        return csr_array((self._data(len(indices)), indices, indptr), shape=(root + 1, root + 1))

    def adjacency(self) -> csr_array:
        """Every pair of nodes an edge joins, once, as a CSR matrix (no virtual root).

        Edges of two kinds between the same nodes are one entry: scipy's strongly connected
        components (1.17) never return on a matrix that holds an entry twice."""
        direction, size = self._directions[(False, False)], self.size
        entries = (np.ones(len(direction.cols)), direction.cols.copy(), direction.indptr[: size + 1].copy())
        matrix = csr_array(entries, shape=(size, size))
        matrix.sum_duplicates()  # in place, on the copies
        return matrix

    def _data(self, count: int) -> npt.NDArray[np.float64]:
        """``count`` ones: the values of a matrix's entries (a view of one shared array).

        In float64, the type csgraph computes in: given any other, every search would first
        copy the matrix to float64 (after sorting and summing its duplicate entries), which
        costs many times the search itself when it reaches only part of the graph."""
        if len(self._ones) < count:
            self._ones = np.ones(len(self.src) + self.size, dtype=np.float64)  # the most any matrix needs
        return self._ones[:count]

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
        found, tree = breadth_first_order(matrix, self.size, directed=True, return_predecessors=True)
        parent, order = tree.astype(np.int64), found.astype(np.int64)
        if blocked is not None:  # the blocked nodes it stepped onto, roots excepted, were never entered
            dropped = np.append(blocked, False)
            dropped[np.asarray(roots, dtype=np.int64)] = False
            parent[dropped] = UNREACHED
            order = order[~dropped[order]]
        return Traversal(self.size, parent, order)


def spans(starts: npt.NDArray[np.signedinteger[Any]], ends: npt.NDArray[np.signedinteger[Any]]) -> IntArray:
    """The concatenation of range(start, end) for each pair, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return offsets + np.arange(total, dtype=np.int64)
