"""IamAccess: the access deriver that reads IAM JSON (identity policies, permission
boundaries, SCPs, bucket policies, KMS key policies, trust policies) into potential edges.

Cost follows the edges produced, not principals x stores: stores are indexed by the
literal head of their object ARNs, so each Allow statement is looked up against the
stores its Resource patterns can reach, and each bucket policy against the principals
it names. Only those candidate pairs are evaluated in full.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from audit.graph.access import AccessEdge, AccessResult, EdgeBlock
from audit.graph.model import PUBLIC_NODE, EdgeKind, Evidence, NodeType, external_key
from audit.iam.context import build_context
from audit.iam.evaluate import Decision, Layer, Subject, Target, _strongest, decide
from audit.iam.glob import shape, substitute_variables
from audit.iam.grants import Granted, grant_edge
from audit.iam.policy import Resource, Statement
from audit.iam.targets import (
    ASSUME_ACTIONS,
    ASSUMED_IDENTITY,
    READ_ACTIONS,
    WRITE_ACTIONS,
    Context,
    touches_data,
)
from audit.inventory import FEDERATED_PROVIDER, Inventory, arn_account


class IamAccess:
    """Potential edges from IAM JSON; a sound over-approximation (see audit.iam.evaluate).

    For a principal whose identity policies alone decide (see :func:`is_simple`), the stores
    each of its statements reaches are looked up in the store index at once, and the
    decision for every simple store follows from which statements reached it: the same
    decision :func:`decide` gives (``bulk=False`` evaluates every pair, for comparison).
    """

    name = "iam"

    def __init__(self, *, bulk: bool = True) -> None:
        self.bulk = bulk

    def derive(self, inventory: Inventory) -> AccessResult:
        context = build_context(inventory)
        result = AccessResult(gaps=list(context.gaps))
        self._data_edges(context, result)
        self._external_data_edges(context, result)
        self._assume_edges(context, result)
        return result

    # -- inventory principals reading and writing stores ------------------------------

    def _data_edges(self, context: Context, result: AccessResult) -> None:
        stores = context.stores
        # A bulk subject's grants on simple stores in its account (or where either account
        # is unknown) are its edges as they stand: they go out as columns, one shared proof
        # per grant. Every other candidate pair is evaluated in full.
        fast_account: list[str | bool | None] = [s.account if s.simple and s.policy_known else False for s in stores]
        keys = [*(store.key for store in stores), *context.subjects]
        reads = EdgeBlock(keys, EdgeKind.CAN_READ)
        writes = EdgeBlock(keys, EdgeKind.CAN_WRITE)
        candidates: dict[str, set[int]] = {}
        for position, (key, subject) in enumerate(context.subjects.items(), start=len(stores)):
            grants = _bulk_grants(context, subject) if self.bulk else None
            if grants is not None:
                rest = _emit_grants(subject, position, grants, fast_account, reads, writes)
                if rest:
                    candidates.setdefault(key, set()).update(rest)
                continue
            for statement in subject.identity:
                if statement.effect != "Allow" or not touches_data(statement):
                    continue
                patterns = statement.resources if statement.resources is not None else ("*",)
                for pattern in patterns:
                    candidates.setdefault(key, set()).update(
                        context.stores_matching(substitute_variables(pattern, widen=True))
                    )
        result.blocks += (reads, writes)
        for index, store in enumerate(stores):
            for statement in store.policy:
                if statement.effect == "Allow" and touches_data(statement):
                    for key in _named_subjects(statement, context):
                        candidates.setdefault(key, set()).add(index)
        edges = result.edges
        for key in sorted(candidates):
            subject = context.subjects[key]
            who = str(subject.arn)
            for index in sorted(candidates[key]):
                store = stores[index]
                read = _first_allowed(subject, READ_ACTIONS, store.read_target)
                write = _first_allowed(subject, WRITE_ACTIONS, store.write_target)
                if read is not None:
                    edges.append(
                        AccessEdge(
                            store.key,
                            key,
                            EdgeKind.CAN_READ,
                            Granted(read, who, "read", store.store_id),
                            read.conditional,
                        )
                    )
                if write is not None:
                    edges.append(
                        AccessEdge(
                            key,
                            store.key,
                            EdgeKind.CAN_WRITE,
                            Granted(write, who, "write", store.store_id),
                            write.conditional,
                        )
                    )

    # -- the public and third parties ------------------------------------------------------

    def _external_data_edges(self, context: Context, result: AccessResult) -> None:
        for store in context.stores:
            outsiders: dict[str, Subject] = {}
            for statement in store.policy:
                if statement.effect != "Allow" or not touches_data(statement):
                    continue
                for node, subject in _outsiders(statement, context):
                    outsiders.setdefault(node, subject)
            if store.public_acl and not store.public_blocked:
                result.extra_nodes.add(PUBLIC_NODE)
                result.edges.append(
                    AccessEdge(
                        store.key,
                        PUBLIC_NODE,
                        EdgeKind.CAN_READ,
                        (
                            Evidence(
                                kind="s3-acl",
                                location=f"store {store.store_id}",
                                detail=f"the ACL of {store.store_id} grants read to AllUsers or AuthenticatedUsers",
                            ),
                        ),
                    )
                )
            for node, subject in sorted(outsiders.items()):
                read = _first_allowed(subject, READ_ACTIONS, store.target("read"))
                write = _first_allowed(subject, WRITE_ACTIONS, store.target("write"))
                if read is None and write is None:
                    continue
                result.extra_nodes.add(node)
                who = "anyone" if node == PUBLIC_NODE else node
                if read is not None:
                    result.edges.append(
                        grant_edge(store.key, node, EdgeKind.CAN_READ, read, who, "read", store.store_id)
                    )
                if write is not None:
                    result.edges.append(
                        grant_edge(node, store.key, EdgeKind.CAN_WRITE, write, who, "write", store.store_id)
                    )

    # -- role assumption ------------------------------------------------------------------

    def _assume_edges(self, context: Context, result: AccessResult) -> None:
        for role_key, (role, trust) in sorted(context.trusts.items()):
            target = Target(Resource(role.arn or ""), role.account, trust, requires_resource_grant=True)
            assumers: dict[str, Subject] = {}
            for statement in trust:
                if statement.effect != "Allow" or not any(statement.applies_to_action(a) for a in ASSUME_ACTIONS):
                    continue
                for key in _named_subjects(statement, context):
                    if key != role_key:
                        assumers.setdefault(key, context.subjects[key])
                for node, subject in _outsiders(statement, context):
                    assumers.setdefault(node, subject)
            for key, subject in sorted(assumers.items()):
                decision = _first_allowed(subject, ASSUME_ACTIONS, target)
                if decision is None:
                    continue
                if key == PUBLIC_NODE or key.startswith(NodeType.EXTERNAL.value + ":"):
                    result.extra_nodes.add(key)
                who = "anyone" if key == PUBLIC_NODE else key
                result.edges.append(
                    grant_edge(role_key, key, EdgeKind.CAN_ASSUME, decision, who, "assume", str(role.arn))
                )


def _emit_grants(
    subject: Subject,
    position: int,
    grants: tuple[dict[int, Decision], dict[int, Decision]],
    fast_account: list[str | bool | None],
    reads: EdgeBlock,
    writes: EdgeBlock,
) -> set[int]:
    """A bulk subject's edges on the stores its identity policies alone decide (simple
    stores, in its account or where either account is unknown), added to the blocks: the
    decision :func:`decide` gives, as :func:`is_simple` holds. Returns the other stores
    its grants reach, to be evaluated pair by pair."""
    account, who = subject.account, str(subject.arn)
    rest: set[int] = set()
    for decided, block, does in ((grants[0], reads, "read"), (grants[1], writes, "write")):
        if not decided:
            continue
        stores, subjects = (block.src, block.dst) if does == "read" else (block.dst, block.src)
        conditional, proofs = block.conditional, block.proofs
        shared: dict[int, Granted] = {}  # one proof per grant, whatever the number of stores
        for index, decision in decided.items():
            store_account = fast_account[index]
            if store_account is False or not (account is None or store_account is None or store_account == account):
                rest.add(index)
                continue
            granted = shared.get(id(decision))
            if granted is None:
                granted = shared[id(decision)] = Granted(decision, who, does)
            stores.append(index)
            subjects.append(position)
            conditional.append(decision.conditional)
            proofs.append(granted)
    return rest


def _bulk_grants(context: Context, subject: Subject) -> tuple[dict[int, Decision], dict[int, Decision]] | None:
    """For a subject whose identity policies alone decide, the read and write decisions on
    every store they reach (by store index), as :func:`decide` would make them for a
    simple target; None when the subject is not that simple."""
    if subject.boundary is not None or subject.scps or any(s.effect != "Allow" for s in subject.identity):
        return None
    if any(s.resources is None and touches_data(s) for s in subject.identity):
        return None  # NotResource: evaluated pair by pair
    known_scps = subject.scps is not None
    evaluated: list[Layer] = ["identity", "scp", "resource-policy"] if known_scps else ["identity", "resource-policy"]
    unavailable: list[Layer] = [] if known_scps else ["scp"]
    shared: dict[tuple[int, ...], Decision] = {}
    reach: dict[int, set[int]] = {}  # per statement: looked up once, whatever the action
    grants: list[dict[int, Decision]] = []

    def decision_of(statements: list[Statement]) -> Decision:
        signature = tuple(id(s) for s in statements)
        decision = shared.get(signature)
        if decision is None:
            cited = _strongest(statements)
            decision = Decision(
                allowed=True,
                conditional=any(s.conditional for s in cited),
                cited=list(dict.fromkeys(cited)),
                evaluated=list(evaluated),
                unavailable=list(unavailable),
            )
            shared[signature] = decision
        return decision

    for actions in (READ_ACTIONS, WRITE_ACTIONS):
        decided: dict[int, Decision] = {}
        seen: list[list[Statement]] = []
        for action in actions:
            applying = [s for s in subject.identity if s.applies_to_action(action)]
            if not applying or any(all(s in earlier for s in applying) for earlier in seen):
                continue  # every store these statements reach is decided already
            seen.append(applying)
            for statement in applying:
                if id(statement) not in reach:
                    reach[id(statement)] = _reached(context, statement)
            reaches = [reach[id(s)] for s in applying]
            if len(reaches) == 1 or sum(map(len, reaches)) == len(set().union(*reaches)):
                # no store is reached by two of them (the usual case): one decision per statement
                for statement, reached in zip(applying, reaches, strict=True):
                    if not decided:
                        decided = dict.fromkeys(reached, decision_of([statement])) if reached else {}
                        continue
                    fresh = reached - decided.keys()
                    if fresh:
                        decided.update(dict.fromkeys(fresh, decision_of([statement])))
                continue
            allowing: dict[int, list[Statement]] = {}
            for statement, reached in zip(applying, reaches, strict=True):
                for index in reached:
                    allowing.setdefault(index, []).append(statement)
            for index, statements in allowing.items():
                if index not in decided:  # else an earlier action already allows it
                    decided[index] = decision_of(statements)
        grants.append(decided)
    return grants[0], grants[1]


def _reached(context: Context, statement: Statement) -> set[int]:
    """Indices of the stores an Allow statement's Resource patterns reach (exactly)."""
    reached: set[int] = set()
    known, prefix_set, stores = context.reach_of, context.prefix_set, context.stores
    for wide in statement.wide_resources:
        if wide[-1:] == "*":  # 'arn:aws:s3:::bucket/*', the usual grant: the bucket's store alone
            exact = prefix_set.get(wide[:-1])
            if exact is not None and len(exact) == 1 and stores[exact[0]].whole_bucket:
                reached.add(exact[0])
                continue
        found = known.get(wide)
        if found is None:
            found = known[wide] = _pattern_reach(context, wide)
        reached.update(found)
    return reached


