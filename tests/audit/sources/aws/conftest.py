"""moto, in-process (fake credentials, one mocked AWS, sessions per account) and moto's
real server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from audit.estate import SessionFor, account_sessions

ACCOUNTS = ("111111111111", "222222222222", "333333333333")


@pytest.fixture
def session_for(aws: None) -> SessionFor:
    """A session in an account, as moto gives one: by assuming a role there."""
    return account_sessions(boto3.client("sts", region_name="us-east-1"))


CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on a free loopback port; AWS_ENDPOINT_URL points every client at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    yield endpoint
    server.stop()
