"""The KMS key decision for SSE-KMS data, table-driven, each expected decision written from
AWS's documented logic (IAM policy evaluation logic; KMS key policies):

- an explicit Deny in any policy that applies wins: the key policy, the identity policies,
  the permission boundary, an SCP (a Deny under a Condition does not count, as everywhere);
- SCPs apply to every request of the principal: each level must allow the key action;
- the key policy must allow the use: naming the principal suffices within its account;
  naming the account delegates to IAM, which must then allow it, within the boundary;
- a resource-policy grant to a role's ARN is limited by an implicit deny in the role's
  permission boundary; a grant to a role session or to an IAM user is not;
- across accounts the identity side must allow too, within the boundary;
- an unknown key policy does not restrict (it is listed unavailable); the other layers do.

The S3 side of each case is allowed, so the decision turns on the key alone.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from audit.graph.build import build_graph
from audit.iam.evaluate import KeyPolicy, Subject, Target, decide
from audit.sources import load_inventory
from tests.audit.iam.test_evaluate import (
    DEFAULT_KEY_POLICY,
    FULL,
    GET,
    KEY,
    OBJECTS,
    ROLE,
    A,
    B,
    st,
    stmts,
    subject,
)
from tests.conftest import WriteYaml

DECRYPT = "kms:Decrypt"
READS_DATA = st()  # s3:GetObject on the bucket's objects
USES_KEY = st(action=DECRYPT, resource=KEY)
S3_ONLY = (st(action="s3:*", resource="*"),)  # a boundary (or SCP) that leaves KMS out
S3_AND_KMS = (st(action=["s3:*", "kms:Decrypt"], resource="*"),)
SESSION = f"arn:aws:sts::{A}:assumed-role/reader/etl-run"
USER = f"arn:aws:iam::{A}:user/analyst"


def key(*statements: dict[str, Any] | None) -> Target:
    """Data in account A under a key of account A with this key policy (None: unknown)."""
    known = None if statements == (None,) else stmts(*(s for s in statements if s is not None))
    return Target(OBJECTS, A, kms=KeyPolicy(KEY, A, known), kms_action=DECRYPT)


def names(principal: str) -> dict[str, Any]:
    return st(action=DECRYPT, resource="*", Principal={"AWS": principal})


def scps(*levels: tuple[dict[str, Any], ...]) -> list[tuple[dict[str, Any], ...]]:
    return list(levels)


CASES: list[tuple[str, Subject, Target, bool]] = [
    # --- SCPs -----------------------------------------------------------------------------
    ("scp-full-access", subject((READS_DATA, USES_KEY), scps=scps((FULL,))), key(DEFAULT_KEY_POLICY), True),
    (
        "scp-denies-decrypt",
        subject((READS_DATA, USES_KEY), scps=scps((FULL, st("Deny", action=DECRYPT, resource="*")))),
        key(DEFAULT_KEY_POLICY),
        False,
    ),
    (
        "scp-denies-decrypt-under-a-condition",
        subject(
            (READS_DATA, USES_KEY),
            scps=scps(
                (
                    FULL,
                    st(
                        "Deny",
                        action=DECRYPT,
                        resource="*",
                        Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}},
                    ),
                )
            ),
        ),
        key(DEFAULT_KEY_POLICY),
        True,
    ),
    (
        "scp-leaves-kms-out",
        subject((READS_DATA, USES_KEY), scps=scps((FULL,), S3_ONLY)),
        key(DEFAULT_KEY_POLICY),
        False,
    ),
    (
        "scp-leaves-kms-out-even-when-the-key-policy-names-the-role",
        subject((READS_DATA,), scps=scps(S3_ONLY)),
        key(names(ROLE)),
        False,
    ),
    (
        "scp-every-level-allows-kms",
        subject((READS_DATA, USES_KEY), scps=scps((FULL,), S3_AND_KMS)),
        key(DEFAULT_KEY_POLICY),
        True,
    ),
    ("scp-applies-with-the-key-policy-unknown", subject((READS_DATA,), scps=scps(S3_ONLY)), key(None), False),
    ("unknown-key-policy-and-scps-allow", subject((READS_DATA,), scps=scps((FULL,))), key(None), True),
    # --- permission boundaries --------------------------------------------------------------
    (
        "boundary-denies-kms",
        subject((READS_DATA, USES_KEY), boundary=(FULL, st("Deny", action="kms:*", resource="*"))),
        key(DEFAULT_KEY_POLICY),
        False,
    ),
    (
        "boundary-leaves-kms-out-delegated",
        subject((READS_DATA, USES_KEY), boundary=S3_ONLY),
        key(DEFAULT_KEY_POLICY),
        False,
    ),
    (
        "boundary-allows-kms-delegated",
        subject((READS_DATA, USES_KEY), boundary=S3_AND_KMS),
        key(DEFAULT_KEY_POLICY),
        True,
    ),
    (
        "key-policy-names-the-role-boundary-leaves-kms-out",
        subject((READS_DATA,), boundary=S3_ONLY),
        key(names(ROLE)),
        False,
    ),
    (
        "key-policy-names-the-role-boundary-allows-kms",
        subject((READS_DATA,), boundary=S3_AND_KMS),
        key(names(ROLE)),
        True,
    ),
    ("key-policy-names-the-role-session", subject((READS_DATA,), boundary=S3_ONLY), key(names(SESSION)), True),
    ("key-policy-names-the-user", subject((READS_DATA,), boundary=S3_ONLY, arn=USER), key(names(USER)), True),
    ("boundary-applies-with-the-key-policy-unknown", subject((READS_DATA,), boundary=S3_ONLY), key(None), True),
    # --- across accounts: IAM must allow, within the boundary --------------------------------
    (
        "cross-account-boundary-leaves-kms-out",
        subject((READS_DATA, USES_KEY), boundary=S3_ONLY, account=B, arn=f"arn:aws:iam::{B}:role/reader"),
        Target(OBJECTS, B, kms=KeyPolicy(KEY, A, stmts(names(f"arn:aws:iam::{B}:role/reader"))), kms_action=DECRYPT),
        False,
    ),
    (
        "cross-account-boundary-allows-kms",
        subject((READS_DATA, USES_KEY), boundary=S3_AND_KMS, account=B, arn=f"arn:aws:iam::{B}:role/reader"),
        Target(OBJECTS, B, kms=KeyPolicy(KEY, A, stmts(names(f"arn:aws:iam::{B}:role/reader"))), kms_action=DECRYPT),
        True,
    ),
    # --- identity Deny -------------------------------------------------------------------------
    (
        "identity-denies-kms-though-the-key-policy-names-the-role",
        subject((READS_DATA, st("Deny", action="kms:*", resource="*"))),
        key(names(ROLE)),
        False,
    ),
]


@pytest.mark.parametrize(("subj", "target", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_key_decision(subj: Subject, target: Target, allowed: bool) -> None:
    decision = decide(subj, GET, target)
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert decision.cited
    else:
        assert "kms" in decision.reason or "key" in decision.reason, decision.reason


def test_a_denial_by_the_boundary_or_an_scp_cites_the_statement() -> None:
    deny = st("Deny", action=DECRYPT, resource="*", Sid="NoKeys")
    for subj in (
        subject((READS_DATA, USES_KEY), scps=scps((FULL, deny))),
        subject((READS_DATA, USES_KEY), boundary=(FULL, deny)),
    ):
        decision = decide(subj, GET, key(DEFAULT_KEY_POLICY))
        assert not decision.allowed
        assert [s.sid for s in decision.cited] == ["NoKeys"]
        assert "explicitly denied" in decision.reason


def test_an_allowed_use_cites_the_scp_and_boundary_statements_it_rests_on() -> None:
    boundary_statement = st(action=["s3:*", "kms:Decrypt"], resource="*", Sid="Bound")
    scp_statement = st(action="*", resource="*", Sid="FullAWSAccess")
    decision = decide(
        subject((READS_DATA, USES_KEY), boundary=(boundary_statement,), scps=scps((scp_statement,))),
        GET,
        key(DEFAULT_KEY_POLICY),
    )
    assert decision.allowed
    assert {"Bound", "FullAWSAccess"} <= {s.sid for s in decision.cited}


def test_an_scp_that_denies_the_key_removes_the_edge_of_sse_kms_data(write_yaml: WriteYaml) -> None:
    def reads(*scp: dict[str, Any]) -> bool:
        inventory = {
            "version": 1,
            "accounts": [
                {
                    "id": A,
                    "name": "serving",
                    "zone": "serving",
                    "scps": [{"target": "r-root", "policies": [policy(*scp)]}],
                }
            ],
            "kms_keys": [{"arn": KEY, "account": A, "policy": policy(DEFAULT_KEY_POLICY)}],
            "stores": [
                {"id": "data", "arn": "arn:aws:s3:::data", "account": A, "encryption": "aws:kms", "kms_key": KEY}
            ],
            "principals": [
                {"id": "r", "arn": ROLE, "policies": [policy(st(action="s3:GetObject", resource="*"), USES_KEY)]}
            ],
        }
        graph = build_graph(load_inventory([str(write_yaml(yaml.safe_dump(inventory, sort_keys=False)))]))
        return ("store:data", "principal:r", "can-read") in {(u, v, d["kind"]) for u, v, d in graph.edge_items()}

    assert reads(FULL)
    assert not reads(FULL, st("Deny", action="kms:*", resource="*"))
    assert not reads(st(action="s3:*", resource="*"))  # the organisation never allows KMS


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}
