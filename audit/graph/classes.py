"""Data carries its classes: a store that receives data along declared edges (writes,
replicates, flows, containment) holds the classes of the stores upstream of it, unless a
gate on the way removes the class (which gate removes which class is the taxonomy's
``removed_by``: the consent filter removes ``consumer-opt-out``, de-linking removes
``feedback``; nothing removes ``commercial-api`` or ``enterprise``).

The hygiene checks (retention, encryption, exposure, access, separation, erasure) judge a
store by the classes it holds, its own and these derived ones; a derived class is shown
with the path it came by. The path rules need none of this: they search from the true
origin, through every copy.

One breadth-first search per class over the declared edges, from the stores that hold it
themselves (and whose data has not passed a gate that removes it), with the nodes carrying
such a gate, and training jobs (they make models, not copies), as dead ends.

Containment moves data along the edges it adds (a job reading a bucket reads the prefixes
inside it: their classes reach the job's outputs), but it does not give the container the
classes of the stores inside it: the inner stores are audited under the container's
settings on their own, and the rest of the container is still what it is (unclassified
stays unknown for ISO-007).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from audit.graph.compiled import UNREACHED, BoolArray, IntArray, Traversal
from audit.graph.kinds import NodeType, node_key
from audit.graph.model import DataGraph
from audit.model import Store

_MEMO = "derived-classes"


@dataclass(frozen=True)
class ClassReach:
    """Where one class is held: ``held`` per compiled node (stores holding it, their own or
    derived), and the search that found the derived ones (for their paths)."""

    cls: str
    held: BoolArray
    own: BoolArray
    tree: Traversal | None


def class_reach(graph: DataGraph) -> dict[str, ClassReach]:
    """Per class (training-sink classes excepted: a sink is not a kind of data), where it is
    held. Computed once per graph."""
    found: dict[str, ClassReach] | None = graph.memo.get(_MEMO)
    if found is not None:
        return found
    compiled = graph.compiled
    stores = np.zeros(compiled.size, dtype=np.bool_)
    stores[compiled.rank] = graph.type_mask(NodeType.STORE)
    inv = graph.inventory
    sinks = np.zeros(compiled.size, dtype=np.bool_)
    jobs = compiled.rank[
        np.flatnonzero(graph.type_mask(NodeType.JOB) & np.asarray(graph.column("training_sink"), dtype=np.bool_))
    ]
    sinks[jobs] = True
    found = {}
    for cls, spec in sorted(inv.data_classes.items()):
        if spec.training_sink:
            continue
        roots = graph.class_store_ids([cls])
        if not len(roots):
            continue
        own = np.zeros(compiled.size, dtype=np.bool_)
        own[roots] = True
        blocked = _removers(graph, spec.removed_by)
        # a training job consumes what it reads: its outputs are models, not copies of the data
        blocked = sinks if blocked is None else blocked | sinks
        # a store whose data already passed a gate that removes the class holds it, but
        # what it passes on does not (de-linked feedback is no longer identity-linked)
        passed = _removers(graph, spec.removed_by, "passed_gates")
        origins = roots if passed is None else roots[~passed[roots]]
        tree = compiled.bfs(origins, declared_only=True, blocked=blocked)
        held = stores & (tree.parent[: compiled.size] != UNREACHED)
        held[roots] = True
        found[cls] = ClassReach(cls, held, own, tree)
    graph.memo[_MEMO] = found
    return found


def _removers(graph: DataGraph, gates: Sequence[str], column: str = "gates") -> BoolArray | None:
    """The compiled nodes that carry any of these gates (or, by ``passed_gates``, whose
    data has passed one)."""
    if not gates:
        return None
    compiled = graph.compiled
    mask = np.zeros(compiled.size, dtype=np.bool_)
    wanted = set(gates)
    for index, carried in enumerate(graph.column(column)):
        if carried and wanted & carried:
            mask[compiled.rank[index]] = True
    return mask


def holding_store_ids(graph: DataGraph, classes: Iterable[str]) -> IntArray:
    """The stores that hold any of these classes, their own or derived, as compiled node
    numbers in key order (computed once per set of classes: every hygiene check asks)."""
    wanted = frozenset(classes)
    found: IntArray | None = graph.memo.get(("holding-store-ids", wanted))
    if found is None:
        reach = class_reach(graph)
        held = np.zeros(graph.compiled.size, dtype=np.bool_)
        for cls in wanted:
            if cls in reach:
                held |= reach[cls].held
        found = graph.memo[("holding-store-ids", wanted)] = np.flatnonzero(held)
        found.flags.writeable = False
    return found


def protected_holding_ids(graph: DataGraph) -> IntArray:
    """The stores that hold a protected class, their own or derived."""
    return holding_store_ids(graph, (n for n, c in graph.inventory.data_classes.items() if c.protected))


def protected_holding_stores(graph: DataGraph) -> list[Store]:
    """The stores that hold a protected class, their own or derived, by id (computed once)."""
    found: list[Store] | None = graph.memo.get("protected-holding-stores")
    if found is None:
        nodes, stores = graph.compiled.nodes, graph.inventory.stores
        found = sorted(
            (stores[nodes[i].partition(":")[2]] for i in protected_holding_ids(graph).tolist()), key=lambda s: s.id
        )
        graph.memo["protected-holding-stores"] = found
    return found


def held_classes(graph: DataGraph, store: Store) -> list[str]:
    """Every class the store holds: its own, then the derived ones (sorted)."""
    node = graph.compiled.index[node_key(NodeType.STORE, store.id)]
    derived = sorted(c for c, r in class_reach(graph).items() if r.held[node] and not r.own[node])
    return [*store.classes, *(c for c in derived if c not in store.classes)]


def derivation(graph: DataGraph, store: Store, cls: str) -> list[str] | None:
    """The node keys by which a derived class came to the store, from the store that holds
    it itself; None when the store holds the class itself, or not at all."""
    reach = class_reach(graph).get(cls)
    compiled = graph.compiled
    node = compiled.index[node_key(NodeType.STORE, store.id)]
    if reach is None or reach.tree is None or not reach.held[node] or reach.own[node]:
        return None
    return [compiled.nodes[i] for i in reversed(reach.tree.chain(node))]


def describe_classes(graph: DataGraph, store: Store, wanted: Iterable[str]) -> str:
    """The store's classes among ``wanted``, each derived one with where it came from:
    ``commercial-api (derived from api-logs via extract-job)``."""
    parts = []
    for cls in held_classes(graph, store):
        if cls not in wanted:
            continue
        path = derivation(graph, store, cls)
        if path is None:
            parts.append(cls)
            continue
        names = [key.partition(":")[2] for key in path]
        via = f" via {', '.join(names[1:-1])}" if len(names) > 2 else ""
        parts.append(f"{cls} (derived from {names[0]}{via})")
    return ", ".join(parts)


def retention_limits(graph: DataGraph) -> list[tuple[Store, int]]:
    """Every store holding a class with a maximum retention (its own or derived), with the
    strictest such maximum, by id."""
    compiled = graph.compiled
    limit = np.full(compiled.size, np.iinfo(np.int64).max, dtype=np.int64)
    for cls, reach in class_reach(graph).items():
        days = graph.inventory.data_classes[cls].max_retention_days
        if days is not None:
            limit[reach.held] = np.minimum(limit[reach.held], days)
    limited = np.flatnonzero(limit != np.iinfo(np.int64).max)
    nodes, stores = compiled.nodes, graph.inventory.stores
    return [(stores[nodes[i].partition(":")[2]], int(limit[i])) for i in limited.tolist()]
