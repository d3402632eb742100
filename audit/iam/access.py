"""IamAccess: the access deriver that reads IAM JSON (identity policies, permission
boundaries, SCPs, bucket policies, KMS key policies, trust policies) into potential edges.

Cost follows the edges produced, not principals x stores: stores are indexed by the
literal head of their object ARNs, so each Allow statement is looked up against the
stores its Resource patterns can reach, and each bucket policy against the principals
it names. Only those candidate pairs are evaluated in full.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from audit.coverage import CoverageGap
from audit.graph.access import GRAPH_CHECKS, AccessEdge, AccessResult, EdgeBlock
from audit.graph.model import PUBLIC_NODE, DataGraph, EdgeKind, Evidence, NodeType, external_key, node_key
from audit.iam.evaluate import Decision, KeyPolicy, Layer, Subject, Target, _strongest, decide
from audit.iam.glob import literal_head, shape, substitute_variables
from audit.iam.policy import Policy, PolicyError, Resource, Statement, parse_policy
from audit.inventory import FEDERATED_PROVIDER, Inventory, arn_account
from audit.model import Entity, Principal

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject",)
KMS_ACTION = {"read": "kms:Decrypt", "write": "kms:GenerateDataKey"}
DATA_ACTIONS = (*READ_ACTIONS, *WRITE_ACTIONS)
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
_ALL = Statement(
    effect="Allow",
    actions=("*",),
    not_actions=None,
    resources=("*",),
    not_resources=None,
    principal=None,
    not_principal=None,
    condition=None,
    raw={"Effect": "Allow", "Action": "*", "Resource": "*"},
    location="(identity policies outside the inventory: assumed to allow)",
)


@dataclass(slots=True)
class StoreTarget:
    store_id: str
    key: str
    prefix: str  # every object ARN of the store starts with this
    account: str | None
    policy: tuple[Statement, ...]
    public_blocked: bool
    public_acl: bool
    kms: KeyPolicy | None
    carved_out: tuple[str, ...] = ()  # prefixes inside this store that are stores of their own
    simple: bool = False  # no resource or key policy and no carved-out prefix: identity alone decides
    whole_bucket: bool = False  # a bucket's every object, nothing carved out: what 'prefix*' reaches alone
    # the request targets, made when a pair is evaluated in full (most stores never are)
    _targets: tuple[Resource, Target, Target] | None = None

    def seal(self) -> None:
        """Fix what the targets depend on, once the carved-out prefixes are known."""
        self.simple = not self.policy and self.kms is None and not self.carved_out
        prefix = self.prefix
        self.whole_bucket = (
            not self.carved_out and prefix.find("/") == len(prefix) - 1 and "*" not in prefix and "?" not in prefix
        )

    def _made(self) -> tuple[Resource, Target, Target]:
        if self._targets is None:
            resource = Resource(self.prefix, is_prefix=True, carved_out=self.carved_out)
            read, write = (
                Target(
                    resource,
                    self.account,
                    self.policy,
                    public_blocked=self.public_blocked,
                    kms=self.kms,
                    kms_action=KMS_ACTION[mode] if self.kms else None,
                )
                for mode in ("read", "write")
            )
            self._targets = (resource, read, write)
        return self._targets

    @property
    def resource(self) -> Resource:
        return self._made()[0]

    @property
    def read_target(self) -> Target:
        return self._made()[1]

    @property
    def write_target(self) -> Target:
        return self._made()[2]

    def target(self, mode: str) -> Target:
        return self.read_target if mode == "read" else self.write_target


@dataclass
class Context:
    subjects: dict[str, Subject] = field(default_factory=dict)  # by graph node key
    by_arn: dict[str, str] = field(default_factory=dict)
    by_account: dict[str, list[str]] = field(default_factory=dict)
    trusts: dict[str, tuple[Subject, tuple[Statement, ...]]] = field(default_factory=dict)
    stores: list[StoreTarget] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)  # sorted, parallel to ``stores``
    prefix_set: dict[str, list[int]] = field(default_factory=dict)
    gaps: list[CoverageGap] = field(default_factory=list)
    external_accounts: set[str] = field(default_factory=set)
    reach_of: dict[str, tuple[int, ...] | range] = field(default_factory=dict)  # by Resource pattern

    def stores_matching(self, pattern: str) -> Iterator[int]:
        """Indices of stores whose objects a Resource pattern may reach (a superset)."""
        head = literal_head(pattern)
        start = bisect.bisect_left(self.prefixes, head)
        end = bisect.bisect_left(self.prefixes, head + "\U0010ffff")
        yield from range(start, end)
        cut = head.find("/")
        while cut != -1:  # stores whose prefix is a proper prefix of the head
            yield from self.prefix_set.get(head[: cut + 1], ())
            cut = head.find("/", cut + 1)


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
        context = _context(inventory)
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
        fast_account: list[str | bool | None] = [s.account if s.simple else False for s in stores]
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
                if statement.effect != "Allow" or not _touches_data(statement):
                    continue
                patterns = statement.resources if statement.resources is not None else ("*",)
                for pattern in patterns:
                    candidates.setdefault(key, set()).update(
                        context.stores_matching(substitute_variables(pattern, widen=True))
                    )
        result.blocks += (reads, writes)
        for index, store in enumerate(stores):
            for statement in store.policy:
                if statement.effect == "Allow" and _touches_data(statement):
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
                if statement.effect != "Allow" or not _touches_data(statement):
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
                    result.edges.append(_edge(store.key, node, EdgeKind.CAN_READ, read, who, "read", store.store_id))
                if write is not None:
                    result.edges.append(_edge(node, store.key, EdgeKind.CAN_WRITE, write, who, "write", store.store_id))

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
                result.edges.append(_edge(role_key, key, EdgeKind.CAN_ASSUME, decision, who, "assume", str(role.arn)))


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
    if any(s.resources is None and _touches_data(s) for s in subject.identity):
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


def _touches_data(statement: Statement) -> bool:
    return statement.applies_to_any(DATA_ACTIONS)


def _first_allowed(subject: Subject, actions: Iterable[str], target: Target) -> Decision | None:
    for action in actions:
        decision = decide(subject, action, target)
        if decision.allowed:
            return decision
    return None


class Granted:
    """The proof of an IAM edge: the decision (statements that allow it, layers evaluated)
    and who may do what. Its Evidence, each statement quoted, is built only when a finding
    or an export reads it.

    Without ``what``, one proof serves every edge of a grant to read or write stores: each
    edge's store is the one at its end (:meth:`evidence_at`)."""

    __slots__ = ("decision", "does", "what", "who")

    def __init__(self, decision: Decision, who: str, does: str, what: str | None = None) -> None:
        self.decision = decision
        self.who = who
        self.does = does
        self.what = what

    @property
    def group(self) -> Decision:
        """Shared by every edge the same grant gives: their statements are the same."""
        return self.decision

    def statements(self) -> list[Mapping[str, Any]]:
        return [s.raw for s in self.decision.cited if s is not _ALL]

    def evidence_at(self, graph: DataGraph, eid: int) -> tuple[Evidence, ...]:
        """The evidence of one edge this proof proves."""
        if self.what is not None:
            return self.evidence()
        frozen = graph.frozen
        store = frozen.src[eid] if self.does == "read" else frozen.dst[eid]
        return self._evidence(graph.node(graph.keys[int(store)]).entity)

    def evidence(self) -> tuple[Evidence, ...]:
        if self.what is None:
            raise ValueError("a grant shared by many edges is proved edge by edge: use evidence_at")
        return self._evidence(self.what)

    def _evidence(self, what: str) -> tuple[Evidence, ...]:
        decision = self.decision
        evidence = [
            Evidence(
                kind="iam-assumption" if s is _ALL else "iam-statement",
                location=s.location,
                detail=_describe(s),
                statement=dict(s.raw),
                conditional=s.conditional,
            )
            for s in decision.cited
        ]
        layers = f"evaluated: {', '.join(decision.evaluated)}"
        if decision.unavailable:
            layers += f"; not available (not restricting): {', '.join(decision.unavailable)}"
        detail = f"{self.who} can {self.does} {what} ({layers})"
        evidence.append(Evidence(kind="iam-layers", location="(policy evaluation)", detail=detail))
        return tuple(evidence)