def _pattern_reach(context: Context, wide: str) -> tuple[int, ...] | range:
    """Indices of the stores a Resource pattern (variables widened) reaches."""
    head, form = shape(wide)
    if form == 1 and head.find("/") == len(head) - 1:
        # a whole bucket's objects ('arn:aws:s3:::bucket/*', the usual grant): the bucket's
        # store and the stores carved out of it, found by key
        exact = context.prefix_set.get(head)
        if exact is not None and len(exact) == 1 and not context.stores[exact[0]].carved_out:
            return (exact[0],)
    if form == 1:
        # 'head*': exactly the stores under the head (a range of the sorted prefixes)
        # and those whose prefix the head extends (every store prefix ends with '/')
        start = bisect.bisect_left(context.prefixes, head)
        under = range(start, bisect.bisect_left(context.prefixes, head + "\U0010ffff", lo=start))
        above: list[int] = []
        cut = head.find("/")
        while cut != -1:
            above.extend(context.prefix_set.get(head[: cut + 1], ()))
            cut = head.find("/", cut + 1)
        return under if not above else tuple(sorted({*under, *above}))
    stores = context.stores
    return tuple(index for index in context.stores_matching(wide) if stores[index].resource.intersects(wide))


def _first_allowed(subject: Subject, actions: Iterable[str], target: Target) -> Decision | None:
    for action in actions:
        decision = decide(subject, action, target)
        if decision.allowed:
            return decision
    return None


