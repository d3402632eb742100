"""moto, in-process: fake credentials, one mocked AWS, sessions per account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

ACCOUNTS = ("111111111111", "222222222222", "333333333333")


SessionFor = Callable[[str], Any]


@pytest.fixture
def session_for(aws: None) -> SessionFor:
    """A session in an account, as moto gives one: by assuming a role there."""
    sts = boto3.client("sts", region_name="us-east-1")
    sessions: dict[str, Any] = {}

    def session(account: str) -> Any:
        if account in sessions:
            return sessions[account]
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/estate-builder", RoleSessionName="estate-builder"
        )["Credentials"]
        sessions[account] = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="us-east-1",
        )
        return sessions[account]

    return session
