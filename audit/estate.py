"""Build an AWS estate that mirrors a described inventory, in an emulator on this machine
(moto's server, LocalStack), and the overlay an auditor would write for it.

What AWS can hold goes into AWS: buckets (tags for classes, tenants and passed gates;
encryption with real KMS keys; public access blocks; TLS-only bucket policies; lifecycle;
versioning; logging; replication), IAM roles with the inventory's trust and identity
policies, plus inline policies granting exactly the described access (bucket policies and
key policies for the cross-account part), Glue tables for table stores and SageMaker jobs
for training jobs. What AWS cannot say goes into the overlay: account zones, tenants,
prefix-level classification, the ETL jobs and their gates, flows, and which described id
names which bucket or role.

``tenant-audit synth --aws-endpoint`` uses it to load a synthetic estate; the tests use it
to prove that auditing the live estate gives what auditing the inventory gives.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3

from audit.errors import UsageError
from audit.inventory import Inventory, arn_account
from audit.locations import s3_identity
from audit.model import Store

Session = Any
SessionFor = Callable[[str], Session]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
BUILDER_ROLE = "estate-builder"


def emulator_sessions(endpoint: str) -> SessionFor:
    """A session per account in the AWS emulator at ``endpoint``, which must be on this
    machine: an estate is only ever built in an emulator, never in a real account.

    The emulator gives a session in an account to whoever assumes a role there."""
    host = urlsplit(endpoint).hostname
    if host not in LOOPBACK:
        raise UsageError(
            f"{endpoint} is not an emulator on this machine: an estate is only built on loopback",
            "start moto's server (moto_server -p 5000) and give --aws-endpoint http://127.0.0.1:5000",
        )
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return account_sessions(sts)


def account_sessions(sts: Any) -> SessionFor:
    """A session per account, each got once by assuming a role there through ``sts`` (an
    emulator's: moto keys its accounts by the credentials it hands out)."""
    sessions: dict[str, Session] = {}

    def session_for(account: str) -> Session:
        if account not in sessions:
            credentials = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{BUILDER_ROLE}", RoleSessionName=BUILDER_ROLE
            )["Credentials"]
            sessions[account] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name="us-east-1",
            )
        return sessions[account]

    return session_for


def _bucket(store: Store) -> str:
    return _location(store).split("/")[2]


def _objects_arn(store: Store) -> str:
    return "arn:aws:s3:::" + _location(store).removeprefix("s3://") + "*"


def _location(store: Store) -> str:
    location = s3_identity(store.arn, store.location)
    if location is None:
        raise ValueError(f"store {store.id} is not in S3")
    return location


