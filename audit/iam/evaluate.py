"""Decide whether a principal may perform an action on a resource, AWS-style, soundly.

Follows AWS's documented evaluation logic: an explicit Deny anywhere wins; SCPs must
allow; within one account an Allow in the identity policies (within the permission
boundary) *or* in the resource policy suffices; across accounts both sides must allow;
SSE-KMS data also needs the key policy to allow the key action.

The claim to prove is "no path", so where the logic cannot be decided exactly we err
towards *allowed*: an Allow under a Condition counts (marked conditional), a Deny under
a Condition does not, a Deny counts only when it surely covers the whole resource, and a
layer whose policies are unknown does not restrict (it is listed as unavailable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from audit.iam.policy import PrincipalSpec, Resource, Statement

Layer = Literal["identity", "boundary", "scp", "resource-policy", "kms-key-policy"]
Match = Literal["exact", "account", "everyone"]


@dataclass(frozen=True)
class Subject:
    """A principal that makes requests: an IAM role or user of the inventory."""

    key: str
    arn: str | None
    account: str | None
    identity: Sequence[Statement] = ()
    boundary: Sequence[Statement] | None = None  # None: no permission boundary
    scps: Sequence[Sequence[Statement]] | None = None  # one entry per level; None: unknown
    # the public or a third party: never the resource's own account, whatever is unknown of
    # it, so only a resource policy can grant it anything
    outside: bool = False

    def named_by(self, arns: frozenset[str]) -> bool:
        """Does a Principal element's list of ARNs name this principal or its role sessions?"""
        if not self.arn:
            return False
        if self.arn in arns:
            return True
        if ":role/" not in self.arn:
            return False
        sessions = f"arn:aws:sts::{self.account}:assumed-role/{self.arn.rsplit('/', 1)[-1]}/"
        return any(a.startswith(sessions) for a in arns)


@dataclass(frozen=True)
class KeyPolicy:
    key_arn: str
    account: str | None
    statements: Sequence[Statement] | None  # None: the key policy could not be read


@dataclass(frozen=True)
class Target:
    """The resource side of a request."""

    resource: Resource
    account: str | None
    policy: Sequence[Statement] = ()
    policy_known: bool = True
    public_blocked: bool = False  # S3 Block Public Access: RestrictPublicBuckets
    kms: KeyPolicy | None = None
    kms_action: str | None = None
    # A role's trust policy must always name the caller (or its account): identity
    # permission alone never lets a principal assume a role.
    requires_resource_grant: bool = False


@dataclass
class Decision:
    allowed: bool
    conditional: bool = False
    cited: list[Statement] = field(default_factory=list)
    evaluated: list[Layer] = field(default_factory=list)
    unavailable: list[Layer] = field(default_factory=list)
    reason: str = ""
    # allowed across accounts only because the resource policy is unknown (assumed to grant)
    assumes_resource_grant: bool = False


def principal_match(spec: PrincipalSpec, subject: Subject) -> Match | None:
    """How a Principal element names the subject, if it does."""
    if spec.everyone:
        return "everyone"
    if subject.named_by(spec.aws):
        return "exact"
    if subject.account and (subject.account in spec.aws or f"arn:aws:iam::{subject.account}:root" in spec.aws):
        return "account"
    return None


def _same_account(a: str | None, b: str | None) -> bool:
    # An unknown account is treated as the same account: the union of grants is the wider.
    return a is None or b is None or a == b


def _same_side(subject: Subject, account: str | None) -> bool:
    """Is the request made from the resource's own account (or may it be)? Never for the
    public or a third party."""
    return not subject.outside and _same_account(subject.account, account)


def _denies(statements: Iterable[Statement], action: str, resource: Resource) -> Statement | None:
    for statement in statements:
        if (
            statement.effect == "Deny"
            and not statement.conditional
            and statement.applies_to_action(action)
            and statement.surely_applies_to(resource)
        ):
            return statement
    return None


def _allows(statements: Iterable[Statement], action: str, resource: Resource) -> list[Statement]:
    return [s for s in statements if s.effect == "Allow" and s.applies_to_action(action) and s.may_apply_to(resource)]


def _strongest(statements: list[Statement]) -> list[Statement]:
    """Cite an unconditional grant when there is one; otherwise every conditional one."""
    unconditional = [s for s in statements if not s.conditional]
    return unconditional[:1] if unconditional else statements


def _resource_grants(
    target: Target, subject: Subject, action: str
) -> tuple[list[tuple[Statement, Match]], list[Statement]]:
    """(allowing statements with how they name the subject, denying statements) of the
    resource policy."""
    allowing: list[tuple[Statement, Match]] = []
    denying: list[Statement] = []
    for statement in target.policy:
        if not statement.applies_to_action(action):
            continue
        if statement.effect == "Allow" and statement.may_apply_to(target.resource):
            if statement.principal is not None:
                match = principal_match(statement.principal, subject)
                if match == "everyone" and target.public_blocked and not _same_side(subject, target.account):
                    continue  # RestrictPublicBuckets: public grants reach the owner's account only
                if match is not None:
                    allowing.append((statement, match))
            elif statement.not_principal is not None and principal_match(statement.not_principal, subject) is None:
                allowing.append((statement, "everyone"))
        elif (
            statement.effect == "Deny"
            and not statement.conditional
            and statement.surely_applies_to(target.resource)
            and _names(statement, subject)
        ):
            denying.append(statement)
    return allowing, denying


