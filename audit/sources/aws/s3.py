"""S3 buckets: tags, encryption, public access, policy, ACL, lifecycle, replication,
logging and versioning. ``get_bucket`` does the calls; ``transform_bucket`` is pure."""

from __future__ import annotations

import json
from typing import Any

from audit.iam.transport import enforces_tls
from audit.model import LifecycleRule, Provenance, Store
from audit.sources.aws.fetch import FAILED, MISSING, Fetcher
from audit.sources.aws.tags import TagMapping, tag_dict, values

PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def list_buckets(fetcher: Fetcher, s3: Any) -> list[str] | Any:
    result = fetcher.call(f"account:{fetcher.account}", "s3:ListBuckets", s3.list_buckets)
    if result in (FAILED, MISSING):
        return FAILED
    return [b["Name"] for b in result.get("Buckets", [])]


def account_public_access_block(fetcher: Fetcher, s3control: Any) -> Any:
    result = fetcher.call(
        f"account:{fetcher.account}",
        "s3control:GetPublicAccessBlock",
        s3control.get_public_access_block,
        AccountId=fetcher.account,
        missing=("NoSuchPublicAccessBlockConfiguration",),
        checks=("EXP-*", "ISO-*"),
    )
    return result if result in (FAILED, MISSING) else result.get("PublicAccessBlockConfiguration", {})


def get_bucket(fetcher: Fetcher, s3: Any, name: str) -> dict[str, Any]:
    """Every fact about one bucket, each value raw, MISSING or FAILED."""
    scope = f"store:{name}"

    def call(what: str, function: Any, missing: tuple[str, ...] = ()) -> Any:
        return fetcher.call(scope, f"s3:{what} on {name}", function, Bucket=name, missing=missing)

    location = call("GetBucketLocation", s3.get_bucket_location)
    return {
        "name": name,
        "region": (location.get("LocationConstraint") or "us-east-1") if isinstance(location, dict) else None,
        "tags": call("GetBucketTagging", s3.get_bucket_tagging, ("NoSuchTagSet",)),
        "encryption": call(
            "GetBucketEncryption", s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",)
        ),
        "public_access_block": call(
            "GetPublicAccessBlock", s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",)
        ),
        "policy": call("GetBucketPolicy", s3.get_bucket_policy, ("NoSuchBucketPolicy",)),
        "acl": call("GetBucketAcl", s3.get_bucket_acl),
        "lifecycle": call(
            "GetBucketLifecycleConfiguration", s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",)
        ),
        "replication": call(
            "GetBucketReplication", s3.get_bucket_replication, ("ReplicationConfigurationNotFoundError",)
        ),
        "logging": call("GetBucketLogging", s3.get_bucket_logging),
        "versioning": call("GetBucketVersioning", s3.get_bucket_versioning),
    }


def _known(value: Any) -> bool:
    return value is not FAILED


def transform_bucket(raw: dict[str, Any], account: str, mapping: TagMapping, account_pab: Any = MISSING) -> Store:
    """One bucket's raw facts as a Store. Facts whose call failed are left unset (unknown)."""
    name = raw["name"]
    where = f"aws:{account}:s3:{name}"
    fields: dict[str, Any] = {"id": name, "kind": "s3-bucket", "arn": f"arn:aws:s3:::{name}", "account": account}
    locations: dict[str, str] = {}

    def stated(field_name: str, value: Any, call: str) -> None:
        fields[field_name] = value
        locations[field_name] = f"{where} {call}"

    if _known(raw["tags"]):
        for field_name, value in _classification(raw["tags"], mapping).items():
            stated(field_name, value, "GetBucketTagging")
    if _known(raw["encryption"]):
        algorithm, key = _encryption(raw["encryption"], raw.get("region") or "us-east-1", account)
        stated("encryption", algorithm, "GetBucketEncryption")
        if key:
            stated("kms_key", key, "GetBucketEncryption")
    if _known(raw["public_access_block"]) and _known(account_pab):
        stated("public_access_blocked", _blocked(raw["public_access_block"], account_pab), "GetPublicAccessBlock")
    policy = raw["policy"]
    if _known(policy):
        document = json.loads(policy["Policy"]) if policy is not MISSING else None
        # NoSuchBucketPolicy: the bucket is known to have none (not unknown)
        stated("policy", document if document is not None else "none", "GetBucketPolicy")
        tls_only = enforces_tls(document, f"arn:aws:s3:::{name}/")
        if tls_only is not None:  # None: a policy that is not IAM JSON (the access deriver reports it)
            stated("tls_only", tls_only, "GetBucketPolicy")
    if _known(raw["acl"]):
        stated("public_acl", _public_acl(raw["acl"]), "GetBucketAcl")
    if _known(raw["lifecycle"]):
        rules = _lifecycle_rules(raw["lifecycle"])
        whole = [r for r in rules if r.prefix == ""]
        expirations = [r.expiration_days for r in whole if r.expiration_days is not None]
        noncurrent = [r.noncurrent_days for r in whole if r.noncurrent_days is not None]
        stated("retention_days", min(expirations) if expirations else None, "GetBucketLifecycleConfiguration")
        stated("noncurrent_retention_days", min(noncurrent) if noncurrent else None, "GetBucketLifecycleConfiguration")
        if rules:
            stated("lifecycle", rules, "GetBucketLifecycleConfiguration")
    scopes: dict[str, str] = {}
    if _known(raw["replication"]):
        replicated = _replication_targets(raw["replication"], name)
        if replicated:
            stated("replicates_to", list(replicated), "GetBucketReplication")
            # a rule filtered to a prefix replicates that part of the bucket only
            scopes = {f"replicates_to[{i}]": part for i, part in enumerate(replicated.values()) if part}
    if _known(raw["logging"]):
        stated("access_logging", "LoggingEnabled" in raw["logging"], "GetBucketLogging")
    if _known(raw["versioning"]):
        stated("versioning", raw["versioning"].get("Status") == "Enabled", "GetBucketVersioning")
    for field_name in ("classes", "passed_gates", "replicates_to"):
        for index in range(len(fields.get(field_name, []))):
            locations[f"{field_name}[{index}]"] = locations[field_name]
    store = Store(**fields)
    store.provenance = Provenance(source="aws", location=where, fields=locations, scopes=scopes)
    return store


