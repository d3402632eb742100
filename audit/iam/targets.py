"""What IAM evaluation is asked about: the S3 stores as request targets, indexed by the
literal head of their object ARNs, and the principals as subjects (:class:`Context`)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from audit.coverage import CoverageGap
from audit.iam.evaluate import KeyPolicy, Subject, Target
from audit.iam.glob import literal_head
from audit.iam.policy import Resource, Statement

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject",)
KMS_ACTION = {"read": "kms:Decrypt", "write": "kms:GenerateDataKey"}
DATA_ACTIONS = (*READ_ACTIONS, *WRITE_ACTIONS)
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
ASSUMED_IDENTITY = Statement(
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
    policy_known: bool = True  # False: no source states the bucket policy (it may grant anything)
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
                    policy_known=self.policy_known,
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
    parsed_policies: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # by store id

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


def touches_data(statement: Statement) -> bool:
    return statement.applies_to_any(DATA_ACTIONS)