def _names(statement: Statement, subject: Subject) -> bool:
    """Does a Deny's Principal (or NotPrincipal) surely include the subject?"""
    if statement.principal is not None:
        return principal_match(statement.principal, subject) is not None
    return statement.not_principal is not None and principal_match(statement.not_principal, subject) is None


def _grants_alone(allowing: list[tuple[Statement, Match]], subject: Subject, target: Target) -> list[Statement]:
    """Resource-policy grants that allow without the identity side: within one account,
    naming the account itself only delegates to IAM."""
    same = _same_side(subject, target.account) and subject.account is not None
    return [s for s, match in allowing if not (same and match == "account")]


def is_simple(subject: Subject, target: Target) -> bool:
    """Only the identity policies can decide: no boundary, no SCP level, no Deny in the
    identity policies, and a same-account target without resource or key policy."""
    resource = target.resource
    return (
        subject.boundary is None
        and not subject.scps
        and not target.policy
        and target.policy_known
        and target.kms is None
        and not target.requires_resource_grant
        and not resource.carved_out
        and _same_side(subject, target.account)
        and all(s.effect == "Allow" for s in subject.identity)
    )


def decide_simple(subject: Subject, action: str, target: Target) -> Decision:
    """:func:`decide` where :func:`is_simple` holds (most pairs of a large estate): the same
    decision, without the layers that cannot change it."""
    allow = _strongest(_allows(subject.identity, action, target.resource))
    known_scps = subject.scps is not None
    decision = Decision(
        allowed=bool(allow),
        evaluated=["identity", "scp", "resource-policy"] if known_scps else ["identity", "resource-policy"],
        unavailable=[] if known_scps else ["scp"],
    )
    if not allow:
        decision.reason = "no policy allows it"
        return decision
    decision.cited = list(dict.fromkeys(allow))
    decision.conditional = any(s.conditional for s in decision.cited)
    return decision


def decide(subject: Subject, action: str, target: Target) -> Decision:
    """May ``subject`` perform ``action`` on ``target``? Sound: never says no wrongly."""
    if is_simple(subject, target):
        return decide_simple(subject, action, target)
    return decide_in_full(subject, action, target)


def decide_in_full(subject: Subject, action: str, target: Target) -> Decision:
    """:func:`decide` through every layer (what :func:`decide_simple` shortens)."""
    decision = Decision(allowed=False)
    decision.evaluated.append("identity")

    # 1. Explicit deny anywhere.
    denial = _denies(subject.identity, action, target.resource)
    if subject.boundary is not None:
        decision.evaluated.append("boundary")
        denial = denial or _denies(subject.boundary, action, target.resource)
    if subject.scps is None:
        decision.unavailable.append("scp")
    else:
        decision.evaluated.append("scp")
        denial = denial or _denies((s for level in subject.scps for s in level), action, target.resource)
    if target.policy_known:
        decision.evaluated.append("resource-policy")
    else:
        decision.unavailable.append("resource-policy")
    resource_grants, resource_deny = _resource_grants(target, subject, action)
    denial = denial or (resource_deny[0] if resource_deny else None)
    if denial is not None:
        return _deny(decision, f"explicitly denied by {denial.location}", denial)

    # 2. SCPs: every level of the organisation must allow.
    scp_cited: list[Statement] = []
    for level in subject.scps or ():
        level_allow = _allows(level, action, target.resource)
        if not level_allow:
            return _deny(decision, "no service control policy allows it")
        scp_cited.extend(_strongest(level_allow))

    # 3. Identity within the boundary, and the resource policy.
    identity_allow = _strongest(_allows(subject.identity, action, target.resource))
    boundary_allow: list[Statement] = []
    if subject.boundary is not None:
        boundary_allow = _strongest(_allows(subject.boundary, action, target.resource))
    identity_ok = bool(identity_allow) and (subject.boundary is None or bool(boundary_allow))
    same = _same_side(subject, target.account)
    granted, resource_allow = _granted(subject, target, resource_grants, identity_ok, same=same)
    if not granted:
        return _deny(
            decision,
            "no policy allows it"
            if same
            else "a cross-account request needs both the identity and the resource policy to allow it",
        )
    decision.assumes_resource_grant = not same and not resource_allow
    cited = [*scp_cited, *(identity_allow + boundary_allow if identity_ok else []), *resource_allow]

    # 4. SSE-KMS: the key policy (and, if it delegates to the account, IAM) must allow.
    if target.kms is not None and target.kms_action is not None:
        key = _key_decision(subject, target.kms, target.kms_action)
        decision.evaluated.extend(layer for layer in key.evaluated if layer not in decision.evaluated)
        decision.unavailable.extend(layer for layer in key.unavailable if layer not in decision.unavailable)
        if not key.allowed:
            return _deny(decision, key.reason, key.cited[0] if key.cited else None)
        cited.extend(key.cited)

    decision.allowed = True
    decision.cited = list(dict.fromkeys(cited))
    decision.conditional = any(s.conditional for s in decision.cited)
    return decision