def _classification(tags: Any, mapping: TagMapping) -> dict[str, Any]:
    """classes, tenant and passed gates from the bucket's tags (only those present)."""
    tag_map = tag_dict(tags.get("TagSet")) if tags is not MISSING else {}
    found: dict[str, Any] = {}
    if values(tag_map, mapping.data_class):
        found["classes"] = values(tag_map, mapping.data_class)
    if values(tag_map, mapping.tenant):
        found["tenant"] = values(tag_map, mapping.tenant)[0]
    if values(tag_map, mapping.gate):
        found["passed_gates"] = values(tag_map, mapping.gate)
    return found


def _encryption(response: Any, region: str, account: str) -> tuple[str, str | None]:
    if response is MISSING:
        return "none", None
    rules = response.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm is None:
        return "none", None
    if not str(algorithm).startswith("aws:kms"):
        return "AES256", None
    key = default.get("KMSMasterKeyID")
    if key and not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{account}:{key if key.startswith('alias/') else 'key/' + key}"
    return "aws:kms", key


def _blocked(bucket_pab: Any, account_pab: Any) -> bool:
    """Public grants are ineffective only when all four flags hold (bucket or account)."""
    bucket = bucket_pab.get("PublicAccessBlockConfiguration", {}) if bucket_pab is not MISSING else {}
    account = account_pab if account_pab is not MISSING else {}
    return all(bucket.get(flag) or account.get(flag) for flag in PAB_FLAGS)


def _public_acl(acl: Any) -> bool:
    return any(
        grant.get("Grantee", {}).get("URI") in PUBLIC_GROUPS and grant.get("Permission") in ("READ", "FULL_CONTROL")
        for grant in acl.get("Grants", [])
    )


def _lifecycle_rules(lifecycle: Any) -> list[LifecycleRule]:
    """The enabled expiration rules, by prefix (an empty prefix covers the whole bucket).

    Rules filtered by tags or object size cover only some objects: they are left out, so
    the objects they do not cover count as kept (the sound reading for retention).
    """
    if lifecycle is MISSING:
        return []
    rules = []
    for rule in lifecycle.get("Rules", []):
        if rule.get("Status") != "Enabled":
            continue
        rule_filter = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
        if set(rule_filter) - {"Prefix"}:
            continue
        expiration = rule.get("Expiration", {}).get("Days")
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        if expiration is None and noncurrent is None:
            continue
        rules.append(
            LifecycleRule(prefix=rule_filter.get("Prefix", ""), expiration_days=expiration, noncurrent_days=noncurrent)
        )
    return rules


def _replication_targets(replication: Any, bucket: str) -> dict[str, str | None]:
    """Each destination of an enabled rule, with the part of the bucket it replicates: the
    rule's prefix filter as ``s3://bucket/prefix``, or None for the whole bucket (no prefix,
    a tag filter, or several rules to one destination)."""
    if replication is MISSING:
        return {}
    targets: dict[str, str | None] = {}
    for rule in replication.get("ReplicationConfiguration", {}).get("Rules", []):
        if rule.get("Status") != "Enabled":
            continue
        target = "s3://" + rule.get("Destination", {}).get("Bucket", "").removeprefix("arn:aws:s3:::") + "/"
        found = rule.get("Filter")
        selector: dict[str, Any] = found if isinstance(found, dict) else {}
        inner = selector.get("And")
        both: dict[str, Any] = inner if isinstance(inner, dict) else {}
        prefix = selector.get("Prefix", both.get("Prefix", rule.get("Prefix", "")))
        tagged = "Tag" in selector or bool(both.get("Tags"))
        part = f"s3://{bucket}/{prefix}" if isinstance(prefix, str) and prefix and not tagged else None
        targets[target] = None if target in targets else part  # two rules to one destination: the whole
    return targets