def _edge(source: str, target: str, kind: EdgeKind, decision: Decision, who: str, does: str, what: str) -> AccessEdge:
    return AccessEdge(source, target, kind, Granted(decision, who, does, what), decision.conditional)


def _describe(statement: Statement) -> str:
    actions = statement.actions or tuple(f"NOT {a}" for a in statement.not_actions or ())
    resources = statement.resources or tuple(f"NOT {r}" for r in statement.not_resources or ())
    sid = f" ({statement.sid})" if statement.sid else ""
    condition = " under a condition" if statement.conditional else ""
    return f"{statement.effect} {', '.join(actions)} on {', '.join(resources)}{condition}{sid}"


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
        yield PUBLIC_NODE, Subject(key=PUBLIC_NODE, arn=None, account="anonymous", identity=(_ALL,))
    if spec is None:
        return
    for name in spec.aws:
        account = name if name.isdigit() else arn_account(name)
        if account is not None and account in context.external_accounts:
            yield external_key(account), Subject(key=external_key(account), arn=name, account=account, identity=(_ALL,))
    for provider in spec.federated:
        match = FEDERATED_PROVIDER.match(provider)
        node = external_key(match.group(1) if match else provider)
        yield node, Subject(key=node, arn=provider, account=f"federated:{provider}", identity=(_ALL,))


