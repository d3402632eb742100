"""IAM evaluation, table-driven. Each expected decision is written from AWS's documented
policy evaluation logic (single-account, cross-account, boundaries, SCPs, KMS key
policies), with this tool's documented over-approximations: an Allow under a Condition
counts (conditional), a Deny under a Condition does not, a partial Deny does not deny the
whole store, an unknown layer does not restrict."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies

from audit.iam.evaluate import KeyPolicy, Subject, Target, decide
from audit.iam.policy import PolicyError, Resource, Statement, parse_policy, parse_statement

A = "111111111111"
B = "222222222222"
ROLE = f"arn:aws:iam::{A}:role/reader"
OTHER_ROLE = f"arn:aws:iam::{A}:role/other"
BUCKET = "arn:aws:s3:::data"
OBJECTS = Resource(f"{BUCKET}/", is_prefix=True)
KEY = f"arn:aws:kms:us-east-1:{A}:key/k1"
GET = "s3:GetObject"


def st(effect: str = "Allow", action: Any = GET, resource: Any = f"{BUCKET}/*", **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"Effect": effect}
    if "not_action" in extra:
        raw["NotAction"] = extra.pop("not_action")
    else:
        raw["Action"] = action
    if "not_resource" in extra:
        raw["NotResource"] = extra.pop("not_resource")
    elif resource is not None:
        raw["Resource"] = resource
    raw.update(extra)
    return raw


def stmts(*raw: dict[str, Any]) -> tuple[Statement, ...]:
    return parse_policy({"Version": "2012-10-17", "Statement": list(raw)}, "test").statements


def subject(
    identity: tuple[dict[str, Any], ...] = (),
    boundary: tuple[dict[str, Any], ...] | None = None,
    scps: list[tuple[dict[str, Any], ...]] | None = None,
    account: str = A,
    arn: str = ROLE,
) -> Subject:
    return Subject(
        key="principal:reader",
        arn=arn,
        account=account,
        identity=stmts(*identity),
        boundary=stmts(*boundary) if boundary is not None else None,
        scps=[stmts(*level) for level in scps] if scps is not None else None,
    )


FULL = st(action="*", resource="*")
DEFAULT_KEY_POLICY = st(action="kms:*", resource="*", Principal={"AWS": f"arn:aws:iam::{A}:root"})

# (case, subject, target, expected allowed, expected conditional)
CASES: list[tuple[str, Subject, Target, bool, bool]] = [
    # --- identity policies, one account --------------------------------------------------
    ("allow-exact", subject((st(),)), Target(OBJECTS, A), True, False),
    ("allow-action-wildcard", subject((st(action="s3:Get*"),)), Target(OBJECTS, A), True, False),
    ("action-case-insensitive", subject((st(action="S3:GETOBJECT"),)), Target(OBJECTS, A), True, False),
    ("other-action-only", subject((st(action="s3:PutObject"),)), Target(OBJECTS, A), False, False),
    ("no-policy-implicit-deny", subject(()), Target(OBJECTS, A), False, False),
    ("notaction-allows-the-rest", subject((st(not_action="iam:*", resource="*"),)), Target(OBJECTS, A), True, False),
    ("notaction-excludes-s3", subject((st(not_action="s3:*", resource="*"),)), Target(OBJECTS, A), False, False),
    ("explicit-deny-wins", subject((FULL, st("Deny"))), Target(OBJECTS, A), False, False),
    (
        "deny-by-notaction",
        subject((FULL, st("Deny", not_action="s3:PutObject", resource="*"))),
        Target(OBJECTS, A),
        False,
        False,
    ),
    (
        "partial-deny-leaves-rest",
        subject((FULL, st("Deny", resource=f"{BUCKET}/secret/*"))),
        Target(OBJECTS, A),
        True,
        False,
    ),
    (
        "conditional-deny-ignored",
        subject((FULL, st("Deny", resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))),
        Target(OBJECTS, A),
        True,
        False,
    ),
    (
        "conditional-allow-counts",
        subject((st(Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}}),)),
        Target(OBJECTS, A),
        True,
        True,
    ),
    (
        "unconditional-grant-preferred",
        subject((st(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), st())),
        Target(OBJECTS, A),
        True,
        False,
    ),
    ("notresource-excludes-bucket", subject((st(not_resource=f"{BUCKET}/*"),)), Target(OBJECTS, A), False, False),
    (
        "notresource-other-bucket",
        subject((st(not_resource="arn:aws:s3:::elsewhere/*"),)),
        Target(OBJECTS, A),
        True,
        False,
    ),
    (
        "deny-all-but-other-bucket",
        subject((FULL, st("Deny", not_resource="arn:aws:s3:::elsewhere/*"))),
        Target(OBJECTS, A),
        False,
        False,
    ),
    (
        "resource-wildcard-across-buckets",
        subject((st(resource="arn:aws:s3:::da*/*"),)),
        Target(OBJECTS, A),
        True,
        False,
    ),
    ("resource-case-sensitive", subject((st(resource="arn:aws:s3:::Data/*"),)), Target(OBJECTS, A), False, False),
    ("bucket-arn-is-not-objects", subject((st(resource=BUCKET),)), Target(OBJECTS, A), False, False),
    (
        "policy-variable-widens-allow",
        subject((st(resource=f"{BUCKET}/home/${{aws:username}}/*"),)),
        Target(OBJECTS, A),
        True,
        False,
    ),
    (
        "policy-variable-narrows-deny",
        subject((FULL, st("Deny", resource="arn:aws:s3:::${aws:username}/*"))),
        Target(OBJECTS, A),
        True,
        False,
    ),
    # --- permission boundaries -----------------------------------------------------------------------
    (
        "boundary-excludes-action",
        subject((FULL,), boundary=(st(action="s3:PutObject", resource="*"),)),
        Target(OBJECTS, A),
        False,
        False,
    ),
    ("boundary-includes-action", subject((FULL,), boundary=(st(resource="*"),)), Target(OBJECTS, A), True, False),
    ("boundary-alone-grants-nothing", subject((), boundary=(FULL,)), Target(OBJECTS, A), False, False),
    ("boundary-deny", subject((FULL,), boundary=(FULL, st("Deny"))), Target(OBJECTS, A), False, False),
    # --- service control policies -------------------------------------------------------------
    (
        "scp-allows-other-service",
        subject((FULL,), scps=[(st(action="ec2:*", resource="*"),)]),
        Target(OBJECTS, A),
        False,
        False,
    ),
    (
        "scp-every-level-must-allow",
        subject((FULL,), scps=[(FULL,), (st(action="ec2:*", resource="*"),)]),
        Target(OBJECTS, A),
        False,
        False,
    ),
    (
        "scp-deny-at-ou",
        subject((FULL,), scps=[(FULL,), (FULL, st("Deny", resource="*"))]),
        Target(OBJECTS, A),
        False,
        False,
    ),
    (
        "scp-levels-allow",
        subject((FULL,), scps=[(FULL,), (st(action="s3:*", resource="*"),)]),
        Target(OBJECTS, A),
        True,
        False,
    ),
    ("scp-does-not-grant", subject((), scps=[(FULL,)]), Target(OBJECTS, A), False, False),
    ("scp-unknown-does-not-restrict", subject((FULL,), scps=None), Target(OBJECTS, A), True, False),
    # --- resource policies, one account --------------------------------------------------
    ("bucket-policy-names-role", subject(()), Target(OBJECTS, A, stmts(st(Principal={"AWS": ROLE}))), True, False),
    (
        "bucket-policy-names-role-session",
        subject(()),
        Target(OBJECTS, A, stmts(st(Principal={"AWS": f"arn:aws:sts::{A}:assumed-role/reader/s1"}))),
        True,
        False,
    ),
    (
        "bucket-policy-names-own-account-delegates",
        subject(()),
        Target(OBJECTS, A, stmts(st(Principal={"AWS": f"arn:aws:iam::{A}:root"}))),
        False,
        False,
    ),
    (
        "bucket-policy-names-other-role",
        subject(()),
        Target(OBJECTS, A, stmts(st(Principal={"AWS": OTHER_ROLE}))),
        False,
        False,
    ),
    (
        "bucket-policy-deny-wins",
        subject((FULL,)),
        Target(OBJECTS, A, stmts(st("Deny", Principal={"AWS": ROLE}))),
        False,
        False,
    ),
    (
        "bucket-policy-deny-everyone-but-other",
        subject((FULL,)),
        Target(OBJECTS, A, stmts(st("Deny", NotPrincipal={"AWS": OTHER_ROLE}))),
        False,
        False,
    ),
    (
        "bucket-policy-deny-everyone-but-me",
        subject((FULL,)),
        Target(OBJECTS, A, stmts(st("Deny", NotPrincipal={"AWS": ROLE}))),
        True,
        False,
    ),
    (
        "bucket-policy-allow-notprincipal",
        subject(()),
        Target(OBJECTS, A, stmts(st(NotPrincipal={"AWS": OTHER_ROLE}))),
        True,
        False,
    ),
    (
        "public-grant-same-account-despite-block",
        subject(()),
        Target(OBJECTS, A, stmts(st(Principal="*")), public_blocked=True),
        True,
        False,
    ),
    # --- cross-account ------------------------------------------------------------------------
    ("cross-account-identity-only", subject((st(),)), Target(OBJECTS, B), False, False),
    ("cross-account-resource-only", subject(()), Target(OBJECTS, B, stmts(st(Principal={"AWS": A}))), False, False),
    ("cross-account-both-sides", subject((st(),)), Target(OBJECTS, B, stmts(st(Principal={"AWS": A}))), True, False),
    (
        "cross-account-root-arn",
        subject((st(),)),
        Target(OBJECTS, B, stmts(st(Principal={"AWS": f"arn:aws:iam::{A}:root"}))),
        True,
        False,
    ),
    ("cross-account-public-policy", subject((st(),)), Target(OBJECTS, B, stmts(st(Principal="*"))), True, False),
    (
        "cross-account-public-policy-blocked",
        subject((st(),)),
        Target(OBJECTS, B, stmts(st(Principal="*")), public_blocked=True),
        False,
        False,
    ),
    (
        "cross-account-conditional-grant",
        subject((st(),)),
        Target(OBJECTS, B, stmts(st(Principal={"AWS": A}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))),
        True,
        True,
    ),
    # --- KMS key policies for SSE-KMS data ----------------------------------------------------
    (
        "kms-delegated-and-granted",
        subject((st(), st(action="kms:Decrypt", resource=KEY))),
        Target(OBJECTS, A, kms=KeyPolicy(KEY, A, stmts(DEFAULT_KEY_POLICY)), kms_action="kms:Decrypt"),
        True,
        False,
    ),
    (
        "kms-delegated-not-granted",
        subject((st(),)),
        Target(OBJECTS, A, kms=KeyPolicy(KEY, A, stmts(DEFAULT_KEY_POLICY)), kms_action="kms:Decrypt"),
        False,
        False,
    ),
    (
        "kms-key-policy-names-role",
        subject((st(),)),
        Target(
            OBJECTS,
            A,
            kms=KeyPolicy(KEY, A, stmts(st(action="kms:Decrypt", resource="*", Principal={"AWS": ROLE}))),
            kms_action="kms:Decrypt",
        ),
        True,
        False,
    ),
    (
        "kms-key-policy-other-role-only",
        subject((st(), st(action="kms:*", resource="*"))),
        Target(
            OBJECTS,
            A,
            kms=KeyPolicy(KEY, A, stmts(st(action="kms:*", resource="*", Principal={"AWS": OTHER_ROLE}))),
            kms_action="kms:Decrypt",
        ),
        False,
        False,
    ),
    (
        "kms-key-policy-deny",
        subject((st(), st(action="kms:*", resource="*"))),
        Target(
            OBJECTS,
            A,
            kms=KeyPolicy(
                KEY,
                A,
                stmts(DEFAULT_KEY_POLICY, st("Deny", action="kms:Decrypt", resource="*", Principal={"AWS": ROLE})),
            ),
            kms_action="kms:Decrypt",
        ),
        False,
        False,
    ),
    (
        "kms-key-policy-unknown",
        subject((st(),)),
        Target(OBJECTS, A, kms=KeyPolicy(KEY, A, None), kms_action="kms:Decrypt"),
        True,
        False,
    ),
    (
        "kms-cross-account-needs-iam",
        subject((st(),), account=B, arn=f"arn:aws:iam::{B}:role/reader"),
        Target(
            OBJECTS,
            B,
            kms=KeyPolicy(
                KEY,
                A,
                stmts(st(action="kms:Decrypt", resource="*", Principal={"AWS": f"arn:aws:iam::{B}:role/reader"})),
            ),
            kms_action="kms:Decrypt",
        ),
        False,
        False,
    ),
    # --- role trust policies (sts:AssumeRole on the role) ----------------------------------------
    (
        "trust-names-principal",
        subject(()),
        Target(
            Resource(OTHER_ROLE),
            A,
            stmts(st(action="sts:AssumeRole", resource=None, Principal={"AWS": ROLE})),
            requires_resource_grant=True,
        ),
        True,
        False,
    ),
    (
        "trust-names-account-needs-iam",
        subject(()),
        Target(
            Resource(OTHER_ROLE),
            A,
            stmts(st(action="sts:AssumeRole", resource=None, Principal={"AWS": A})),
            requires_resource_grant=True,
        ),
        False,
        False,
    ),
    (
        "trust-names-account-with-iam",
        subject((st(action="sts:AssumeRole", resource=OTHER_ROLE),)),
        Target(
            Resource(OTHER_ROLE),
            A,
            stmts(st(action="sts:AssumeRole", resource=None, Principal={"AWS": A})),
            requires_resource_grant=True,
        ),
        True,
        False,
    ),
    (
        "trust-cross-account",
        subject((st(action="sts:AssumeRole", resource="*"),), account=B, arn=f"arn:aws:iam::{B}:role/ci"),
        Target(
            Resource(OTHER_ROLE),
            A,
            stmts(
                st(
                    action="sts:AssumeRole",
                    resource=None,
                    Principal={"AWS": f"arn:aws:iam::{B}:root"},
                    Condition={"StringEquals": {"sts:ExternalId": "x"}},
                )
            ),
            requires_resource_grant=True,
        ),
        True,
        True,
    ),
    (
        "trust-service-only",
        subject((st(action="sts:AssumeRole", resource="*"),)),
        Target(
            Resource(OTHER_ROLE),
            A,
            stmts(st(action="sts:AssumeRole", resource=None, Principal={"Service": "glue.amazonaws.com"})),
            requires_resource_grant=True,
        ),
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("subj", "target", "allowed", "conditional"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decision(subj: Subject, target: Target, allowed: bool, conditional: bool) -> None:
    action = (target.kms_action and GET) or ("sts:AssumeRole" if ":role/" in target.resource.arn else GET)
    decision = decide(subj, action, target)
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert decision.conditional is conditional
        assert decision.cited, "an allowed decision cites the statements that allowed it"
    else:
        assert decision.reason


def test_layers_are_listed_as_evaluated_or_unavailable() -> None:
    decision = decide(
        subject((st(),), boundary=(FULL,)),
        GET,
        Target(OBJECTS, A, policy_known=False, kms=KeyPolicy(KEY, A, None), kms_action="kms:Decrypt"),
    )
    assert decision.allowed
    assert decision.evaluated == ["identity", "boundary"]
    assert set(decision.unavailable) == {"scp", "resource-policy", "kms-key-policy"}


def test_a_deny_cites_the_statement() -> None:
    decision = decide(subject((FULL, st("Deny", Sid="NoData"))), GET, Target(OBJECTS, A))
    assert not decision.allowed
    assert decision.cited[0].sid == "NoData"
    assert "explicitly denied" in decision.reason


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}, "Effect must be Allow or Deny"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "exactly one of Action and NotAction"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "x"}]},
            "both Resource and NotResource",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]}, "Action must be a string or a list"),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Cat": "x"}}]}, "unknown keys: Cat"),
        ({"Statement": "nope"}, "Statement must be a list or a mapping"),
        ("{not json", "not JSON"),
    ],
)
def test_malformed_policies_are_errors(document: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(document, "test")


def test_url_encoded_and_single_statement_documents_parse() -> None:
    encoded = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"
    (statement,) = parse_policy(encoded, "test").statements
    assert statement.applies_to_action(GET)


@settings(max_examples=300, deadline=None)
@given(strategies.data())
def test_the_simple_decision_is_the_full_decision(data: strategies.DataObject) -> None:
    """decide_simple shortens decide_in_full only where nothing but identity can decide."""
    from audit.iam.evaluate import decide_in_full, decide_simple, is_simple

    patterns = strategies.sampled_from(
        ["*", "arn:aws:s3:::b*", "arn:aws:s3:::b/x/*", "arn:aws:s3:::c/*", "arn:aws:s3:::b?/*"]
    )
    actions = strategies.sampled_from(["s3:GetObject", "s3:Get*", "s3:*", "s3:PutObject", "kms:Decrypt"])
    statements = []
    for index in range(data.draw(strategies.integers(min_value=0, max_value=3))):
        document = {
            "Effect": "Allow",
            "Action": data.draw(actions),
            "Resource": data.draw(strategies.lists(patterns, min_size=1, max_size=2)),
        }
        if data.draw(strategies.booleans()):
            document["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        statements.append(parse_statement(document, f"p:{index}"))
    subject = Subject(
        key="principal:r",
        arn="arn:aws:iam::111111111111:role/r",
        account="111111111111",
        identity=tuple(statements),
        scps=data.draw(strategies.sampled_from([None, ()])),
    )
    prefix = data.draw(
        strategies.sampled_from(["arn:aws:s3:::b/", "arn:aws:s3:::b/x/", "arn:aws:s3:::c/", "arn:aws:s3:::bz/"])
    )
    target = Target(Resource(prefix, is_prefix=True), data.draw(strategies.sampled_from(["111111111111", None])))
    assert is_simple(subject, target)
    action = data.draw(strategies.sampled_from(["s3:GetObject", "s3:PutObject", "s3:GetObjectVersion"]))
    assert decide_simple(subject, action, target) == decide_in_full(subject, action, target)
