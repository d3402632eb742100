"""ACC-*: access to client data is restricted, least-privilege and logged (C8)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, NoParams, Observation, Outcome
from audit.graph.classes import protected_holding_ids, protected_holding_stores
from audit.graph.model import KIND_CODE, EdgeData, EdgeKind, Evidence, NodeType
from audit.graph.rules import Violation, witness
from audit.iam.glob import intersects, matches, shape
from audit.iam.policy import PolicyError, Resource, Statement, parse_statement
from audit.iam.targets import READ_ACTIONS

ACCESS_ROWS = 500
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


class TrustParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unused_days: int = Field(default=90, ge=1)


def _protected_read_edges(ctx: CheckContext[Any], kinds: tuple[EdgeKind, ...]) -> list[int]:
    """Edges of these kinds out of protected stores, by store, reader and kind (vectorised:
    an estate has millions of edges; computed once per graph)."""
    graph = ctx.graph
    memo = ("protected-read-edges", kinds)
    found: list[int] | None = graph.memo.get(memo)
    if found is not None:
        return found
    frozen = graph.frozen
    rank = graph.compiled.rank
    protected = np.zeros(graph.number_of_nodes(), dtype=np.bool_)
    protected[protected_holding_ids(graph)] = True
    protected = protected[rank]  # by node number, as the edges name them
    wanted = np.isin(frozen.kind, [KIND_CODE[k] for k in kinds]) & protected[frozen.src]
    edges = np.flatnonzero(wanted)
    order = np.lexsort((frozen.kind[edges], rank[frozen.dst[edges]], rank[frozen.src[edges]]))
    found = graph.memo[memo] = edges[order].tolist()
    return found


def _protected_reads(ctx: CheckContext[Any], eids: list[int]) -> Iterator[tuple[str, str, EdgeData]]:
    keys, frozen = ctx.graph.keys, ctx.graph.frozen
    for eid in eids:
        yield keys[int(frozen.src[eid])], keys[int(frozen.dst[eid])], EdgeData(ctx.graph, eid)


def _on_edge(ctx: CheckContext[Any], source: str, target: str, endpoints: tuple[str, str], message: str) -> Outcome:
    """A finding about one potential edge, the edge itself as its path."""
    path = witness(ctx.graph, [source, target], declared_only=False)
    return ctx.finding(
        endpoints=endpoints, kind="potential", violation=Violation(source, target, "potential", path), message=message
    )


def access_table(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Who can read protected data, and why (ACC-000): information for the reviewer, not a
    finding. One row per (store, reader), with the grant or job that gives the access.

    Example row: ``api-logs | billing-rollup-role (principal) | can-read | potential | described access``
    """
    rows: list[list[str]] = []
    eids = _protected_read_edges(ctx, (EdgeKind.READS, EdgeKind.CAN_READ))
    # every edge is counted; the table keeps the first rows (the evidence is built for those only)
    for store, reader, data in _protected_reads(ctx, eids[:ACCESS_ROWS]):
        why = "; ".join(e.detail for e in data["evidence"] if e.kind != "iam-layers")
        rows.append(
            [
                ctx.graph.node(store)["entity"],
                f"{ctx.graph.node(reader)['entity']} ({ctx.graph.node(reader)['node_type']})",
                data["kind"],
                ("declared" if data["declared"] else "potential") + (", conditional" * bool(data["conditional"])),
                why,
            ]
        )
    yield Observation(
        title="Who can read protected data",
        columns=["store", "reader", "edge", "kind", "why"],
        rows=rows,
        total=len(eids),
    )


def _statements(document: Any) -> list[Any]:
    found = document.get("Statement", []) if isinstance(document, Mapping) else []
    return [found] if isinstance(found, Mapping) else list(found) if isinstance(found, list) else []


