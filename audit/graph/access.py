"""Access derivation: the potential edges (can-read, can-write, can-assume).

This is the seam between the inventory and IAM. Each :class:`AccessDeriver` looks at
the inventory and returns the potential edges it can justify and the gaps it cannot
close. :class:`DescribedAccess` reads access an auditor described by hand;
:class:`audit.iam.access.IamAccess` evaluates IAM JSON beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from audit.coverage import CoverageGap
from audit.graph.model import PUBLIC_NODE, EdgeKind, Evidence, NodeType, Proof, external_key, node_key
from audit.inventory import (
    ACCOUNT_ID,
    FEDERATED_PROVIDER,
    SERVICE_PRINCIPAL,
    Inventory,
    arn_account,
)
from audit.model import Principal

# Every graph check rests on the potential edges; a gap in them undermines all of them.
GRAPH_CHECKS = ("ISO-*", "SEP-*", "EXP-*", "ACC-*", "ERA-*")


class AccessEdge(NamedTuple):
    source: str
    target: str
    kind: EdgeKind
    evidence: tuple[Evidence, ...] | Proof  # a Proof builds the evidence when it is read
    conditional: bool = False


@dataclass
class EdgeBlock:
    """Many potential edges of one kind as columns, with no tuple per edge: what a deriver of
    millions of edges returns. ``src`` and ``dst`` are positions in ``keys``, a table of node
    keys that several blocks may share."""

    keys: Sequence[str]
    kind: EdgeKind
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    conditional: list[bool] = field(default_factory=list)
    proofs: list[Proof] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.src)


@dataclass
class AccessResult:
    edges: list[AccessEdge] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)
    extra_nodes: set[str] = field(default_factory=set)  # public / external pseudo-nodes used
    blocks: list[EdgeBlock] = field(default_factory=list)  # more edges, as columns


class AccessDeriver(Protocol):
    name: str

    def derive(self, inventory: Inventory) -> AccessResult: ...


class DescribedAccess:
    """Access as the auditor described it: ``can_read``, ``can_write`` and ``trusts``."""

    name = "described"

    def derive(self, inventory: Inventory) -> AccessResult:
        result = AccessResult()
        for principal in inventory.principals.values():
            me = node_key(NodeType.PRINCIPAL, principal.id)
            prov = principal.provenance
            for index, store_id in enumerate(principal.can_read):
                where = prov.at(f"can_read[{index}]") if prov else "(inventory)"
                result.edges.append(
                    AccessEdge(
                        node_key(NodeType.STORE, store_id),
                        me,
                        EdgeKind.CAN_READ,
                        (
                            Evidence(
                                kind="described-access",
                                location=where,
                                detail=f"{principal.id} can read {store_id} (described access)",
                            ),
                        ),
                    )
                )
            for index, store_id in enumerate(principal.can_write):
                where = prov.at(f"can_write[{index}]") if prov else "(inventory)"
                result.edges.append(
                    AccessEdge(
                        me,
                        node_key(NodeType.STORE, store_id),
                        EdgeKind.CAN_WRITE,
                        (
                            Evidence(
                                kind="described-access",
                                location=where,
                                detail=f"{principal.id} can write {store_id} (described access)",
                            ),
                        ),
                    )
                )
            for index, trusted in enumerate(principal.trusts):
                where = prov.at(f"trusts[{index}]") if prov else "(inventory)"
                for assumer in assumers(trusted, principal, inventory, result):
                    result.edges.extend(assume_edges(assumer, me, trusted, principal.id, where))
        return result


def assumers(trusted: str, role: Principal, inventory: Inventory, result: AccessResult) -> list[str]:
    """The graph nodes a trust entry lets assume ``role`` (sound: an account means all of it)."""
    if trusted == "*":  # anyone: the public, and every principal of the inventory
        result.extra_nodes.add(PUBLIC_NODE)
        return [PUBLIC_NODE, *(node_key(NodeType.PRINCIPAL, p) for p in inventory.principals if p != role.id)]
    if trusted in inventory.principals:
        return [node_key(NodeType.PRINCIPAL, trusted)]
    if SERVICE_PRINCIPAL.match(trusted):
        return []  # an AWS service acting for a job; the job itself is in the graph
    oidc = FEDERATED_PROVIDER.match(trusted)
    if oidc:
        key = external_key(oidc.group(1))
        result.extra_nodes.add(key)
        return [key]
    account = trusted if ACCOUNT_ID.match(trusted) else arn_account(trusted)
    if account is None:
        key = external_key(trusted)
        result.extra_nodes.add(key)
        return [key]
    known = inventory.accounts.get(account)
    if known is None or known.zone == "external":
        key = external_key(account)
        result.extra_nodes.add(key)
        return [key]
    by_arn = [p.id for p in inventory.principals.values() if p.arn and p.arn == trusted]
    if by_arn:
        return [node_key(NodeType.PRINCIPAL, p) for p in by_arn]
    # The account (or its root) is trusted: any principal in it allowed sts:AssumeRole.
    return [
        node_key(NodeType.PRINCIPAL, p.id)
        for p in inventory.principals.values()
        if p.id != role.id and inventory.principal_account(p) is known
    ]


def assume_edges(assumer: str, role: str, trusted: str, role_id: str, where: str) -> list[AccessEdge]:
    """An assumer obtains whatever the role can read: the edge runs role -> assumer. What the
    assumer can write through the role is added when the graph is built
    (:func:`audit.graph.build.add_writes_through_assumption`)."""
    evidence = (Evidence(kind="trust-policy", location=where, detail=f"{trusted} is trusted to assume {role_id}"),)
    return [AccessEdge(role, assumer, EdgeKind.CAN_ASSUME, evidence)]


def default_derivers() -> Sequence[AccessDeriver]:
    """Described access, and IAM evaluation of whatever policy documents the inventory holds."""
    from audit.iam.access import IamAccess  # the IAM package builds on this module

    return (DescribedAccess(), IamAccess())


def derive_all(inventory: Inventory, derivers: Iterable[AccessDeriver]) -> AccessResult:
    combined = AccessResult()
    for deriver in derivers:
        result = deriver.derive(inventory)
        combined.edges.extend(result.edges)
        combined.blocks.extend(result.blocks)
        combined.gaps.extend(result.gaps)
        combined.extra_nodes |= result.extra_nodes
    return combined
