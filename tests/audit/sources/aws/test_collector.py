"""The collector against moto: what it reads, that it never writes, and how faults become
coverage gaps instead of crashes or silent passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

import audit.sources.aws.collector as collector_module
from audit.engine import AuditConfig, run_audit
from audit.graph.build import build_graph
from audit.sources.aws import AccountTarget, AwsOptions, collect
from audit.sources.aws.session import ReadOnlyViolation, read_only_session
from audit.sources.aws.tags import TagMapping
from checks import SUITES_DIR, load_registry

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def stores_of(options: AwsOptions | None = None) -> dict[str, Any]:
    return {s.id: s for s in collect(options or AwsOptions()).document.stores}


# ---- read-only --------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("s3", "create_bucket", {"Bucket": "new-bucket"}),
        ("s3", "put_bucket_policy", {"Bucket": "existing", "Policy": "{}"}),
        ("s3", "delete_bucket", {"Bucket": "existing"}),
        ("iam", "create_role", {"RoleName": "x", "AssumeRolePolicyDocument": TRUST}),
        ("kms", "create_key", {}),
        ("sagemaker", "stop_training_job", {"TrainingJobName": "t"}),
    ],
)
def test_the_collector_session_refuses_every_write(service: str, call: str, kwargs: dict[str, Any]) -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    guarded = read_only_session().client(service, region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation, match=f"refused to call .*{call.title().replace('_', '')}"):
        getattr(guarded, call)(**kwargs)
    # nothing reached the estate
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["existing"]
    assert boto3.client("iam").list_roles()["Roles"] == []


@pytest.mark.usefixtures("aws")
def test_reads_pass_the_guard() -> None:
    boto3.client("s3").create_bucket(Bucket="existing")
    guarded = read_only_session().client("s3", region_name="us-east-1")
    assert guarded.list_buckets()["Buckets"][0]["Name"] == "existing"
    assert guarded.get_bucket_location(Bucket="existing")["ResponseMetadata"]["HTTPStatusCode"] == 200


# ---- what is read ------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_bucket_facts() -> None:
    s3 = boto3.client("s3")
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]
    s3.create_bucket(Bucket="api-requests")
    s3.put_bucket_tagging(
        Bucket="api-requests",
        Tagging={
            "TagSet": [
                {"Key": "data-class", "Value": "commercial-api, feedback"},
                {"Key": "tenant", "Value": "acme"},
                {"Key": "gate", "Value": "de-link"},
            ]
        },
    )
    s3.put_bucket_encryption(
        Bucket="api-requests",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]}}
            ]
        },
    )
    s3.put_public_access_block(
        Bucket="api-requests",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket="api-requests",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::api-requests/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket="api-requests",
        LifecycleConfiguration={
            "Rules": [
                {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}},
                {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
            ]
        },
    )
    s3.put_bucket_versioning(Bucket="api-requests", VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket="replica")
    s3.put_bucket_replication(
        Bucket="api-requests",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "r",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::replica"},
                }
            ],
        },
    )
    s3.create_bucket(Bucket="public-site")
    s3.put_bucket_acl(Bucket="public-site", ACL="public-read")
    s3.put_bucket_lifecycle_configuration(
        Bucket="public-site",
        LifecycleConfiguration={
            "Rules": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]
        },
    )

    stores = stores_of()
    api = stores["api-requests"]
    assert api.classes == ["commercial-api", "feedback"]
    assert (api.tenant, api.passed_gates) == ("acme", ["de-link"])
    assert api.encryption == "aws:kms"
    assert api.kms_key == key["Arn"]
    assert api.public_access_blocked is True
    assert api.tls_only is True
    assert api.retention_days == 30
    assert api.versioning is True
    assert api.replicates_to == ["s3://replica/"]
    assert api.public_acl is False
    site = stores["public-site"]
    assert site.public_acl is True
    assert site.public_access_blocked is False
    assert site.retention_days is None  # a prefix rule does not expire the whole bucket
    assert site.tls_only is False
    assert "classes" not in site.model_fields_set  # untagged: unclassified, not "no classes"
    assert api.provenance is not None
    assert api.provenance.at("classes").endswith("GetBucketTagging")


@pytest.mark.usefixtures("aws")
def test_account_public_access_block_counts() -> None:
    boto3.client("s3").create_bucket(Bucket="plain")
    boto3.client("s3control").put_public_access_block(
        AccountId="123456789012",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    assert stores_of()["plain"].public_access_blocked is True


@pytest.mark.usefixtures("aws")
def test_custom_tag_keys() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "classification", "Value": "enterprise"}]})
    assert "classes" not in stores_of()["tagged"].model_fields_set
    mapping = TagMapping.parse("data-class=classification")
    assert stores_of(AwsOptions(tags=mapping))["tagged"].classes == ["enterprise"]


@pytest.mark.usefixtures("aws")
def test_iam_principals_users_groups_boundaries_and_tags() -> None:
    iam = boto3.client("iam")
    read = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    managed = iam.create_policy(PolicyName="read-all", PolicyDocument=read)["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=read)["Policy"]["Arn"]
    iam.create_role(
        RoleName="trainer",
        AssumeRolePolicyDocument=TRUST,
        PermissionsBoundary=boundary,
        Tags=[{"Key": "gate", "Value": "pii-scrub"}, {"Key": "tenant", "Value": "acme"}],
    )
    iam.put_role_policy(RoleName="trainer", PolicyName="inline", PolicyDocument=read)
    iam.attach_role_policy(RoleName="trainer", PolicyArn=managed)
    iam.create_group(GroupName="analysts")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=managed)
    iam.create_user(UserName="alice")
    iam.add_user_to_group(GroupName="analysts", UserName="alice")

    principals = {p.id: p for p in collect(AwsOptions()).document.principals}
    trainer, alice = principals["trainer"], principals["alice"]
    assert len(trainer.policies) == 2
    assert trainer.permission_boundary is not None
    assert trainer.trust_policy["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert (trainer.gate, trainer.tenant) == (["pii-scrub"], "acme")
    assert alice.kind == "user"
    assert len(alice.policies) == 1
    assert trainer.provenance is not None
    assert "inline policy inline" in trainer.provenance.at("policies[0]")
    assert "via group/analysts managed policy" in alice.provenance.at("policies[0]")


@pytest.mark.usefixtures("aws")
def test_service_control_policies_are_collected_per_level() -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    unit = org.create_organizational_unit(ParentId=root, Name="ml")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email="ml@example.com", AccountName="ml")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit)
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject*", "Resource": "*"},
            ],
        }
    )
    policy = org.create_policy(Name="no-reads", Type="SERVICE_CONTROL_POLICY", Content=deny, Description="d")
    org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=unit)
    options = AwsOptions(accounts=(AccountTarget("123456789012"), AccountTarget(member)), assume_role="auditor")
    accounts = {a.id: a for a in collect(options).document.accounts}
    assert accounts["123456789012"].scps == []  # the management account: SCPs do not apply
    levels = accounts[member].scps
    assert levels is not None
    assert [level.target for level in levels] == [root, unit, member]
    assert any("s3:GetObject*" in json.dumps(p) for p in levels[1].policies)


@pytest.mark.usefixtures("aws")
def test_training_jobs_are_sinks_and_unknown_inputs_become_stub_stores() -> None:
    boto3.client("iam").create_role(RoleName="trainer", AssumeRolePolicyDocument=TRUST)
    boto3.client("s3").create_bucket(Bucket="pretrain-mix")
    boto3.client("sagemaker").create_training_job(
        TrainingJobName="nightly",
        RoleArn="arn:aws:iam::123456789012:role/trainer",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://pretrain-mix/2026/"}},
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://checkpoints/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    boto3.client("bedrock").create_model_customization_job(
        jobName="tune",
        customModelName="m",
        roleArn="arn:aws:iam::123456789012:role/trainer",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://vendor-data/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://checkpoints/tune/"},
        hyperParameters={},
    )
    from audit.sources import SourceOptions, load_inventory

    inventory = load_inventory(["aws"], SourceOptions())
    nightly, tune = inventory.jobs["nightly"], inventory.jobs["tune"]
    assert (nightly.kind, nightly.runs_as, nightly.reads) == ("training", "trainer", ["pretrain-mix"])
    assert tune.reads == ["vendor-data"]
    stub = inventory.stores["vendor-data"]
    assert stub.classes == []
    assert "not described by any source" in stub.description


# ---- faults --------------------------------------------------------------------------------------


def inject(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    """Register a handler on every client the collector makes."""
    real = collector_module.client

    def client(session: Any, service: str) -> Any:
        made = real(session, service)
        made.meta.events.register(event, handler)
        return made

    monkeypatch.setattr(collector_module, "client", client)


def audit_aws(**options: Any) -> Any:
    from audit.sources import SourceOptions

    config = AuditConfig(
        sources=("aws",), suites_dir=SUITES_DIR, source_options=SourceOptions(aws=AwsOptions(**options))
    )
    return run_audit(config, load_registry(plugins=False).checks)


@pytest.mark.usefixtures("aws")
def test_access_denied_on_one_bucket_is_a_gap_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3")
    for name in ("open-bucket", "secret-bucket"):
        s3.create_bucket(Bucket=name)

    def deny(params: dict[str, Any], **_: Any) -> None:
        if params.get("Bucket") == "secret-bucket":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketPolicy")

    inject(monkeypatch, "before-parameter-build.s3.GetBucketPolicy", deny)
    report = audit_aws()
    gaps = [g for g in report.coverage.gaps if g.scope == "store:secret-bucket"]
    assert len(gaps) == 1
    assert "s3:GetBucketPolicy on secret-bucket failed in account 123456789012: AccessDenied" in gaps[0].reason
    assert all(c.verdict == "insufficient-evidence" for c in report.claims)


@pytest.mark.usefixtures("aws")
def test_unreadable_iam_is_a_gap_for_every_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetAccountAuthorizationDetails")

    inject(monkeypatch, "before-call.iam.GetAccountAuthorizationDetails", deny)
    report = audit_aws()
    (gap,) = [g for g in report.coverage.gaps if "GetAccountAuthorizationDetails" in g.reason]
    assert gap.claim_ids == [f"C{i}" for i in range(1, 13)]


@pytest.mark.usefixtures("aws")
def test_throttling_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("s3").create_bucket(Bucket="busy")
    attempts: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if "tagging" in request.url:
            attempts.append(request.url)
            if len(attempts) <= 2:
                return AWSResponse(request.url, 503, {}, _Raw(b"<Error><Code>SlowDown</Code></Error>"))
        return None

    inject(monkeypatch, "before-send.s3.GetBucketTagging", throttle)
    collected = collect(AwsOptions())
    assert len(attempts) == 3
    assert collected.gaps == []


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@pytest.mark.usefixtures("aws")
def test_an_account_that_cannot_be_entered_is_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.sources.aws import collector

    def refuse(*_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorised"}}, "AssumeRole")

    monkeypatch.setattr(collector, "assume", refuse)
    report = audit_aws(accounts=(AccountTarget("444444444444"),), assume_role="auditor")
    (gap,) = [g for g in report.coverage.gaps if g.scope == "account:444444444444"]
    assert "cannot assume auditor" in gap.reason
    assert report.summary.verdict == "incomplete"


def test_missing_profile_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tests.conftest import invoke

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    result = invoke("run", "aws:nope", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "no AWS profile named 'nope'" in result.stderr
    assert not (tmp_path / "out").exists()


# ---- the auditor role's policy covers exactly what the collector calls ------------------------

IAM_ACTION = {  # API operations whose IAM action is spelled differently
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("sts", "GetCallerIdentity"): None,  # needs no permission
}


@pytest.mark.usefixtures("aws")
def test_the_documented_auditor_policy_allows_every_call_the_collector_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    import audit.sources.aws.session as session_module

    calls: set[tuple[str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        calls.add((model.service_model.service_name, model.name))

    real = session_module.read_only_session

    def recording(*args: Any, **kwargs: Any) -> Any:
        session = real(*args, **kwargs)
        session.events.register("before-call", record)
        return session

    monkeypatch.setattr(session_module, "read_only_session", recording)
    monkeypatch.setattr(collector_module, "read_only_session", recording)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bucket-one")
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(
        Bucket="bucket-one",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
        },
    )
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    boto3.client("glue").create_database(DatabaseInput={"Name": "d"})
    boto3.client("iam").create_role(RoleName="trainer", AssumeRolePolicyDocument=TRUST)
    boto3.client("sagemaker").create_training_job(
        TrainingJobName="t",
        RoleArn="arn:aws:iam::123456789012:role/trainer",
        AlgorithmSpecification={"TrainingImage": "i", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://bucket-one/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 1},
    )
    boto3.client("bedrock").create_model_customization_job(
        jobName="j",
        customModelName="m",
        roleArn="arn:aws:iam::123456789012:role/trainer",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://bucket-one/t"},
        outputDataConfig={"s3Uri": "s3://bucket-one/o"},
        hyperParameters={},
    )
    collect(AwsOptions(accounts=(AccountTarget("123456789012"),), assume_role="auditor"))

    policy_file = Path(collector_module.__file__).parent / "auditor-policy.json"
    allowed = set(json.loads(policy_file.read_text())["Statement"][0]["Action"])
    needed = {IAM_ACTION.get(call, f"{call[0]}:{call[1]}") for call in calls} - {None, "sts:AssumeRole"}
    assert needed == allowed, f"missing: {needed - allowed}; unused: {allowed - needed}"


def test_a_replication_rule_filtered_to_a_prefix_moves_only_that_part() -> None:
    """A bucket replicating only its ``logs/`` prefix does not carry the API prefix store
    inside it to the replica; a rule without a filter, or with a tag filter, does (issue 17:
    containment). Canned GetBucketReplication answers: moto drops a rule's Filter prefix."""
    from audit.graph.rules import no_path
    from audit.merge import merge_documents
    from audit.model import Account, InventoryDocument, Provenance, Store
    from audit.sources.aws.fetch import FAILED
    from audit.sources.aws.s3 import transform_bucket

    def raw(rule_filter: dict[str, Any]) -> dict[str, Any]:
        rule = {"Status": "Enabled", "Filter": rule_filter, "Destination": {"Bucket": "arn:aws:s3:::replica"}}
        facts: dict[str, Any] = dict.fromkeys(
            ("tags", "encryption", "public_access_block", "policy", "acl", "lifecycle", "logging", "versioning"),
            FAILED,  # not collected: left unknown
        )
        return {"name": "lake", **facts, "replication": {"ReplicationConfiguration": {"Rules": [rule]}}}

    def paths(rule_filter: dict[str, Any]) -> list[list[str]]:
        lake = transform_bucket(raw(rule_filter), "111111111111", TagMapping())
        inner = Store(id="lake-api", kind="s3-prefix", arn="arn:aws:s3:::lake/api/*", classes=["commercial-api"])
        replica = Store(id="replica", kind="s3-bucket", arn="arn:aws:s3:::replica", classes=["training"])
        for store in (inner, replica):
            store.provenance = Provenance(source="test", location=f"test:{store.id}")
        account = Account(id="111111111111", name="serving", zone="serving")
        account.provenance = Provenance(source="test", location="test:account")
        document = InventoryDocument(version=1, accounts=[account], stores=[lake, inner, replica])
        graph = build_graph(merge_documents([document]))
        found = no_path(graph, graph.class_store_ids(["commercial-api"]), graph.training_sinks())
        return [[hop.entity for hop in v.path] for v in found]

    lake = transform_bucket(raw({"Prefix": "logs/"}), "111111111111", TagMapping())
    assert lake.provenance is not None
    assert lake.provenance.scopes == {"replicates_to[0]": "s3://lake/logs/"}
    assert paths({"Prefix": "logs/"}) == []
    assert paths({"And": {"Prefix": "api/2026/"}}) == [["lake-api", "lake", "replica"]]  # inside the prefix store
    assert paths({}) == [["lake-api", "lake", "replica"]]
    assert paths({"Tag": {"Key": "k", "Value": "v"}}) == [["lake-api", "lake", "replica"]]
