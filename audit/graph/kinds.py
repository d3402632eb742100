"""The kinds of node and edge of the data graph, and how nodes are keyed."""

from __future__ import annotations

from enum import StrEnum

import numpy as np


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
KINDS: tuple[EdgeKind, ...] = tuple(EdgeKind)
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
KIND_NAMES: tuple[str, ...] = tuple(kind.value for kind in KINDS)
DECLARED_CODE = np.array([kind.declared for kind in KINDS], dtype=np.bool_)

PUBLIC_NODE = "public"


_KEY_PREFIX = {node_type: f"{node_type.value}:" for node_type in NodeType}


def node_key(node_type: NodeType, entity_id: str) -> str:
    if node_type is NodeType.PUBLIC:
        return PUBLIC_NODE
    return _KEY_PREFIX[node_type] + entity_id


def external_key(account_or_provider: str) -> str:
    return f"{NodeType.EXTERNAL.value}:{account_or_provider}"
