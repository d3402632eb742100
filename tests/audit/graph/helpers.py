"""Build small graphs straight from Python data, for rule and builder tests."""

from __future__ import annotations

from typing import Any

from audit.graph.build import build_graph
from audit.graph.model import DataGraph
from audit.merge import merge_documents
from audit.model import InventoryDocument, Provenance

ACCOUNTS = [
    {"id": "111111111111", "name": "serving", "zone": "serving"},
    {"id": "222222222222", "name": "training", "zone": "training"},
    {"id": "999999999999", "name": "vendor", "zone": "external"},
]


def graph_of(**sections: Any) -> DataGraph:
    """A graph from inventory sections; stores default to the serving account."""
    for store in sections.get("stores", []):
        store.setdefault("kind", "s3-bucket")
        store.setdefault("account", "serving")
    for principal in sections.get("principals", []):
        principal.setdefault("account", "training")
    document = InventoryDocument.model_validate({"version": 1, "accounts": ACCOUNTS, **sections})
    for section in ("stores", "principals", "jobs", "tenants", "flows"):
        for index, entity in enumerate(getattr(document, section)):
            entity.provenance = Provenance(source="test", location=f"test:{section}[{index}]")
    return build_graph(merge_documents([document]))


def store(store_id: str, *classes: str, **extra: Any) -> dict[str, Any]:
    return {"id": store_id, "classes": list(classes), **extra}