# ---- building the context --------------------------------------------------------------


def _statement_locations(entity: Entity, field_name: str, where: str) -> Any:
    """Where statement i of the document at ``where`` was stated: its own line when the
    source tracked one, else the document's location and the statement's index."""
    fields = entity.provenance.fields if entity.provenance else {}

    def locate(index: int) -> str:
        if fields:
            found = fields.get(f"{field_name}.Statement[{index}]")
            if found is not None:
                return found
        return f"{where} Statement[{index}]"

    return locate


def _parse(document: Any, entity: Entity, field_name: str, scope: str, context: Context) -> Policy | None:
    location = entity.provenance.at(field_name) if entity.provenance else field_name
    try:
        return parse_policy(document, location, field_name, _statement_locations(entity, field_name, location))
    except PolicyError as exc:
        context.gaps.append(
            CoverageGap(
                scope=scope,
                reason=f"{field_name} at {location} cannot be read as IAM JSON: "
                f"{exc}; the access it governs is unknown",
                checks=GRAPH_CHECKS,
            )
        )
        return None


def _context(inventory: Inventory) -> Context:
    context = Context()
    scps = _scps(inventory, context)
    for principal in inventory.principals.values():
        _add_subject(inventory, principal, scps, context)
    _index_stores(inventory, context)
    known = {a.id for a in inventory.accounts.values() if a.zone != "external"}
    statements = [
        *(s for store in context.stores for s in store.policy),
        *(s for _, trust in context.trusts.values() for s in trust),
    ]
    named = {name for s in statements if s.principal for name in s.principal.aws}
    accounts = {name if name.isdigit() else arn_account(name) for name in named}
    context.external_accounts = {a for a in accounts if a and a not in known}
    return context


def _scps(inventory: Inventory, context: Context) -> dict[str, list[tuple[Statement, ...]] | None]:
    """Each account's SCP statements, one tuple per level; None where they are unknown."""
    scps: dict[str, list[tuple[Statement, ...]] | None] = {}
    for account in inventory.accounts.values():
        if account.scps is None:
            scps[account.id] = None
            continue
        levels = []
        for level_index, level in enumerate(account.scps):
            statements: list[Statement] = []
            for policy_index, document in enumerate(level.policies):
                where = f"scps[{level_index}].policies[{policy_index}]"
                parsed = _parse(document, account, where, f"account:{account.id}", context)
                statements.extend(parsed.statements if parsed else ())
            levels.append(tuple(statements))
        scps[account.id] = levels
    return scps


