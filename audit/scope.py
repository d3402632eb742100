"""What the audit looked at, summarised for the report's Observe and Orient sections.

Lists are capped so the report stays a readable size on estates of 10^5 stores; the
counts are always exact.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.graph.model import DataGraph, NodeType
from audit.inventory import Inventory

LIST_CAP = 200
TENANT_CAP = 20  # per tenant: an estate has up to 10^3 tenants
MAP_GROUPS = 40  # the drawn data map keeps the largest groups; the rest become "other"


def _capped(items: list[str], cap: int = LIST_CAP) -> dict[str, Any]:
    return {"count": len(items), "items": heapq.nsmallest(cap, items)}


def observed(inventory: Inventory, graph: DataGraph) -> dict[str, Any]:
    kinds = graph.edge_count_by_kind()
    declared = graph.declared_count()
    return {
        "accounts": len(inventory.accounts),
        "tenants": len(inventory.tenants),
        "stores": len(inventory.stores),
        "principals": len(inventory.principals),
        "jobs": len(inventory.jobs),
        "flows": len(inventory.flows),
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "declared_edges": declared,
        "potential_edges": graph.number_of_edges() - declared,
        "edges_by_kind": kinds,
        "training_sinks": len(graph.training_sinks()),
        "sources": sorted({i.source for i in inventory.inputs}),
    } | _input_counts(inventory)


def _input_counts(inventory: Inventory) -> dict[str, Any]:
    """Per input that counts what it held (lineage: every line, by kind), under ``inputs``."""
    counted = {i.path_or_uri: dict(i.counts) for i in inventory.inputs if i.counts}
    return {"inputs": counted} if counted else {}


def describe_scope(inventory: Inventory, graph: DataGraph, routes: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """``routes``: the node keys of each violating route (the unwaived findings' paths), drawn
    highlighted on the data map."""
    zones: dict[str, dict[str, Any]] = {}
    columns = (graph.column(name) for name in ("node_type", "zone", "account", "entity"))
    for node_type, node_zone, account, entity in zip(*columns, strict=True):
        if node_type not in ("store", "principal", "job"):
            continue  # the public and third parties live in no zone of ours
        zone = node_zone or "unknown"
        entry = zones.get(zone)
        if entry is None:
            entry = zones[zone] = {"accounts": set(), "store": [], "principal": [], "job": []}
        if account:
            entry["accounts"].add(account)
        entry[node_type].append(entity)
    classes: dict[str, list[str]] = {}
    for store in inventory.stores.values():
        for cls in store.classes or ["(unclassified)"]:
            classes.setdefault(cls, []).append(store.id)
    tenant_stores: dict[str, list[str]] = {}
    for store in inventory.stores.values():
        if store.tenant:
            tenant_stores.setdefault(store.tenant, []).append(store.id)
    tenant_principals: dict[str, list[str]] = {}
    for principal in inventory.principals.values():
        if principal.tenant:
            tenant_principals.setdefault(principal.tenant, []).append(principal.id)
    gates: dict[str, list[str]] = {}
    for node, performed in zip(graph.keys, graph.column("gates"), strict=True):
        for gate in performed:
            gates.setdefault(gate, []).append(node)
    return {
        "accounts": [
            {"id": a.id, "name": a.name, "zone": a.zone}
            for a in sorted(inventory.accounts.values(), key=lambda a: a.id)
        ],
        "zones": {
            zone: {
                "accounts": sorted(entry["accounts"]),
                "stores": _capped(entry["store"]),
                "principals": _capped(entry["principal"]),
                "jobs": _capped(entry["job"]),
            }
            for zone, entry in sorted(zones.items())
        },
        "classes": [
            {
                "id": name,
                "protected": inventory.data_classes[name].protected if name in inventory.data_classes else None,
                "training_sink": inventory.data_classes[name].training_sink if name in inventory.data_classes else None,
                "max_retention_days": (
                    inventory.data_classes[name].max_retention_days if name in inventory.data_classes else None
                ),
                "stores": _capped(stores),
            }
            for name, stores in sorted(classes.items())
        ],
        "tenants": [
            {
                "id": t.id,
                "tier": t.tier,
                "stores": _capped(tenant_stores.get(t.id, []), TENANT_CAP),
                "principals": _capped(tenant_principals.get(t.id, []), TENANT_CAP),
            }
            for t in sorted(inventory.tenants.values(), key=lambda t: t.id)
        ],
        "gates": {gate: _capped(nodes) for gate, nodes in sorted(gates.items())},
        "training_sinks": _capped(graph.training_sinks()),
        "map": flow_map(graph, routes),
        "pseudo_nodes": sorted(
            graph.keys[i] for i in np.flatnonzero(graph.type_mask(NodeType.PUBLIC, NodeType.EXTERNAL)).tolist()
        ),
    }


def _group(data: Mapping[str, Any]) -> str:
    """What a node is drawn as on the data map: its class, its gate, or its kind."""
    if data["node_type"] == "store":
        label = data["classes"][0] if data["classes"] else "unclassified"
        return f"{label} (training sink)" if data["training_sink"] else label
    if data["gates"]:
        return f"gate: {', '.join(sorted(data['gates']))}"
    if data["node_type"] == "job":
        return "training jobs" if data["training_sink"] else "jobs"
    if data["node_type"] in ("public", "external"):
        return "the public" if data["node_type"] == "public" else "third parties"
    return "principals"


def flow_map(graph: DataGraph, routes: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """The data map: nodes grouped by zone and what they are, with edge counts between groups,
    and the group-to-group steps of the violating routes (with how many routes take each)."""
    key_of: list[tuple[str, str]] = []  # by node index
    sizes: dict[tuple[str, str], dict[str, int]] = {}
    drawn: dict[tuple[Any, ...], str] = {}  # most nodes share their few drawing attributes
    columns = (graph.column(n) for n in ("node_type", "zone", "classes", "gates", "training_sink"))
    for node_type, node_zone, classes, gates, sink in zip(*columns, strict=True):
        zone = "outside" if node_type in ("public", "external") else (node_zone or "unknown")
        looks = (node_type, classes[:1], gates, sink)
        group = drawn.get(looks)
        if group is None:
            group = drawn[looks] = _group(
                {"node_type": node_type, "classes": classes, "gates": gates, "training_sink": sink}
            )
        key = (zone, group)
        key_of.append(key)
        counts = sizes.get(key)
        if counts is None:
            counts = sizes[key] = {"nodes": 0}
        counts["nodes"] += 1
        counts[node_type] = counts.get(node_type, 0) + 1
    kept = set(sorted(sizes, key=lambda k: -sizes[k]["nodes"])[:MAP_GROUPS])

    def name(key: tuple[str, str]) -> tuple[str, str]:
        return key if key in kept else (key[0], "other")

    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key, counts in sizes.items():
        entry = groups.setdefault(name(key), {"zone": name(key)[0], "label": name(key)[1], "nodes": 0})
        entry["nodes"] += counts["nodes"]
    # edges between groups, counted with arrays (an estate has millions of edges)
    names = sorted({name(key) for key in sizes})
    number = {group: i for i, group in enumerate(names)}
    numbered = {key: number[name(key)] for key in sizes}
    group_of = np.fromiter((numbered[key] for key in key_of), dtype=np.int64, count=len(key_of))
    frozen = graph.frozen
    a, b = group_of[frozen.src], group_of[frozen.dst]
    across = a != b
    pair = (a[across] * len(names) + b[across]) * 2 + frozen.declared[across]
    values, tallies = np.unique(pair, return_counts=True)
    flows: dict[tuple[tuple[str, str], tuple[str, str]], dict[str, int]] = {}
    for value, count in zip(values.tolist(), tallies.tolist(), strict=True):
        ab, declared = divmod(value, 2)
        first, second = divmod(ab, len(names))
        entry = flows.setdefault((names[first], names[second]), {"declared": 0, "potential": 0})
        entry["declared" if declared else "potential"] += count
    ids = {key: f"g{index}" for index, key in enumerate(sorted(groups))}
    steps: dict[tuple[str, str], int] = {}
    numbers = graph.numbers
    for route in routes:
        drawn_route = [ids[name(key_of[numbers[node]])] for node in route if node in numbers]
        for first, second in {(a, b) for a, b in itertools.pairwise(drawn_route) if a != b}:
            steps[(first, second)] = steps.get((first, second), 0) + 1
    return {
        "groups": [{"id": ids[key], **entry} for key, entry in sorted(groups.items())],
        "flows": [{"from": ids[a], "to": ids[b], **counts} for (a, b), counts in sorted(flows.items())],
        "violations": [{"from": a, "to": b, "routes": n} for (a, b), n in sorted(steps.items())],
    }