class WildcardJudge:
    """Which IAM statements are wildcard grants of a protected store's objects.

    A statement is one when it is an Allow that applies to reading S3 objects and either
    uses NotAction or NotResource (it grants everything but what it names), or reaches the
    store's objects through a Resource pattern while granting the read with a wildcard
    action (``*``, ``s3:*``, ``S3:*``: actions ignore case, ``s3:Get*``), or through a Resource
    pattern over every bucket (``*``, ``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``). Patterns are
    read with the IAM matcher (``audit.iam``), exactly as the access edges were derived.

    Statements of an SCP, a permission boundary or a KMS key policy only bound or unlock
    access (``FullAWSAccess`` is ``*`` on ``*``): an edge cites them, but they grant no data,
    unless the same statement also stands in the reader's identity policies or the store's
    bucket policy.
    """

    def __init__(self, ctx: CheckContext[Any]) -> None:
        inventory = ctx.inventory
        documents = [p for a in inventory.accounts.values() for level in a.scps or () for p in level.policies]
        documents += [p.permission_boundary for p in inventory.principals.values() if p.permission_boundary]
        documents += [k.policy for k in inventory.kms_keys.values() if k.policy]
        self._bounds = [s for document in documents for s in _statements(document)]
        self._wild_bounds = [s for s in self._bounds if isinstance(s, Mapping) and self.wildcard(s, None)]
        self._also_granting: list[Any] | None = None
        self._ctx = ctx

    @staticmethod
    def statement(raw: Mapping[str, Any]) -> Statement | None:
        try:
            return parse_statement(raw, "")
        except PolicyError:
            return None

    def _granting_bounds(self) -> list[Any]:
        """The wildcard bound statements that also stand in some identity or bucket policy
        (looked for once, and only when a bound statement is a wildcard)."""
        if self._also_granting is None:
            inventory = self._ctx.inventory
            documents = [d for p in inventory.principals.values() for d in p.policies]
            documents += [s.policy for s in inventory.stores.values() if isinstance(s.policy, dict)]
            granting = (s for document in documents for s in _statements(document))
            self._also_granting = [s for s in granting if s in self._wild_bounds]
        return self._also_granting

    def may_be_wildcard(self, raw: Mapping[str, Any]) -> bool:
        """Whether the statement is a wildcard grant of some store (judged once per statement)."""
        if not self.wildcard(raw, None):
            return False
        return raw not in self._wild_bounds or raw in self._granting_bounds()

    def wildcard(self, raw: Mapping[str, Any], objects: Resource | None) -> bool:
        """Whether the statement is a wildcard grant of these objects (None: of any)."""
        statement = self.statement(raw)
        if statement is None or statement.effect != "Allow" or not statement.applies_to_any(READ_ACTIONS):
            return False
        if statement.actions is None or statement.resources is None:
            return True  # NotAction / NotResource: everything but what it names
        reaching = [
            raw_pattern
            for raw_pattern, wide in zip(statement.resources, statement.wide_resources, strict=True)
            if objects is None or objects.intersects(wide)
        ]
        wide_action = any(
            shape(a)[1] != 0 and any(matches(a, r, ignore_case=True) for r in READ_ACTIONS) for a in statement.actions
        )
        return bool(reaching) and (wide_action or any(_every_bucket(p) for p in reaching))

    def grants(self, evidence: Evidence, store: str, reader: str) -> bool:
        """Whether this evidence of the edge store -> reader is a wildcard grant of the store."""
        raw = evidence.statement
        if evidence.kind != "iam-statement" or not raw:
            return False
        inventory = self._ctx.inventory
        found = inventory.stores.get(self._ctx.graph.node(store)["entity"])
        location = inventory.s3_location(found) if found is not None else None
        objects = Resource("arn:aws:s3:::" + location.removeprefix("s3://"), is_prefix=True) if location else None
        if not self.wildcard(raw, objects):
            return False
        if raw not in self._bounds:
            return True
        principal = inventory.principals.get(self._ctx.graph.node(reader)["entity"])
        granting = [s for p in principal.policies for s in _statements(p)] if principal is not None else []
        granting += _statements(found.policy) if found is not None and found.policy else []
        return raw in granting


@functools.lru_cache(maxsize=65536)
def _every_bucket(pattern: str) -> bool:
    """Whether the pattern reaches objects of any bucket, whatever its name (``*``,
    ``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``, ``arn:aws:s3:::*/api/*``, in any partition): it
    matches an object of a bucket named by a character no bucket name has. A bucket-name
    prefix (``arn:aws:s3:::tn000001-*``) scopes the grant to a naming convention: not one."""
    return any(intersects(pattern, f"arn:{partition}:s3:::\x00") for partition in PARTITIONS)


