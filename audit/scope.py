"""What the audit looked at, summarised for the report's Observe and Orient sections.

Lists are capped so the report stays a readable size on estates of 10^5 stores; the
counts are always exact.
"""

from __future__ import annotations

from typing import Any

from audit.graph.model import DataGraph, NodeType
from audit.inventory import Inventory

LIST_CAP = 200


def _capped(items: list[str]) -> dict[str, Any]:
    return {"count": len(items), "items": sorted(items)[:LIST_CAP]}


def observed(inventory: Inventory, graph: DataGraph) -> dict[str, Any]:
    kinds = graph.edge_count_by_kind()
    declared = sum(1 for _, _, data in graph.edge_items() if data["declared"])
    return {
        "accounts": len(inventory.accounts),
        "tenants": len(inventory.tenants),
        "stores": len(inventory.stores),
        "principals": len(inventory.principals),
        "jobs": len(inventory.jobs),
        "flows": len(inventory.flows),
        "graph_nodes": graph.nx.number_of_nodes(),
        "graph_edges": graph.nx.number_of_edges(),
        "declared_edges": declared,
        "potential_edges": graph.nx.number_of_edges() - declared,
        "edges_by_kind": kinds,
        "training_sinks": len(graph.training_sinks()),
        "sources": sorted({i.source for i in inventory.inputs}),
    }


def describe_scope(inventory: Inventory, graph: DataGraph) -> dict[str, Any]:
    zones: dict[str, dict[str, Any]] = {}
    for _, data in graph.node_items():
        if data["node_type"] not in ("store", "principal", "job"):
            continue  # the public and third parties live in no zone of ours
        zone = data["zone"] or "unknown"
        entry = zones.setdefault(zone, {"accounts": set(), "store": [], "principal": [], "job": []})
        if data["account"]:
            entry["accounts"].add(data["account"])
        if data["node_type"] in ("store", "principal", "job"):
            entry[data["node_type"]].append(data["entity"])
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
    for node, data in graph.node_items():
        for gate in data["gates"]:
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
                "stores": _capped(tenant_stores.get(t.id, [])),
                "principals": _capped(tenant_principals.get(t.id, [])),
            }
            for t in sorted(inventory.tenants.values(), key=lambda t: t.id)
        ],
        "gates": {gate: _capped(nodes) for gate, nodes in sorted(gates.items())},
        "training_sinks": _capped(graph.training_sinks()),
        "pseudo_nodes": sorted(
            n for n, data in graph.node_items() if data["node_type"] in (NodeType.PUBLIC.value, NodeType.EXTERNAL.value)
        ),
    }
