"""IAM in a plan: roles, users and groups with their trust, inline, attached and managed
policies and permission boundaries; a group's policies are copied onto its member users."""

from __future__ import annotations

from typing import Any

from audit.model import Principal, Provenance
from audit.sources.aws.tags import tag_dict, values
from audit.sources.terraform.builder import SOURCE, Builder, Draft, indexed
from audit.sources.terraform.plan import Resource
from audit.sources.terraform.policies import document, parse_json


class Principals(Builder):
    def _managed_policies(self) -> None:
        for policy in self.plan.of_type("aws_iam_policy"):
            with self.guard(policy):
                parsed, notes = document(self.plan, policy, "policy")
                for note in notes:
                    self.note(f"policy:{policy.address}", note)
                self.managed[policy.address] = parsed
                if policy.get("arn") and not policy.is_unknown("arn"):
                    self.managed[str(policy.get("arn"))] = parsed

    def _principals(self) -> None:
        for kind, resource_type in (("role", "aws_iam_role"), ("user", "aws_iam_user"), ("group", "aws_iam_group")):
            for resource in self.plan.of_type(resource_type):
                with self.guard(resource):
                    name = resource.get("name") if not resource.is_unknown("name") else resource.address
                    draft = Draft(
                        resource.address, {"id": name, "kind": kind, "policies": []}, {"id": self.at(resource)}
                    )
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

    def _principal_named(self, resource: Resource, attribute: str, kind: str) -> list[Draft]:
        """The role, user or group ``resource.attribute`` names (by reference or by name)."""
        pool = self.groups if kind == "group" else self.principals
        target = self.plan.referenced(resource, attribute, f"aws_iam_{kind}")
        if target is not None and target.address in pool:
            return [pool[target.address]]
        value = resource.get(attribute)
        names = value if isinstance(value, list) else [value]
        return [d for d in pool.values() if d.fields["kind"] == kind and d.fields["id"] in names]

    def _attach(self, draft: Draft, resource: Resource, text: Any, what: str) -> None:
        parsed = parse_json(text)
        index = len(draft.fields["policies"])
        draft.fields["policies"].append(
            parsed if parsed is not None else {"Statement": f"{what} is unknown until apply or not JSON"}
        )
        draft.locations[f"policies[{index}]"] = f"{self.at(resource)} {what}"

    def _attach_managed(self, draft: Draft, resource: Resource, arn: str) -> None:
        index = len(draft.fields["policies"])
        doc = self.managed.get(arn)
        draft.fields["policies"].append(
            doc if doc is not None else {"Statement": f"managed policy {arn} is not described by the plan"}
        )
        draft.locations[f"policies[{index}]"] = f"{self.at(resource)} managed policy {arn}"

    def _principal_policies(self) -> None:
        for kind in ("role", "user", "group"):
            for resource in self.plan.of_type(f"aws_iam_{kind}_policy"):
                with self.guard(resource):
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
                with self.guard(resource):
                    attached = self.plan.referenced(resource, "policy_arn", "aws_iam_policy")
                    arn = attached.address if attached is not None else str(resource.get("policy_arn"))
                    for draft in self._principal_named(resource, kind, kind):
                        self._attach_managed(draft, resource, arn)
        self._group_memberships()

    def _distinct_principals(self) -> None:
        """Two roles or users of one name (``for_each``, or one module used twice) are two
        principals, each identified by its resource address; when their ARNs are known and
        equal, the inventory's merge joins them as one, reporting any conflict."""
        by_name: dict[str, list[Draft]] = {}
        for draft in self.principals.values():
            by_name.setdefault(str(draft.fields["id"]), []).append(draft)
        for drafts in by_name.values():
            if len(drafts) > 1:
                for draft in drafts:
                    draft.fields["id"] = draft.address

    def _group_memberships(self) -> None:
        """Groups are not actors: their policies are copied onto their member users."""
        groups = {d.fields["id"]: d for d in self.groups.values()}
        members: dict[str, set[str]] = {}
        for resource in self.plan.of_type("aws_iam_group_membership"):
            with self.guard(resource):
                for user in resource.get("users") or []:
                    members.setdefault(str(resource.get("group")), set()).add(str(user))
        for resource in self.plan.of_type("aws_iam_user_group_membership"):
            with self.guard(resource):
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

    def _principal(self, draft: Draft) -> Principal:
        principal = Principal(**draft.fields)
        principal.provenance = Provenance(source=SOURCE, location=draft.locations["id"], fields=indexed(draft))
        return principal