def _add_subject(
    inventory: Inventory,
    principal: Principal,
    scps: dict[str, list[tuple[Statement, ...]] | None],
    context: Context,
) -> None:
    scope = f"principal:{principal.id}"
    if principal.arn and ":iam::" not in principal.arn:
        return  # not an IAM principal (a federated or service identity described by hand)
    key = node_key(NodeType.PRINCIPAL, principal.id)
    identity: list[Statement] = []
    for index, document in enumerate(principal.policies):
        parsed = _parse(document, principal, f"policies[{index}]", scope, context)
        identity.extend(parsed.statements if parsed else ())
    boundary = None
    if principal.permission_boundary is not None:
        parsed = _parse(principal.permission_boundary, principal, "permission_boundary", scope, context)
        boundary = parsed.statements if parsed else ()
    resolved = inventory.principal_account(principal)
    # no ARN and no account (a role in a Terraform plan): its account is unknown, which the
    # evaluation treats as the same account as everything (the wider reading)
    account_id = resolved.id if resolved else (principal.account or arn_account(principal.arn))
    subject = Subject(
        key=key,
        arn=principal.arn,
        account=account_id,
        identity=tuple(identity),
        boundary=boundary,
        scps=scps.get(account_id) if account_id else None,
    )
    context.subjects[key] = subject
    if principal.arn:
        context.by_arn[principal.arn] = key
    if account_id:
        context.by_account.setdefault(account_id, []).append(key)
    if principal.trust_policy is not None:
        trust = _parse(principal.trust_policy, principal, "trust_policy", scope, context)
        if trust is not None:
            context.trusts[key] = (subject, trust.statements)


def _index_stores(inventory: Inventory, context: Context) -> None:
    entries: list[StoreTarget] = []
    data_grants = any(_touches_data(s) for subject in context.subjects.values() for s in subject.identity)
    accounts: dict[str | None, str | None] = {}  # a store's account reference -> the account's id
    store_key = node_key(NodeType.STORE, "")
    for store in inventory.stores.values():
        s3 = inventory.s3_location(store)
        if s3 is None:
            if data_grants:
                context.gaps.append(
                    CoverageGap(
                        scope=f"store:{store.id}",
                        checks=GRAPH_CHECKS,
                        reason="no S3 location (arn or s3:// location): the IAM access to it was not evaluated",
                    )
                )
            continue
        ref = store.account
        if ref not in accounts:
            account = inventory.account(ref)
            accounts[ref] = account.id if account else ref
        policy: tuple[Statement, ...] = ()
        if store.policy:
            parsed = _parse(store.policy, store, "policy", f"store:{store.id}", context)
            policy = parsed.statements if parsed else ()
        kms = None
        if store.encryption == "aws:kms":
            key = inventory.kms_keys.get(store.kms_key or "")
            if key is not None and key.policy is not None:
                parsed_key = _parse(key.policy, key, "policy", f"kms:{key.arn}", context)
                kms = KeyPolicy(
                    key.arn, key.account or arn_account(key.arn), parsed_key.statements if parsed_key else None
                )
            else:
                kms = KeyPolicy(store.kms_key or "(unknown key)", arn_account(store.kms_key), None)
        entries.append(
            StoreTarget(
                store.id,
                store_key + store.id,
                "arn:aws:s3:::" + s3[5:],  # s3://bucket/prefix/ -> arn:aws:s3:::bucket/prefix/
                accounts[ref],
                policy,
                store.public_access_blocked is True,
                store.public_acl is True,
                kms,
            )
        )
    entries.sort(key=attrgetter("prefix"))
    context.stores = entries
    prefixes = context.prefixes = [e.prefix for e in entries]
    prefix_set = context.prefix_set
    count = len(entries)
    for index, entry in enumerate(entries):
        prefix = prefixes[index]
        prefix_set.setdefault(prefix, []).append(index)
        # prefixes inside another store's prefix sort right after it
        later = index + 1
        if later < count and prefixes[later].startswith(prefix):
            inner = []
            while later < count and prefixes[later].startswith(prefix):
                if prefixes[later] != prefix:
                    inner.append(prefixes[later])
                later += 1
            entry.carved_out = tuple(inner)
        entry.seal()
