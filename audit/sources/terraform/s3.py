"""S3 buckets in a plan, with the split-out configuration resources that set their policy,
encryption, public access block, lifecycle, versioning, logging, ACL and replication."""

from __future__ import annotations

from typing import Any

from audit.iam.transport import enforces_tls, object_prefix
from audit.locations import s3_identity
from audit.model import LifecycleRule, Provenance, Store
from audit.sources.aws.tags import tag_dict, values
from audit.sources.terraform.builder import SOURCE, Builder, Draft, indexed
from audit.sources.terraform.plan import Resource
from audit.sources.terraform.policies import document

PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PAB_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


class Buckets(Builder):
    def _buckets(self) -> None:
        for bucket in sorted(self.plan.of_type("aws_s3_bucket"), key=lambda r: r.address):
            with self.guard(bucket):
                name = bucket.get("bucket") if not bucket.is_unknown("bucket") else None
                draft = Draft(bucket.address, {"kind": "s3-bucket"}, {})
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

    def _bucket_for(self, resource: Resource) -> Draft | None:
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
            draft = Draft(f"bucket:{name}", {"id": name, "arn": f"arn:aws:s3:::{name}"}, {"id": self.at(resource)})
            self.buckets[draft.address] = draft
            self.bucket_names[name] = draft.address
        return self.buckets[self.bucket_names[name]]

    def _inline_bucket_settings(self, bucket: Resource, draft: Draft) -> None:
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
            with self.guard(resource):
                draft = self._bucket_for(resource)
                if draft is not None:
                    handlers[resource.type](resource, draft)

    def _policy(self, resource: Resource, draft: Draft, attribute: str) -> None:
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
            draft.fields["policy"] = None  # stated as unknown (not none)
            return
        self._set(draft, resource, "policy", policy)
        tls_only = enforces_tls(policy, object_prefix(s3_identity(draft.fields.get("arn"))))
        if tls_only is not None:  # None: the bucket's name, or the policy, cannot be read
            self._set(draft, resource, "tls_only", tls_only)

    def _encryption(self, resource: Resource, draft: Draft, rules: Any) -> None:
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

    def _public_access_block(self, resource: Resource, draft: Draft) -> None:
        if any(resource.is_unknown(flag) for flag in PAB_FLAGS):
            return
        self._set(draft, resource, "public_access_blocked", all(bool(resource.get(f)) for f in PAB_FLAGS))

    def _lifecycle(self, resource: Resource, draft: Draft) -> None:
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

    def _replication(self, resource: Resource, draft: Draft) -> None:
        targets = []
        for rule in resource.get("rule") or []:
            if rule.get("status") == "Enabled":
                for destination in rule.get("destination") or []:
                    bucket = destination.get("bucket")
                    if bucket:
                        targets.append("s3://" + str(bucket).removeprefix("arn:aws:s3:::") + "/")
        if targets:
            self._set(draft, resource, "replicates_to", targets)

    def _store(self, draft: Draft) -> Store:
        if draft.fields.get("kind") == "s3-bucket" and "policy" not in draft.fields:
            # the plan configures no bucket policy for it: none, as far as this configuration
            # says (a policy unknown until apply is a gap, noted where it is read)
            draft.fields["policy"] = "none"
            draft.locations.setdefault("policy", draft.locations.get("id", self.filename))
        store = Store(**draft.fields)
        store.provenance = Provenance(
            source=SOURCE, location=draft.locations.get("id", self.filename), fields=indexed(draft)
        )
        return store
