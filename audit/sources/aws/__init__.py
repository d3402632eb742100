"""The AWS source: a read-only, concurrent collector of a live estate.

For each account (the caller's, or every account of an accounts file entered through
``--assume-role``) it reads S3 buckets, IAM, the KMS keys buckets use, Organizations
SCPs, SageMaker and Bedrock training jobs and Glue tables, and produces one inventory
document. Every failed call is a coverage gap; nothing is ever written.

This module stays light (no boto3 import) so that audits of files never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from audit.sources.aws.tags import TagMapping

if TYPE_CHECKING:
    from audit.sources.aws.collector import Collected

SOURCE = "aws"


@dataclass(frozen=True)
class AccountTarget:
    id: str
    name: str | None = None


@dataclass(frozen=True)
class AwsOptions:
    profile: str | None = None
    region: str | None = None
    accounts: tuple[AccountTarget, ...] = ()
    assume_role: str | None = None
    tags: TagMapping = field(default_factory=TagMapping)
    workers: int = 8


class Progress(Protocol):
    def begin(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class Silent:
    def begin(self, description: str, total: int) -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None


def collect(options: AwsOptions, progress: Progress | None = None) -> Collected:
    """Collect the estate (see :mod:`audit.sources.aws.collector`)."""
    from audit.sources.aws.collector import collect as run

    return run(options, progress)