def _named_subjects(statement: Statement, context: Context) -> Iterator[str]:
    """Inventory principals a resource or trust policy statement may name."""
    spec = statement.principal
    if statement.not_principal is not None or (spec is not None and spec.everyone):
        yield from context.subjects
        return
    if spec is None:
        return
    for name in spec.aws:
        if name in context.by_arn:
            yield context.by_arn[name]
        account = name if name.isdigit() else (arn_account(name) if name.endswith(":root") else None)
        if account is not None:
            yield from context.by_account.get(account, ())
        elif ":assumed-role/" in name:
            role = name.split(":assumed-role/", 1)[1].split("/", 1)[0]
            yield from (k for arn, k in context.by_arn.items() if arn.endswith(f":role/{role}"))


def _outsiders(statement: Statement, context: Context) -> Iterator[tuple[str, Subject]]:
    """The public and foreign accounts a statement may grant to, as subjects whose own
    identity policies are unknown (so assumed to allow)."""
    spec = statement.principal
    if statement.not_principal is not None or (spec is not None and spec.everyone):
        yield (
            PUBLIC_NODE,
            Subject(key=PUBLIC_NODE, arn=None, account="anonymous", identity=(ASSUMED_IDENTITY,), outside=True),
        )
    if spec is None:
        return
    for name in spec.aws:
        account = name if name.isdigit() else arn_account(name)
        if account is not None and account in context.external_accounts:
            yield (
                external_key(account),
                Subject(
                    key=external_key(account), arn=name, account=account, identity=(ASSUMED_IDENTITY,), outside=True
                ),
            )
    for provider in spec.federated:
        match = FEDERATED_PROVIDER.match(provider)
        node = external_key(match.group(1) if match else provider)
        yield (
            node,
            Subject(
                key=node, arn=provider, account=f"federated:{provider}", identity=(ASSUMED_IDENTITY,), outside=True
            ),
        )


# ---- building the context --------------------------------------------------------------
