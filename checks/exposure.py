"""EXP-*: client data is not shared with third parties or the public (C10)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from audit.checkapi import Check, CheckContext, NoParams, Outcome
from audit.graph.classes import protected_holding_ids, protected_holding_stores
from audit.graph.model import PUBLIC_NODE, IntArray, NodeType
from audit.graph.rules import no_path
from audit.model import Store


def _protected_nodes(ctx: CheckContext[NoParams]) -> IntArray:
    """The stores holding protected data: their own classes, or derived from upstream."""
    return protected_holding_ids(ctx.graph)


def _unknown_policies(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Fail closed: a protected S3 store whose bucket policy no source states may grant the
    public or a third party anything (state it, or 'policy: none')."""
    unknown: list[Store] | None = ctx.graph.memo.get("unknown-bucket-policies")
    if unknown is None:  # EXP-001 and EXP-002 both ask
        inventory = ctx.inventory
        unknown = ctx.graph.memo["unknown-bucket-policies"] = [
            store
            for store in protected_holding_stores(ctx.graph)
            if inventory.s3_location(store) is not None and not inventory.bucket_policies(store)
        ]
    for store in unknown:
        yield ctx.gap(
            f"store:{store.id}",
            f"the bucket policy of {store.id} is not stated: whether it grants the public or a third party "
            "access cannot be ruled out (state the policy, or 'policy: none')",
        )


def _reach(ctx: CheckContext[NoParams], sinks: list[str], who: Callable[[str], str]) -> Iterator[Outcome]:
    for violation in no_path(ctx.graph, _protected_nodes(ctx), sinks):
        source = violation.source.partition(":")[2]
        hops = len(violation.path) - 1
        state = "in use" if violation.kind == "declared" else "permitted"
        yield ctx.finding(
            endpoints=(violation.source, violation.target),
            kind=violation.kind,
            violation=violation,
            message=f"{source} (protected) can be read by {who(violation.target)} "
            f"({hops} hop{'s' if hops != 1 else ''}, {state})",
            details={"source": source, "reached": violation.target},
        )


def not_public(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No protected store reaches ``public``: anyone on the internet (EXP-001).

    ``public`` is reached through a bucket policy or ACL granting everyone (unless Block
    Public Access restricts it) or through a role that anyone may assume.

    Example finding::

        EXP-001-5f4e3d2c1b0a  CRITICAL  potential
        partner-drop (protected) can be read by anyone on the internet (1 hop, permitted)
          partner-drop -can-read-> public   (bucket policy: Allow s3:GetObject to Principal "*")
    """
    if not len(_protected_nodes(ctx)):
        yield ctx.nothing_in_scope("store of a protected class")
    yield from _unknown_policies(ctx)
    if PUBLIC_NODE not in ctx.graph:
        return
    yield from _reach(ctx, [PUBLIC_NODE], lambda _: "anyone on the internet")


def no_third_party(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """No protected store reaches an ``external:<account>`` node: a third party (EXP-002).

    Third parties are reached through bucket or key policies naming a foreign account, or
    through a trust policy that lets a foreign account assume a role that reads the data.

    Example finding::

        EXP-002-1a2b3c4d5e6f  CRITICAL  potential
        globex-workspace (protected) can be read by third party external:999999999999 (1 hop, permitted)
    """
    if not len(_protected_nodes(ctx)):
        yield ctx.nothing_in_scope("store of a protected class")
    yield from _unknown_policies(ctx)
    sinks = sorted(ctx.graph.nodes_of(NodeType.EXTERNAL))
    if sinks:
        yield from _reach(ctx, sinks, lambda node: f"third party {node}")


def public_access_blocked(ctx: CheckContext[NoParams]) -> Iterator[Outcome]:
    """Protected S3 stores have Block Public Access on (EXP-003): defence in depth, so a
    future policy or ACL mistake cannot expose them. Unknown is a coverage gap.

    Example finding::

        EXP-003-9e8d7c6b5a4f  LOW  declared
        partner-drop has S3 Block Public Access off
    """
    if not len(_protected_nodes(ctx)):
        yield ctx.nothing_in_scope("store of a protected class")
    for store in protected_holding_stores(ctx.graph):
        if store.kind not in ("s3-bucket", "s3-prefix"):
            continue
        blocked, holder = ctx.inventory.setting(store, "public_access_blocked")
        if holder is None or blocked is None:
            yield ctx.gap(f"store:{store.id}", f"whether Block Public Access protects {store.id} is unknown")
        elif not blocked:
            yield ctx.store_finding(
                store,
                evidence=[ctx.evidence(holder, "public_access_blocked")],
                message=f"{store.id} has S3 Block Public Access off",
            )


CHECKS = (
    Check(
        id="EXP-001",
        title="Client data is not readable by the public",
        severity="critical",
        claim_ids=("C10",),
        rationale="Anyone on the internet reading client data is the most direct breach of confidentiality.",
        remediation='Remove the public grant (Principal "*" statement, public ACL, role trusting everyone) and '
        "turn on S3 Block Public Access for the bucket and the account.",
        evaluate=not_public,
    ),
    Check(
        id="EXP-002",
        title="Client data is not shared with third parties",
        severity="critical",
        claim_ids=("C10",),
        rationale="Customers are promised their data is not shared with third parties; a foreign account that "
        "may read it breaks the promise whether or not it has read it yet.",
        remediation="Remove the foreign account from the bucket policy, the KMS key policy or the role trust "
        "policy; if a processor must read the data, list it as a sub-processor and scope the grant.",
        evaluate=no_third_party,
    ),
    Check(
        id="EXP-003",
        title="Block Public Access protects client data",
        severity="low",
        claim_ids=("C10",),
        rationale="Block Public Access makes public exposure impossible even if a policy or ACL is later "
        "written wrongly.",
        remediation="Enable all four S3 Block Public Access settings on the bucket (or the account).",
        evaluate=public_access_blocked,
    ),
)