class EstateBuilder:
    def __init__(self, inventory: Inventory, session_for: SessionFor, endpoint: str | None = None) -> None:
        self.inventory = inventory
        self.session_for = session_for
        self.endpoint = endpoint  # None: the sessions' own (AWS_ENDPOINT_URL, moto in-process)
        self.keys: dict[str, str] = {}  # described key ARN -> created key ARN
        self.role_arns: dict[str, str] = {}
        self.log_buckets: set[str] = set()
        self.clients: dict[tuple[str, str], Any] = {}

    def client(self, account: str, service: str) -> Any:
        if (account, service) not in self.clients:
            self.clients[account, service] = self.session_for(account).client(service, endpoint_url=self.endpoint)
        return self.clients[account, service]

    def account_of(self, store: Store) -> str:
        account = self.inventory.account(store.account)
        if account is None:
            raise ValueError(f"store {store.id} is in no described account: give it 'account'")
        return account.id

    def principal_account(self, principal_id: str) -> str:
        principal = self.inventory.principals[principal_id]
        account = principal.account or arn_account(principal.arn)
        resolved = self.inventory.account(account)
        if resolved is None:
            raise ValueError(f"principal {principal_id} is in no described account: give it 'account' or an 'arn'")
        return resolved.id

    def build(self) -> dict[str, Any]:
        for principal in self.inventory.principals.values():
            self.role_arns[principal.id] = (
                principal.arn or f"arn:aws:iam::{self.principal_account(principal.id)}:role/{principal.id}"
            )
        self._keys()
        self._buckets()
        self._tables()
        self._roles()
        self._training_jobs()
        return self._overlay()

    # -- KMS -------------------------------------------------------------------------------

    def _users_of(self, store_ids: set[str]) -> set[str]:
        return {p.id for p in self.inventory.principals.values() if store_ids & set(p.can_read + p.can_write)}

    def _keys(self) -> None:
        by_key: dict[str, list[Store]] = {}
        for store in self.inventory.stores.values():
            if store.encryption == "aws:kms" and store.kms_key:
                by_key.setdefault(store.kms_key, []).append(store)
        for described, stores in sorted(by_key.items()):
            account = self.account_of(stores[0])
            outsiders = sorted(
                self.role_arns[p]
                for p in self._users_of({s.id for s in stores})
                if self.principal_account(p) != account
            )
            statements: list[dict[str, Any]] = [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
            if outsiders:
                statements.append(
                    {
                        "Sid": "CrossAccountUse",
                        "Effect": "Allow",
                        "Principal": {"AWS": outsiders},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": "*",
                    }
                )
            kms = self.client(account, "kms")
            key = kms.create_key(
                Description=described, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
            )
            self.keys[described] = key["KeyMetadata"]["Arn"]
            known = self.inventory.kms_keys.get(described)
            if known is None or known.rotation_enabled:
                kms.enable_key_rotation(KeyId=key["KeyMetadata"]["KeyId"])

    # -- S3 --------------------------------------------------------------------------------

    def _buckets(self) -> None:
        buckets: dict[str, list[Store]] = {}
        for store in self.inventory.stores.values():
            if s3_identity(store.arn, store.location):  # buckets, prefixes and tables' locations
                buckets.setdefault(_bucket(store), []).append(store)
        for name, stores in sorted(buckets.items()):
            whole = next((s for s in stores if s.kind == "s3-bucket"), None)
            s3 = self.client(self.account_of(stores[0]), "s3")
            s3.create_bucket(Bucket=name)
            # a bucket holding only prefixes (or a table's files) carries their settings, not their tags
            self._configure(s3, name, whole or stores[0], tags_too=whole is not None)
            self._policy(s3, name, stores, tls_only=(whole or stores[0]).tls_only)
        for store in self.inventory.stores.values():
            if store.replicates_to and store.kind == "s3-bucket":
                self._replication(store)

    def _configure(self, s3: Any, name: str, store: Store, tags_too: bool = True) -> None:
        tags = []
        if store.classes:
            tags.append({"Key": "data-class", "Value": ",".join(store.classes)})
        if store.tenant:
            tags.append({"Key": "tenant", "Value": store.tenant})
        if store.passed_gates:
            tags.append({"Key": "gate", "Value": ",".join(store.passed_gates)})
        if tags and tags_too:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
        if store.encryption in ("AES256", "aws:kms"):
            default: dict[str, str] = {"SSEAlgorithm": store.encryption}
            if store.encryption == "aws:kms" and store.kms_key:
                default["KMSMasterKeyID"] = self.keys[store.kms_key]
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
            )
        if store.public_access_blocked:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        lifecycle: dict[str, Any] = {}
        if store.retention_days is not None:
            lifecycle["Expiration"] = {"Days": store.retention_days}
        if store.noncurrent_retention_days is not None:
            lifecycle["NoncurrentVersionExpiration"] = {"NoncurrentDays": store.noncurrent_retention_days}
        if lifecycle:
            rule = {"ID": "retention", "Status": "Enabled", "Filter": {}, **lifecycle}
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})
        if store.versioning or store.replicates_to:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if store.public_acl:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
        if store.access_logging:
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={
                    "LoggingEnabled": {
                        "TargetBucket": self._log_bucket(s3, self.account_of(store)),
                        "TargetPrefix": f"{name}/",
                    }
                },
            )

    def _log_bucket(self, s3: Any, account: str) -> str:
        name = f"access-logs-{account}"
        if name not in self.log_buckets:
            s3.create_bucket(Bucket=name)
            log_delivery = 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"'
            s3.put_bucket_acl(Bucket=name, GrantWrite=log_delivery, GrantReadACP=log_delivery)
            self.log_buckets.add(name)
        return name

    def _policy(self, s3: Any, name: str, stores: list[Store], tls_only: bool | None) -> None:
        statements: list[dict[str, Any]] = [
            s for store in stores for s in (store.policy if isinstance(store.policy, dict) else {}).get("Statement", [])
        ]
        if tls_only:
            statements.append(
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            )
        account = self.account_of(stores[0])
        for store in stores:
            for action, field_name in (("s3:GetObject", "can_read"), ("s3:PutObject", "can_write")):
                outsiders = sorted(
                    self.role_arns[p.id]
                    for p in self.inventory.principals.values()
                    if store.id in getattr(p, field_name) and self.principal_account(p.id) != account
                )
                if outsiders:
                    statements.append(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": outsiders},
                            "Action": action,
                            "Resource": _objects_arn(store),
                        }
                    )
        if statements:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))

    def _replication(self, store: Store) -> None:
        account = self.account_of(store)
        rules = [
            {
                "ID": f"to-{target}",
                "Status": "Enabled",
                "Priority": index,
                "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{_bucket(self.inventory.stores[target])}"},
            }
            for index, target in enumerate(store.replicates_to)
        ]
        self.client(account, "s3").put_bucket_replication(
            Bucket=_bucket(store),
            ReplicationConfiguration={"Role": f"arn:aws:iam::{account}:role/replication", "Rules": rules},
        )

    def _tables(self) -> None:
        for store in self.inventory.stores.values():
            if store.kind != "table" or not store.location:
                continue
            glue = self.client(self.account_of(store), "glue")
            # arn:aws:glue:REGION:ACCOUNT:table/DATABASE/TABLE
            database, table = (store.arn or f"table/analytics/{store.id}").split(":table/", 1)[-1].split("/", 1)
            with contextlib.suppress(glue.exceptions.AlreadyExistsException):
                glue.create_database(DatabaseInput={"Name": database})
            glue.create_table(
                DatabaseName=database,
                TableInput={
                    "Name": table,
                    "StorageDescriptor": {"Location": store.location},
                    "Parameters": {"data-class": ",".join(store.classes)} if store.classes else {},
                },
            )

    # -- IAM -------------------------------------------------------------------------------

    def _roles(self) -> None:
        for principal in self.inventory.principals.values():
            account = self.principal_account(principal.id)
            iam = self.client(account, "iam")
            trusted: dict[str, list[str]] = {"Service": [], "AWS": []}
            for entry in principal.trusts:
                if entry in self.inventory.principals:
                    trusted["AWS"].append(self.role_arns[entry])
                elif entry == "*":
                    trusted["AWS"].append("*")
                elif entry.endswith(".amazonaws.com"):
                    trusted["Service"].append(entry)
                else:
                    trusted["AWS"].append(entry)
            trust = principal.trust_policy or {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {k: v for k, v in trusted.items() if v},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            tags = [{"Key": "tenant", "Value": principal.tenant}] if principal.tenant else []
            if principal.gate:
                tags.append({"Key": "gate", "Value": ",".join(principal.gate)})
            name = self.role_arns[principal.id].rsplit("/", 1)[-1]
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)
            statements = []
            for action, kms_action, store_ids in (
                ("s3:GetObject", "kms:Decrypt", principal.can_read),
                ("s3:PutObject", "kms:GenerateDataKey", principal.can_write),
            ):
                stores = [self.inventory.stores[s] for s in store_ids]
                if stores:
                    statements.append(
                        {"Effect": "Allow", "Action": action, "Resource": sorted({_objects_arn(s) for s in stores})}
                    )
                keys = sorted({self.keys[s.kms_key] for s in stores if s.kms_key in self.keys})
                if keys:
                    statements.append({"Effect": "Allow", "Action": kms_action, "Resource": keys})
            if statements:
                iam.put_role_policy(
                    RoleName=name,
                    PolicyName="data-access",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
                )
            for index, document in enumerate(principal.policies):
                iam.put_role_policy(RoleName=name, PolicyName=f"policy-{index}", PolicyDocument=json.dumps(document))

    # -- training jobs ------------------------------------------------------------------------

    def _training_jobs(self) -> None:
        for job in self.inventory.jobs.values():
            if job.kind != "training" or job.runs_as is None:
                continue
            sagemaker = self.client(self.principal_account(job.runs_as), "sagemaker")
            inputs = [
                {
                    "ChannelName": f"c{i}",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": s3_identity(self.inventory.stores[s].arn, self.inventory.stores[s].location),
                        }
                    },
                }
                for i, s in enumerate(job.reads)
            ]
            output = self.inventory.stores[job.writes[0]] if job.writes else None
            sagemaker.create_training_job(
                TrainingJobName=job.id,
                RoleArn=self.role_arns[job.runs_as],
                AlgorithmSpecification={"TrainingImage": "example/trainer:latest", "TrainingInputMode": "File"},
                InputDataConfig=inputs,
                OutputDataConfig={"S3OutputPath": s3_identity(output.arn, output.location) if output else "s3://none/"},
                ResourceConfig={"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100},
                StoppingCondition={"MaxRuntimeInSeconds": 86400},
            )

    # -- the overlay ------------------------------------------------------------------------------

    def _overlay(self) -> dict[str, Any]:
        inventory = self.inventory
        stores: list[dict[str, Any]] = []
        for store in inventory.stores.values():
            entry: dict[str, Any] = {"id": store.id}
            if store.kind == "table":
                entry["location"] = store.location
            else:
                entry["arn"] = store.arn
            if store.kind == "s3-prefix":  # tags are per bucket: a prefix is classified by the auditor
                entry.update(
                    {
                        k: v
                        for k, v in (
                            ("classes", store.classes),
                            ("tenant", store.tenant),
                            ("passed_gates", store.passed_gates),
                        )
                        if v
                    }
                )
            stores.append(entry)
        jobs = [
            job.model_dump(by_alias=True, exclude={"provenance"}, exclude_defaults=True)
            for job in inventory.jobs.values()
            if job.kind != "training"
        ]
        return {
            "version": 1,
            "organisation": inventory.organisation,
            "accounts": [{"id": a.id, "name": a.name, "zone": a.zone} for a in inventory.accounts.values()],
            "data_classes": {
                name: c.model_dump(exclude={"provenance"}, exclude_unset=True)
                for name, c in inventory.data_classes.items()
                if c.provenance is not None
            },
            "tenants": [
                t.model_dump(exclude={"provenance"}, exclude_defaults=True) for t in inventory.tenants.values()
            ],
            "stores": stores,
            "principals": [{"id": p.id, "arn": self.role_arns[p.id]} for p in inventory.principals.values()],
            "jobs": jobs,
            "flows": [
                f.model_dump(by_alias=True, exclude={"provenance"}, exclude_defaults=True) for f in inventory.flows
            ],
        }