def no_wildcard_grants(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No access to protected data rests on a wildcard grant (ACC-001): a wildcard action that
    grants reading the data (``*``, ``s3:*``, ``S3:*``, ``s3:Get*``), a Resource pattern over
    every bucket that reaches it (``*``, ``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``), or an Allow
    with NotAction or NotResource. A bucket-name prefix (``tn000001-*``) is a scope, not a
    wildcard grant. Statements of SCPs, permission boundaries and key policies bound access and
    grant none: they do not count.

    Example finding::

        ACC-001-2e1d0c9b8a7f  MEDIUM  potential
        ops-readall-role reads protected api-logs through a wildcard grant (Allow s3:* on *)
    """
    if not protected_holding_stores(ctx.graph):
        yield ctx.nothing_in_scope("store of a protected class")
    judge = WildcardJudge(ctx)
    eids = _protected_read_edges(ctx, (EdgeKind.READS, EdgeKind.CAN_READ))
    for store, reader, data in _protected_reads(ctx, ctx.graph.edges_citing(eids, judge.may_be_wildcard)):
        wild = [e for e in data["evidence"] if judge.grants(e, store, reader)]
        if not wild:
            continue
        yield _on_edge(
            ctx,
            store,
            reader,
            endpoints=(store, reader),
            message=f"{ctx.graph.node(reader)['entity']} reads protected {ctx.graph.node(store)['entity']} through "
            f"a wildcard grant ({wild[0].detail})",
        )


def access_logged(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Access to every protected store is logged (ACC-002): S3 server access logging (or an
    equivalent the auditor states as ``access_logging: true``). Unknown is a coverage gap.

    Example finding::

        ACC-002-0f9e8d7c6b5a  MEDIUM  declared
        globex-exports has no access logging: reads of protected data leave no record
    """
    if not protected_holding_stores(ctx.graph):
        yield ctx.nothing_in_scope("store of a protected class")
    for store in protected_holding_stores(ctx.graph):
        logged, holder = ctx.inventory.setting(store, "access_logging")
        if holder is None or logged is None:
            yield ctx.gap(f"store:{store.id}", f"whether access to {store.id} is logged is unknown")
        elif not logged:
            yield ctx.store_finding(
                store,
                evidence=[ctx.evidence(holder, "access_logging")],
                message=f"{store.id} has no access logging: reads of its data leave no record",
            )


def trusts_are_narrow(ctx: CheckContext[TrustParams]) -> Iterator[Outcome]:
    """Roles are not assumable by everyone or by a foreign account without a condition, and
    roles that can read protected data are in use (ACC-003).

    A role whose last use is older than ``unused_days`` (or that was never used) while it
    can read protected data is standing access nobody needs.

    Example finding::

        ACC-003-7a6b5c4d3e2f  MEDIUM  potential
        break-glass-role can be assumed by anyone (public), with no condition
    """
    graph = ctx.graph
    keys, frozen = graph.keys, graph.frozen
    outsider = graph.type_mask(NodeType.PUBLIC, NodeType.EXTERNAL)
    open_trusts = np.flatnonzero(  # can-assume runs role -> assumer
        (frozen.kind == KIND_CODE[EdgeKind.CAN_ASSUME])
        & ~frozen.conditional
        & outsider[frozen.dst]
        & graph.type_mask(NodeType.PRINCIPAL)[frozen.src]
    ).tolist()
    for principal, assumer in sorted((keys[int(frozen.src[e])], keys[int(frozen.dst[e])]) for e in open_trusts):
        kind = graph.node(assumer)["node_type"]
        who = "anyone (public)" if kind == NodeType.PUBLIC.value else f"foreign {assumer}"
        yield _on_edge(
            ctx,
            principal,
            assumer,
            endpoints=(assumer, principal),
            message=f"{ctx.graph.node(principal)['entity']} can be assumed by {who} with no condition",
        )
    horizon = (ctx.now - timedelta(days=ctx.params.unused_days)).date()
    if not any("last_used" in p.__pydantic_fields_set__ for p in ctx.inventory.principals.values()):
        return  # no principal's last use is known
    reading = _protected_read_edges(ctx, (EdgeKind.CAN_READ,))
    readers = {keys[i] for i in np.unique(frozen.dst[reading]).tolist()}
    for node in sorted(readers):
        reader = ctx.inventory.principals.get(ctx.graph.node(node)["entity"])
        if reader is None or "last_used" not in reader.model_fields_set:
            continue
        if reader.last_used is None or reader.last_used < horizon:
            when = "never used" if reader.last_used is None else f"last used {reader.last_used.isoformat()}"
            yield ctx.finding(
                endpoints=(node, "unused"),
                kind="declared",
                evidence=[ctx.evidence(reader, "last_used")],
                message=f"{reader.id} can read protected data but is {when} (more than {ctx.params.unused_days} days)",
                severity="low",
            )


CHECKS = (
    Check(
        id="ACC-000",
        title="Who can read protected data (information)",
        severity="low",
        claim_ids=("C8",),
        rationale="Reviewers need the full list of readers of client data and the grant behind each, to judge "
        "least privilege themselves.",
        remediation="Review the list; remove grants nobody needs.",
        evaluate=access_table,
        informational=True,
    ),
    Check(
        id="ACC-001",
        title="No wildcard grant reaches protected data",
        severity="medium",
        claim_ids=("C8",),
        rationale="Wildcard actions or resources grant far more than any job needs and silently extend to "
        "every new bucket; least privilege means naming what is granted.",
        remediation="Replace the wildcard with the actions (s3:GetObject) and the resources (the bucket/prefix "
        "ARNs) the principal needs.",
        evaluate=no_wildcard_grants,
    ),
    Check(
        id="ACC-002",
        title="Access to protected data is logged",
        severity="medium",
        claim_ids=("C8",),
        rationale="Without access logs, who read client data cannot be established after the fact.",
        remediation="Enable S3 server access logging (or CloudTrail data events) for the store.",
        evaluate=access_logged,
    ),
    Check(
        id="ACC-003",
        title="Role trust is narrow and access is in use",
        severity="medium",
        claim_ids=("C8",),
        rationale="A role anyone (or a foreign account) may assume without a condition, or a reader role "
        "nobody uses, is access that serves no one and widens the attack surface.",
        remediation="Name the exact principals in the trust policy and add conditions (sts:ExternalId, "
        "aws:PrincipalOrgID); delete or de-privilege roles unused for the review period.",
        evaluate=trusts_are_narrow,
        params=TrustParams,
    ),
)
