"""The collector: per account, the calls run concurrently; then everything is
transformed into one inventory document."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from audit.coverage import CoverageGap
from audit.inventory import InputRecord
from audit.model import Account, InventoryDocument, Job, KmsKey, Principal, Provenance, Store
from audit.sources.aws import (
    SOURCE,
    AccountTarget,
    AwsOptions,
    Progress,
    Silent,
    glue,
    iam,
    kms,
    organizations,
    s3,
    training,
)
from audit.sources.aws.fetch import FAILED, Fetcher
from audit.sources.aws.session import assume, caller_account, client, read_only_session
from audit.sources.aws.tags import TagMapping


@dataclass
class Collected:
    document: InventoryDocument
    record: InputRecord
    gaps: list[CoverageGap]
    calls: int


@dataclass
class _AccountRaw:
    account: str
    name: str | None
    fetcher: Fetcher
    region: str
    details: Any = FAILED
    buckets: list[dict[str, Any]] = field(default_factory=list)
    account_pab: Any = FAILED
    organization: dict[str, Any] = field(default_factory=dict)
    alias: str | None = None
    sagemaker: Any = FAILED
    bedrock: Any = FAILED
    tables: Any = FAILED
    keys: list[dict[str, Any]] = field(default_factory=list)


def collect(options: AwsOptions, progress: Progress | None = None) -> Collected:
    """Collect every account; raise AuditError only when no credentials work at all."""
    progress = progress or Silent()
    base = read_only_session(options.profile, options.region)
    caller = caller_account(base)
    targets = options.accounts or (AccountTarget(caller),)
    gaps: list[CoverageGap] = []
    raws: list[_AccountRaw] = []
    organizations_client = client(base, "organizations")
    for target in targets:
        session = _session_for(base, caller, target, options, gaps)
        if session is not None:
            raws.append(_collect_account(session, organizations_client, target, options, progress))
    document = _transform(raws, options.tags)
    for raw in raws:
        gaps.extend(raw.fetcher.gaps)
    digest = hashlib.sha256(json.dumps([r.__dict__ for r in raws], default=str, sort_keys=True).encode()).hexdigest()
    where = f"aws://{','.join(t.id for t in targets)}" + (f" (profile {options.profile})" if options.profile else "")
    return Collected(document, InputRecord(SOURCE, where, digest), gaps, sum(r.fetcher.calls for r in raws))


def _session_for(
    base: boto3.Session, caller: str, target: AccountTarget, options: AwsOptions, gaps: list[CoverageGap]
) -> boto3.Session | None:
    if options.assume_role is None:
        if target.id != caller:
            gaps.append(
                CoverageGap(
                    scope=f"account:{target.id}",
                    reason=f"account {target.id} was not audited: the "
                    f"credentials are for {caller} and no --assume-role was given",
                )
            )
            return None
        return base
    try:
        return assume(base, target.id, options.assume_role)
    except (ClientError, BotoCoreError) as exc:
        gaps.append(
            CoverageGap(
                scope=f"account:{target.id}",
                reason=f"account {target.id} was not audited: cannot assume {options.assume_role}: {exc}",
            )
        )
        return None


def _collect_account(
    session: boto3.Session, organizations_client: Any, target: AccountTarget, options: AwsOptions, progress: Progress
) -> _AccountRaw:
    fetcher = Fetcher(target.id)
    raw = _AccountRaw(target.id, target.name, fetcher, session.region_name or "us-east-1")
    clients = {
        name: client(session, name) for name in ("s3", "s3control", "iam", "kms", "sagemaker", "bedrock", "glue")
    }
    clients["organizations"] = organizations_client
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        tasks: dict[str, Callable[[], Any]] = {
            "details": lambda: iam.get_authorization_details(fetcher, clients["iam"]),
            "account_pab": lambda: s3.account_public_access_block(fetcher, clients["s3control"]),
            "organization": lambda: organizations.get_organization(fetcher, clients["organizations"]),
            "alias": lambda: _alias(fetcher, clients["iam"]),
            "sagemaker": lambda: training.get_sagemaker_jobs(fetcher, clients["sagemaker"]),
            "bedrock": lambda: training.get_bedrock_jobs(fetcher, clients["bedrock"]),
            "tables": lambda: glue.get_tables(fetcher, clients["glue"]),
        }
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        names = s3.list_buckets(fetcher, clients["s3"])
        bucket_names = names if isinstance(names, list) else []
        progress.begin(f"account {target.id}: buckets", len(bucket_names))

        def one_bucket(name: str) -> dict[str, Any]:
            result = s3.get_bucket(fetcher, clients["s3"], name)
            progress.advance()
            return result

        raw.buckets = list(pool.map(one_bucket, bucket_names))
        for name, future in futures.items():
            setattr(raw, name, future.result())
        key_arns = sorted({k for k in (_bucket_key(b, target.id) for b in raw.buckets) if k})
        progress.begin(f"account {target.id}: KMS keys", len(key_arns))

        def one_key(arn: str) -> dict[str, Any]:
            result = kms.get_key(fetcher, clients["kms"], arn)
            progress.advance()
            return result

        raw.keys = list(pool.map(one_key, key_arns))
    return raw


def _alias(fetcher: Fetcher, iam_client: Any) -> str | None:
    result = fetcher.call(
        f"account:{fetcher.account}", "iam:ListAccountAliases", iam_client.list_account_aliases, checks=()
    )
    aliases = result.get("AccountAliases", []) if isinstance(result, dict) else []
    return str(aliases[0]) if aliases else None


def _bucket_key(raw: dict[str, Any], account: str) -> str | None:
    store = s3.transform_bucket(raw, account, TagMapping())
    return store.kms_key if store.encryption == "aws:kms" else None


def _transform(raws: Sequence[_AccountRaw], mapping: TagMapping) -> InventoryDocument:
    accounts: list[Account] = []
    stores: list[Store] = []
    principals: list[Principal] = []
    keys: list[KmsKey] = []
    for raw in raws:
        account = organizations.transform_account(raw.organization, raw.account, mapping, raw.name or raw.alias)
        accounts.append(account)
        stores.extend(s3.transform_bucket(b, raw.account, mapping, raw.account_pab) for b in raw.buckets)
        if isinstance(raw.tables, list):
            stores.extend(
                t for t in (glue.transform_table(t, raw.account, raw.region, mapping) for t in raw.tables) if t
            )
        if isinstance(raw.details, dict):
            principals.extend(iam.transform_principals(raw.details, raw.account, mapping))
        keys.extend(kms.transform_key(k) for k in raw.keys)
    principals = _unique_ids(principals)
    by_arn = {p.arn: p.id for p in principals if p.arn}
    jobs: list[Job] = []
    for raw in raws:
        if isinstance(raw.sagemaker, list):
            jobs.extend(training.transform_sagemaker_job(j, raw.account, by_arn) for j in raw.sagemaker)
        if isinstance(raw.bedrock, list):
            jobs.extend(training.transform_bedrock_job(j, raw.account, by_arn) for j in raw.bedrock)
    seen: dict[str, int] = {}
    for job in jobs:  # a SageMaker and a Bedrock job may share a name
        seen[job.id] = seen.get(job.id, 0) + 1
        if seen[job.id] > 1:
            job.id = f"{job.id}-{seen[job.id]}"
    unknown_runners = sorted({j.runs_as for j in jobs if j.runs_as and j.runs_as.startswith("arn:")})
    for arn in unknown_runners:  # a job's role outside the collected accounts: known by its ARN only
        stub = Principal(id=arn.rsplit("/", 1)[-1] + "@" + (arn.split(":")[4] or "unknown"), arn=arn)
        stub.provenance = Provenance(source=SOURCE, location=f"aws: role of a training job ({arn})")
        principals.append(stub)
        for job in jobs:
            if job.runs_as == arn:
                job.runs_as = stub.id
    return InventoryDocument(
        version=1, accounts=accounts, stores=stores, principals=principals, jobs=jobs, kms_keys=keys
    )


def _unique_ids(principals: list[Principal]) -> list[Principal]:
    """Role names are unique per account; across accounts a clash gets the account added."""
    counts: dict[str, int] = {}
    for principal in principals:
        counts[principal.id] = counts.get(principal.id, 0) + 1
    for principal in principals:
        if counts[principal.id] > 1 and principal.arn:
            principal.id = f"{principal.id}@{principal.arn.split(':')[4]}"
    return principals