def _granted(
    subject: Subject,
    target: Target,
    resource_grants: list[tuple[Statement, Match]],
    identity_ok: bool,
    *,
    same: bool,
) -> tuple[bool, list[Statement]]:
    """Whether the identity side and the resource policy together grant the request, and
    the resource-policy statements to cite."""
    if same:
        resource_allow = _strongest(_grants_alone(resource_grants, subject, target))
        if target.requires_resource_grant:
            delegated = [s for s, match in resource_grants if match == "account"]
            granted = bool(resource_allow) or (identity_ok and bool(delegated))
            return granted, resource_allow or _strongest(delegated)
        return identity_ok or bool(resource_allow), resource_allow
    resource_allow = _strongest([s for s, _ in resource_grants])
    # an unknown resource policy may grant it: assumed to (listed as unavailable)
    return identity_ok and (bool(resource_allow) or not target.policy_known), resource_allow


def _key_decision(subject: Subject, key: KeyPolicy, action: str) -> Decision:
    """May the subject use the key (``kms:Decrypt`` to read, ``kms:GenerateDataKey`` to write)?

    AWS's logic for a KMS key: an explicit Deny in the key policy, the identity policies, the
    permission boundary or an SCP wins; every SCP level must allow the key action; the key
    policy must allow it, either naming the principal (within its account that suffices, as
    a resource policy does) or naming the account (then IAM must allow it too, within the
    boundary). A key-policy grant to a role's own ARN is still limited by the role's
    permission boundary (AWS: an implicit deny in a boundary limits resource-policy grants to
    a role ARN, not to a role session or an IAM user); across accounts IAM must always allow.
    An unknown key policy does not restrict (it is named), but the other layers still do."""
    decision = Decision(allowed=True)
    key_resource = Resource(key.key_arn)
    ceilings = [*(subject.boundary or ()), *(s for level in subject.scps or () for s in level)]
    denial = _denies([*subject.identity, *ceilings], action, key_resource)
    if denial is not None:
        return _deny(decision, f"{action} on {key.key_arn} is explicitly denied by {denial.location}", denial)
    scp_cited: list[Statement] = []
    for level in subject.scps or ():
        level_allow = _allows(level, action, key_resource)
        if not level_allow:
            return _deny(decision, f"no service control policy allows {action} on {key.key_arn}")
        scp_cited.extend(_strongest(level_allow))
    if key.statements is None:
        decision.unavailable.append("kms-key-policy")
        decision.cited = scp_cited
        return decision
    decision.evaluated.append("kms-key-policy")
    target = Target(key_resource, key.account, key.statements)
    allowing, denying = _resource_grants(target, subject, action)
    if denying:
        return _deny(decision, f"the key policy of {key.key_arn} denies {action}", denying[0])
    identity = _strongest(_allows(subject.identity, action, key_resource))
    within: list[Statement] = []
    if subject.boundary is not None:
        within = _strongest(_allows(subject.boundary, action, key_resource))
    iam_allows = bool(identity) and (subject.boundary is None or bool(within))
    same = _same_side(subject, key.account)
    direct = [
        s
        for s, match in allowing
        if match != "account" and (subject.boundary is None or bool(within) or not _names_role_itself(s, subject))
    ]
    if same and direct:  # the key policy names the principal itself: no IAM grant needed
        decision.cited = [*scp_cited, *_strongest(direct), *(within if subject.boundary is not None else [])]
        return decision
    if allowing and iam_allows:  # delegated to the account, or a cross-account use: IAM must grant it too
        decision.cited = [*scp_cited, *_strongest([s for s, _ in allowing]), *identity, *within]
        return decision
    if allowing and identity and not within:
        return _deny(decision, f"the permission boundary does not allow {action} on {key.key_arn}")
    return _deny(decision, f"the key policy of {key.key_arn} does not let it use the key ({action})")


def _names_role_itself(statement: Statement, subject: Subject) -> bool:
    """Does the statement's Principal name the subject's role ARN (not a session of it)?"""
    spec = statement.principal
    return bool(spec and subject.arn and ":role/" in subject.arn and subject.arn in spec.aws)


def _deny(decision: Decision, reason: str, statement: Statement | None = None) -> Decision:
    decision.allowed = False
    decision.reason = reason
    decision.cited = [statement] if statement else []
    return decision
