"""Sessions for the collector: read-only by construction, adaptive retries, assumed roles.

Every client the collector uses comes from a session carrying :func:`refuse_writes` on
botocore's ``before-call`` event, so no call outside an allowlist of exact operations (the
documented auditor policy's, ``auditor-policy.json``) is ever sent, whatever a future code
change asks for. A name prefix is not enough: ``sts:GetSessionToken`` and
``s3:GetObjectTorrent`` start with "Get". Guarded clients cannot presign either: a presigned
URL is signed here and sent by anyone, past every event handler.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from audit.errors import AuditError

AUDITOR_POLICY = Path(__file__).parent / "auditor-policy.json"
# IAM actions whose API operation is spelled differently (service, operation)
_OPERATION_OF = {
    "s3:ListAllMyBuckets": ("s3", "ListBuckets"),
    "s3:GetEncryptionConfiguration": ("s3", "GetBucketEncryption"),
    "s3:GetBucketPublicAccessBlock": ("s3", "GetPublicAccessBlock"),
    "s3:GetLifecycleConfiguration": ("s3", "GetBucketLifecycleConfiguration"),
    "s3:GetReplicationConfiguration": ("s3", "GetBucketReplication"),
    "s3:GetAccountPublicAccessBlock": ("s3control", "GetPublicAccessBlock"),
}
# Who am I, and entering another account through the auditor role: neither changes the estate.
_IDENTITY_CALLS = frozenset({("sts", "GetCallerIdentity"), ("sts", "AssumeRole")})


def _allowed_calls() -> frozenset[tuple[str, str]]:
    actions = json.loads(AUDITOR_POLICY.read_text())["Statement"][0]["Action"]
    calls = {_OPERATION_OF.get(a, tuple(a.split(":", 1))) for a in actions}
    return frozenset(calls) | _IDENTITY_CALLS


ALLOWED_CALLS: frozenset[tuple[str, str]] = _allowed_calls()
# The content checks read data: content-reader-policy.json's s3:ListBucket and s3:GetObject.
CONTENT_CALLS = frozenset({("s3", "ListObjectsV2"), ("s3", "GetObject")})

CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="tenant-audit")


class ReadOnlyViolation(RuntimeError):
    """The collector tried to send an API call that is not a read. Never caught."""


def refuse_writes(model: Any, allowed: frozenset[tuple[str, str]] = ALLOWED_CALLS, **_: Any) -> None:
    """botocore ``before-call`` handler: raise before any call outside the allowlist is sent."""
    service, operation = model.service_model.service_name, model.name
    if (service, operation) not in allowed:
        raise ReadOnlyViolation(
            f"refused to call {service}:{operation}: the audit is read-only and makes only the calls "
            "of its auditor policy"
        )


def _refuse_presigning(*_: Any, **__: Any) -> Any:
    raise ReadOnlyViolation("refused to presign: a presigned request bypasses the read-only guard")


def _without_presigning(class_attributes: dict[str, Any], **_: Any) -> None:
    """botocore ``creating-client-class`` handler: guarded clients have no way to presign."""
    class_attributes["generate_presigned_url"] = _refuse_presigning
    class_attributes["generate_presigned_post"] = _refuse_presigning


def read_only_session(
    profile: str | None = None,
    region: str | None = None,
    credentials: dict[str, str] | None = None,
    share_models_with: boto3.Session | None = None,
    allowed: frozenset[tuple[str, str]] = ALLOWED_CALLS,
) -> boto3.Session:
    """A session whose clients refuse writes. Sessions made for many accounts share one
    loader of service models, so each model is parsed once per run, not once per account."""
    core = botocore.session.Session()
    if share_models_with is not None:
        core.register_component("data_loader", share_models_with._session.get_component("data_loader"))
    try:
        session = boto3.Session(botocore_session=core, profile_name=profile, region_name=region, **(credentials or {}))
    except ProfileNotFound:
        raise AuditError(
            f"no AWS profile named {profile!r}", "list profiles with 'aws configure list-profiles'"
        ) from None
    session.events.register("before-call", partial(refuse_writes, allowed=allowed))
    session.events.register("creating-client-class", _without_presigning)
    return session


def client(session: boto3.Session, service: str) -> Any:
    region = session.region_name or "us-east-1"  # global services still need a region to sign
    made = session.client(service, region_name=region, config=CLIENT_CONFIG)
    if service == "s3control" and not _is_aws_endpoint(made.meta.endpoint_url):
        # S3 Control puts the account id in front of the host name; an emulator on
        # loopback (moto, LocalStack) has no such host, so the prefix is taken off there.
        made.meta.events.register("before-sign.s3-control", _without_account_host)
    return made


def _without_account_host(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    host = parts.netloc.split(".", 1)
    if len(host) == 2 and host[0].isdigit() and len(host[0]) == 12:
        request.url = parts._replace(netloc=host[1]).geturl()


def _is_aws_endpoint(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def caller_account(session: boto3.Session) -> str:
    try:
        return str(client(session, "sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise AuditError(
            f"cannot use the AWS credentials: {exc}",
            "configure credentials (AWS_PROFILE, aws:PROFILE, environment or instance role)",
        ) from None


def assume(session: boto3.Session, account: str, role_name: str) -> boto3.Session:
    """A read-only session in ``account`` through ``role_name`` (raises ClientError)."""
    response = client(session, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName="tenant-audit"
    )
    credentials = response["Credentials"]
    return read_only_session(
        region=session.region_name,
        share_models_with=session,
        credentials={
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        },
    )
