"""The Terraform source: the estate a plan will create, for gating changes in CI.

``terraform show -json plan.out > plan.json`` gives ``planned_values`` (the resources as
they will be), ``resource_changes`` (what is unknown until apply) and ``configuration``
(which resource each expression refers to). Buckets with their split-out configuration
resources, IAM roles, users, groups and their policies, KMS keys, Bedrock customisation
jobs and Glue tables become inventory entities that cite their resource address.
Unknown-until-apply values are read soundly (see :mod:`.policies`) or left unknown (so
the checks that need them report a gap), and every such decision is reported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.iam.transport import enforces_tls, object_prefix
from audit.inventory import InputRecord, arn_account
from audit.locations import s3_identity
from audit.model import InventoryDocument, Job, KmsKey, LifecycleRule, Principal, Provenance, Store
from audit.sources.aws.tags import TagMapping, tag_dict, values
from audit.sources.terraform.plan import Plan, Resource
from audit.sources.terraform.policies import document, parse_json
from audit.yamlfile import ParseFailure, decode

SOURCE = "terraform"
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PAB_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


def looks_like(data: Any) -> bool:
    return (
        isinstance(data, dict) and "format_version" in data and ("planned_values" in data or "resource_changes" in data)
    )


@dataclass
class Loaded:
    document: InventoryDocument
    record: InputRecord
    gaps: list[CoverageGap]


def read(path: Path) -> dict[str, Any]:
    """The plan as JSON; an InputError naming the line when it is not a plan at all."""
    filename = str(path)
    raw = path.read_bytes()
    try:
        text = decode(raw, filename)
    except ParseFailure as exc:
        raise InputError(exc.problems) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    filename,
                    exc.lineno,
                    "",
                    f"not valid JSON: {exc.msg}",
                    "write the plan with 'terraform show -json plan.out > plan.json'",
                )
            ]
        ) from None
    if not looks_like(data):
        raise InputError(
            [
                Problem(
                    filename,
                    1,
                    "",
                    "not a Terraform plan: no planned_values or resource_changes",
                    "write the plan with 'terraform show -json plan.out > plan.json' (a state file "
                    "from 'terraform show -json' without a plan is not a plan)",
                )
            ]
        )
    return data  # type: ignore[no-any-return]


def load(path: Path, mapping: TagMapping | None = None) -> Loaded:
    return transform(read(path), str(path), hashlib.sha256(path.read_bytes()).hexdigest(), mapping)


def transform(data: dict[str, Any], filename: str, digest: str, mapping: TagMapping | None = None) -> Loaded:
    builder = _Builder(Plan(data), filename, mapping or TagMapping())
    return Loaded(builder.build(), InputRecord(SOURCE, filename, digest), builder.gaps)


@dataclass
class _Draft:
    address: str
    fields: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)


class _Builder:
    def __init__(self, plan: Plan, filename: str, mapping: TagMapping) -> None:
        self.plan = plan
        self.filename = filename
        self.mapping = mapping
        self.gaps: list[CoverageGap] = []
        self.buckets: dict[str, _Draft] = {}  # by bucket address
        self.bucket_names: dict[str, str] = {}  # bucket name -> address
        self.principals: dict[str, _Draft] = {}
        self.groups: dict[str, _Draft] = {}
        self.keys: dict[str, _Draft] = {}
        self.managed: dict[str, dict[str, Any] | None] = {}  # policy ARN or address -> document
        self.jobs: list[Job] = []
        self.stores: list[Store] = []

    def at(self, resource: Resource) -> str:
        return f"{self.filename} {resource.address}"

    def note(self, scope: str, reason: str, checks: tuple[str, ...] = ()) -> None:
        self.gaps.append(CoverageGap(scope=scope, reason=f"{reason} ({self.filename})", checks=checks))

    def build(self) -> InventoryDocument:
        self._keys()
        self._buckets()
        self._bucket_settings()
        self._managed_policies()
        self._principals()
        self._principal_policies()
        self._jobs_and_tables()
        stores = [self._store(d) for d in self.buckets.values()] + self.stores
        principals = [self._principal(d) for d in self.principals.values()]
        keys = [self._key(d) for d in self.keys.values()]
        return InventoryDocument(version=1, stores=stores, principals=principals, kms_keys=keys, jobs=self.jobs)

    # -- KMS ---------------------------------------------------------------------------------

    def _keys(self) -> None:
        for key in self.plan.of_type("aws_kms_key"):
            arn = (
                key.get("arn")
                if not key.is_unknown("arn") and key.get("arn")
                else (f"arn:aws:kms:planned::key/{key.address}")
            )
            draft = _Draft(key.address, {"arn": arn}, {"arn": self.at(key)})
            policy, notes = document(self.plan, key, "policy")
            for note in notes:
                self.note(f"kms:{arn}", note)
            if policy is not None:
                draft.fields["policy"], draft.locations["policy"] = policy, self.at(key)
            rotation = key.get("enable_key_rotation")
            if not key.is_unknown("enable_key_rotation") and rotation is not None:
                draft.fields["rotation_enabled"] = bool(rotation)
                draft.locations["rotation_enabled"] = self.at(key)
            self.keys[key.address] = draft

    def _key_arn(self, owner: Resource, attribute: str, value: Any) -> str | None:
        target = self.plan.referenced(owner, attribute, "aws_kms_key")
        if target is not None and target.address in self.keys:
            return str(self.keys[target.address].fields["arn"])
        return str(value) if value else None

    # -- S3 --------------------------------------------------------------------------------

    def _buckets(self) -> None:
        for bucket in sorted(self.plan.of_type("aws_s3_bucket"), key=lambda r: r.address):
            name = bucket.get("bucket") if not bucket.is_unknown("bucket") else None
            draft = _Draft(bucket.address, {"kind": "s3-bucket"}, {})
            if name and name not in self.bucket_names:
                draft.fields.update(id=name, arn=f"arn:aws:s3:::{name}")
                self.bucket_names[name] = bucket.address
            else:
                draft.fields["id"] = bucket.address
                if name:
                    draft.fields["arn"] = f"arn:aws:s3:::{name}"  # the same bucket again: merged by ARN
                else:
                    self.note(
                        f"store:{bucket.address}",
                        "the bucket's name is unknown until apply: its identity, "
                        "and so who may access it, cannot be established",
                        ("*",),
                    )
            draft.locations["id"] = self.at(bucket)
            self.buckets[bucket.address] = draft
            self._inline_bucket_settings(bucket, draft)

    def _bucket_for(self, resource: Resource) -> _Draft | None:
        target = self.plan.referenced(resource, "bucket", "aws_s3_bucket")
        if target is not None:
            return self.buckets.get(target.address)
        name = resource.get("bucket") if not resource.is_unknown("bucket") else None
        if not name:
            self.note(
                f"resource:{resource.address}",
                "configures a bucket that is unknown until apply and refers "
                "to no bucket of the plan; its settings were not applied to any store",
                ("*",),
            )
            return None
        if name not in self.bucket_names:  # a bucket managed outside this plan
            draft = _Draft(f"bucket:{name}", {"id": name, "arn": f"arn:aws:s3:::{name}"}, {"id": self.at(resource)})
            self.buckets[draft.address] = draft
            self.bucket_names[name] = draft.address
        return self.buckets[self.bucket_names[name]]

    def _set(self, draft: _Draft, resource: Resource, name: str, value: Any) -> None:
        draft.fields[name] = value
        draft.locations[name] = self.at(resource)

    def _inline_bucket_settings(self, bucket: Resource, draft: _Draft) -> None:
        tags = tag_dict(bucket.get("tags") or bucket.get("tags_all"))
        if not bucket.is_unknown("tags"):
            if values(tags, self.mapping.data_class):
                self._set(draft, bucket, "classes", values(tags, self.mapping.data_class))
            if values(tags, self.mapping.tenant):
                self._set(draft, bucket, "tenant", values(tags, self.mapping.tenant)[0])
            if values(tags, self.mapping.gate):
                self._set(draft, bucket, "passed_gates", values(tags, self.mapping.gate))
        if bucket.get("acl") in PUBLIC_ACLS:
            self._set(draft, bucket, "public_acl", True)
        if bucket.get("server_side_encryption_configuration"):
            self._encryption(bucket, draft, bucket.get("server_side_encryption_configuration")[0].get("rule", []))
        if bucket.get("policy") and not bucket.is_unknown("policy"):
            self._policy(bucket, draft, "policy")
        if bucket.get("versioning"):
            self._set(draft, bucket, "versioning", bool(bucket.get("versioning")[0].get("enabled")))
        if bucket.get("logging"):
            self._set(draft, bucket, "access_logging", True)

    def _bucket_settings(self) -> None:
        handlers = {
            "aws_s3_bucket_policy": lambda r, d: self._policy(r, d, "policy"),
            "aws_s3_bucket_server_side_encryption_configuration": lambda r, d: self._encryption(r, d, r.get("rule")),
            "aws_s3_bucket_public_access_block": self._public_access_block,
            "aws_s3_bucket_lifecycle_configuration": self._lifecycle,
            "aws_s3_bucket_versioning": lambda r, d: self._set(
                d, r, "versioning", ((r.get("versioning_configuration") or [{}])[0].get("status") == "Enabled")
            ),
            "aws_s3_bucket_logging": lambda r, d: self._set(d, r, "access_logging", True),
            "aws_s3_bucket_acl": lambda r, d: self._set(d, r, "public_acl", r.get("acl") in PUBLIC_ACLS),
            "aws_s3_bucket_replication_configuration": self._replication,
        }
        for resource in sorted(self.plan.of_type(*handlers), key=lambda r: r.address):
            draft = self._bucket_for(resource)
            if draft is not None:
                handlers[resource.type](resource, draft)

    def _policy(self, resource: Resource, draft: _Draft, attribute: str) -> None:
        policy, notes = document(self.plan, resource, attribute)
        for note in notes:
            self.note(f"store:{draft.fields['id']}", note)
        if policy is None:
            self.note(
                f"store:{draft.fields['id']}",
                f"the bucket policy set by {resource.address} is unknown until "
                "apply: who may access the bucket cannot be established",
                ("*",),
            )
            return
        self._set(draft, resource, "policy", policy)
        tls_only = enforces_tls(policy, object_prefix(s3_identity(draft.fields.get("arn"))))
        if tls_only is not None:  # None: the bucket's name, or the policy, cannot be read
            self._set(draft, resource, "tls_only", tls_only)

    def _encryption(self, resource: Resource, draft: _Draft, rules: Any) -> None:
        if resource.is_unknown("rule") or rules is None:
            return
        default = ((rules or [{}])[0].get("apply_server_side_encryption_by_default") or [{}])[0]
        algorithm = default.get("sse_algorithm")
        if not algorithm:
            return
        kms = str(algorithm).startswith("aws:kms")
        self._set(draft, resource, "encryption", "aws:kms" if kms else "AES256")
        if kms:
            key = self._key_arn(resource, "rule", default.get("kms_master_key_id"))
            if key is None:
                # S3 uses the AWS managed key aws/s3 when none is named
                key = "arn:aws:kms:planned::alias/aws/s3"
            self._set(draft, resource, "kms_key", key)

    def _public_access_block(self, resource: Resource, draft: _Draft) -> None:
        if any(resource.is_unknown(flag) for flag in PAB_FLAGS):
            return
        self._set(draft, resource, "public_access_blocked", all(bool(resource.get(f)) for f in PAB_FLAGS))

    def _lifecycle(self, resource: Resource, draft: _Draft) -> None:
        if resource.is_unknown("rule"):
            return
        rules = []
        for rule in resource.get("rule") or []:
            if rule.get("status") != "Enabled":
                continue
            rule_filter = (rule.get("filter") or [{}])[0]
            narrowed = (
                rule_filter.get("tag")
                or rule_filter.get("and")
                or rule_filter.get("object_size_greater_than")
                or rule_filter.get("object_size_less_than")
            )
            if narrowed:
                continue  # covers only some objects: the rest are kept
            expiration = ((rule.get("expiration") or [{}])[0]).get("days")
            noncurrent = ((rule.get("noncurrent_version_expiration") or [{}])[0]).get("noncurrent_days")
            if expiration or noncurrent:
                rules.append(
                    LifecycleRule(
                        prefix=rule_filter.get("prefix") or rule.get("prefix") or "",
                        expiration_days=expiration or None,
                        noncurrent_days=noncurrent or None,
                    )
                )
        whole = [r for r in rules if r.prefix == ""]
        expirations = [r.expiration_days for r in whole if r.expiration_days]
        noncurrent_days = [r.noncurrent_days for r in whole if r.noncurrent_days]
        self._set(draft, resource, "retention_days", min(expirations) if expirations else None)
        self._set(draft, resource, "noncurrent_retention_days", min(noncurrent_days) if noncurrent_days else None)
        if rules:
            self._set(draft, resource, "lifecycle", rules)

    def _replication(self, resource: Resource, draft: _Draft) -> None:
        targets = []
        for rule in resource.get("rule") or []:
            if rule.get("status") == "Enabled":
                for destination in rule.get("destination") or []:
                    bucket = destination.get("bucket")
                    if bucket:
                        targets.append("s3://" + str(bucket).removeprefix("arn:aws:s3:::") + "/")
        if targets:
            self._set(draft, resource, "replicates_to", targets)

    def _store(self, draft: _Draft) -> Store:
        store = Store(**draft.fields)
        store.provenance = Provenance(
            source=SOURCE, location=draft.locations.get("id", self.filename), fields=_indexed(draft)
        )
        return store

    # -- IAM ---------------------------------------------------------------------------------

    def _managed_policies(self) -> None:
        for policy in self.plan.of_type("aws_iam_policy"):
            parsed, notes = document(self.plan, policy, "policy")
            for note in notes:
                self.note(f"policy:{policy.address}", note)
            self.managed[policy.address] = parsed
            if policy.get("arn") and not policy.is_unknown("arn"):
                self.managed[str(policy.get("arn"))] = parsed

    def _principals(self) -> None:
        for kind, resource_type in (("role", "aws_iam_role"), ("user", "aws_iam_user"), ("group", "aws_iam_group")):
            for resource in self.plan.of_type(resource_type):
                name = resource.get("name") if not resource.is_unknown("name") else resource.address
                draft = _Draft(resource.address, {"id": name, "kind": kind, "policies": []}, {"id": self.at(resource)})
                if resource.get("arn") and not resource.is_unknown("arn"):
                    draft.fields["arn"] = resource.get("arn")
                tags = tag_dict(resource.get("tags"))
                if values(tags, self.mapping.tenant):
                    self._set(draft, resource, "tenant", values(tags, self.mapping.tenant)[0])
                if values(tags, self.mapping.gate):
                    self._set(draft, resource, "gate", values(tags, self.mapping.gate))
                if kind == "role":
                    trust, notes = document(self.plan, resource, "assume_role_policy")
                    for note in notes:
                        self.note(f"principal:{name}", note)
                    if trust is not None:
                        self._set(draft, resource, "trust_policy", trust)
                    for inline in resource.get("inline_policy") or []:
                        self._attach(draft, resource, inline.get("policy"), f"inline policy {inline.get('name')}")
                    for arn in resource.get("managed_policy_arns") or []:
                        self._attach_managed(draft, resource, arn)
                boundary = resource.get("permissions_boundary")
                if boundary:
                    doc = self.managed.get(boundary)
                    self._set(
                        draft,
                        resource,
                        "permission_boundary",
                        doc if doc is not None else {"Statement": f"policy {boundary} is not in the plan"},
                    )
                (self.groups if kind == "group" else self.principals)[resource.address] = draft

    def _principal_named(self, resource: Resource, attribute: str, kind: str) -> list[_Draft]:
        """The role, user or group ``resource.attribute`` names (by reference or by name)."""
        pool = self.groups if kind == "group" else self.principals
        target = self.plan.referenced(resource, attribute, f"aws_iam_{kind}")
        if target is not None and target.address in pool:
            return [pool[target.address]]
        value = resource.get(attribute)
        names = value if isinstance(value, list) else [value]
        return [d for d in pool.values() if d.fields["kind"] == kind and d.fields["id"] in names]

    def _attach(self, draft: _Draft, resource: Resource, text: Any, what: str) -> None:
        parsed = parse_json(text)
        index = len(draft.fields["policies"])
        draft.fields["policies"].append(
            parsed if parsed is not None else {"Statement": f"{what} is unknown until apply or not JSON"}
        )
        draft.locations[f"policies[{index}]"] = f"{self.at(resource)} {what}"

    def _attach_managed(self, draft: _Draft, resource: Resource, arn: str) -> None:
        index = len(draft.fields["policies"])
        doc = self.managed.get(arn)
        draft.fields["policies"].append(
            doc if doc is not None else {"Statement": f"managed policy {arn} is not described by the plan"}
        )
        draft.locations[f"policies[{index}]"] = f"{self.at(resource)} managed policy {arn}"

    def _principal_policies(self) -> None:
        for kind in ("role", "user", "group"):
            for resource in self.plan.of_type(f"aws_iam_{kind}_policy"):
                policy, notes = document(self.plan, resource, "policy")
                for note in notes:
                    self.note(f"resource:{resource.address}", note)
                for draft in self._principal_named(resource, kind, kind):
                    index = len(draft.fields["policies"])
                    draft.fields["policies"].append(
                        policy
                        if policy is not None
                        else {"Statement": f"{resource.address} policy unknown until apply"}
                    )
                    draft.locations[f"policies[{index}]"] = self.at(resource)
        for kind in ("role", "user", "group"):
            for resource in self.plan.of_type(f"aws_iam_{kind}_policy_attachment"):
                attached = self.plan.referenced(resource, "policy_arn", "aws_iam_policy")
                arn = attached.address if attached is not None else str(resource.get("policy_arn"))
                for draft in self._principal_named(resource, kind, kind):
                    self._attach_managed(draft, resource, arn)
        self._group_memberships()

    def _group_memberships(self) -> None:
        """Groups are not actors: their policies are copied onto their member users."""
        groups = {d.fields["id"]: d for d in self.groups.values()}
        members: dict[str, set[str]] = {}
        for resource in self.plan.of_type("aws_iam_group_membership"):
            for user in resource.get("users") or []:
                members.setdefault(str(resource.get("group")), set()).add(str(user))
        for resource in self.plan.of_type("aws_iam_user_group_membership"):
            for group in resource.get("groups") or []:
                members.setdefault(str(group), set()).add(str(resource.get("user")))
        for group_name, users in members.items():
            group = groups.get(group_name)
            if group is None:
                continue
            for draft in self.principals.values():
                if draft.fields["kind"] == "user" and draft.fields["id"] in users:
                    for index, policy in enumerate(group.fields["policies"]):
                        position = len(draft.fields["policies"])
                        draft.fields["policies"].append(policy)
                        draft.locations[f"policies[{position}]"] = group.locations.get(f"policies[{index}]", "")

    def _principal(self, draft: _Draft) -> Principal:
        principal = Principal(**draft.fields)
        principal.provenance = Provenance(source=SOURCE, location=draft.locations["id"], fields=_indexed(draft))
        return principal

    def _key(self, draft: _Draft) -> KmsKey:
        key = KmsKey(**draft.fields)
        key.provenance = Provenance(source=SOURCE, location=draft.locations["arn"], fields=_indexed(draft))
        return key

    # -- training jobs and tables ---------------------------------------------------------------

    def _jobs_and_tables(self) -> None:
        by_arn = {
            str(d.fields.get("arn")): str(d.fields["id"]) for d in self.principals.values() if d.fields.get("arn")
        }
        for resource in self.plan.of_type("aws_bedrock_custom_model"):
            name = resource.get("job_name") or resource.get("custom_model_name") or resource.address
            reads = [c.get("s3_uri") for c in resource.get("training_data_config") or []]
            for validation in resource.get("validation_data_config") or []:
                reads += [v.get("s3_uri") for v in validation.get("validator") or []]
            writes = [c.get("s3_uri") for c in resource.get("output_data_config") or []]
            fields: dict[str, Any] = {
                "id": str(name),
                "kind": "training",
                "reads": [r for r in reads if r],
                "writes": [w for w in writes if w],
                "description": f"Bedrock model customisation {resource.address}",
            }
            role = self.plan.referenced(resource, "role_arn", "aws_iam_role")
            if role is not None and role.address in self.principals:
                fields["runs_as"] = self.principals[role.address].fields["id"]
            elif resource.get("role_arn"):
                fields["runs_as"] = by_arn.get(str(resource.get("role_arn")), str(resource.get("role_arn")))
            if any(resource.is_unknown(a) for a in ("training_data_config", "output_data_config")):
                self.note(
                    f"job:{name}",
                    "some of the job's S3 locations are unknown until apply: what it trains on is not fully known",
                    ("ISO-*",),
                )
            job = Job(**fields)
            job.provenance = Provenance(source=SOURCE, location=self.at(resource))
            self.jobs.append(job)
        for resource in self.plan.of_type("aws_glue_catalog_table"):
            location = ((resource.get("storage_descriptor") or [{}])[0]).get("location")
            if not location:
                continue
            parameters = {str(k): str(v) for k, v in (resource.get("parameters") or {}).items()}
            fields = {
                "id": f"{resource.get('database_name')}.{resource.get('name')}",
                "kind": "table",
                "location": location,
            }
            if values(parameters, self.mapping.data_class):
                fields["classes"] = values(parameters, self.mapping.data_class)
            store = Store(**fields)
            store.provenance = Provenance(source=SOURCE, location=self.at(resource))
            self.stores.append(store)


def _indexed(draft: _Draft) -> dict[str, str]:
    """Field locations, with each entry of a list field located at its field's resource."""
    locations = dict(draft.locations)
    for name in ("classes", "passed_gates", "replicates_to", "gate"):
        for index in range(len(draft.fields.get(name, []))):
            locations.setdefault(f"{name}[{index}]", draft.locations.get(name, ""))
    return locations


__all__ = ["SOURCE", "Loaded", "arn_account", "load", "looks_like", "read", "transform"]
