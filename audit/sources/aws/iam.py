"""IAM: roles, users (with their groups' policies), inline and managed policies,
permission boundaries and trust policies, from GetAccountAuthorizationDetails."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audit.model import Principal, Provenance
from audit.sources.aws.fetch import Fetcher
from audit.sources.aws.tags import TagMapping, tag_dict, values

FILTERS = ["Role", "User", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
DETAIL_KEYS = ("RoleDetailList", "UserDetailList", "GroupDetailList", "Policies")


def get_authorization_details(fetcher: Fetcher, iam: Any) -> dict[str, list[Any]] | Any:
    """All pages of GetAccountAuthorizationDetails merged, or FAILED (with a gap)."""

    def collect() -> dict[str, list[Any]]:
        merged: dict[str, list[Any]] = {key: [] for key in DETAIL_KEYS}
        for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=FILTERS):
            for key in DETAIL_KEYS:
                merged[key].extend(page.get(key, []))
        return merged

    return fetcher.call(f"account:{fetcher.account}", "iam:GetAccountAuthorizationDetails", collect)


def _default_version(policy: dict[str, Any]) -> Any:
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return version.get("Document")
    return None


def transform_principals(details: dict[str, list[Any]], account: str, mapping: TagMapping) -> list[Principal]:
    managed = {p["Arn"]: p for p in details.get("Policies", [])}
    groups = {g["GroupName"]: g for g in details.get("GroupDetailList", [])}
    call = f"aws:{account}:iam:GetAccountAuthorizationDetails"
    principals: list[Principal] = []
    for role in details.get("RoleDetailList", []):
        documents = _documents(role, "RolePolicyList", managed, f"{call} role/{role['RoleName']}")
        principals.append(
            _principal(
                role,
                "role",
                role["RoleName"],
                documents,
                managed,
                mapping,
                call,
                trust=role.get("AssumeRolePolicyDocument"),
            )
        )
    for user in details.get("UserDetailList", []):
        where = f"{call} user/{user['UserName']}"
        documents = _documents(user, "UserPolicyList", managed, where)
        for group_name in user.get("GroupList", []):
            group = groups.get(group_name)
            if group is not None:
                documents.extend(_documents(group, "GroupPolicyList", managed, f"{where} via group/{group_name}"))
        principals.append(_principal(user, "user", user["UserName"], documents, managed, mapping, call))
    return principals


def _documents(entity: dict[str, Any], inline_key: str, managed: dict[str, Any], where: str) -> list[tuple[Any, str]]:
    documents = [
        (p.get("PolicyDocument"), f"{where} inline policy {p.get('PolicyName')}") for p in entity.get(inline_key, [])
    ]
    for attached in entity.get("AttachedManagedPolicies", []):
        arn = attached.get("PolicyArn")
        policy = managed.get(arn)
        documents.append((_default_version(policy) if policy else None, f"{where} managed policy {arn}"))
    return documents


def _principal(
    entity: dict[str, Any],
    kind: str,
    name: str,
    documents: Iterable[tuple[Any, str]],
    managed: dict[str, Any],
    mapping: TagMapping,
    call: str,
    trust: Any = None,
) -> Principal:
    fields: dict[str, str] = {}
    policies: list[Any] = []
    for document, where in documents:
        # An attached managed policy we could not read is kept as an empty, unreadable
        # document: IamAccess reports it as a gap rather than treating it as "no access".
        fields[f"policies[{len(policies)}]"] = where
        policies.append(document if document is not None else {"Statement": "unreadable managed policy"})
    boundary = None
    boundary_arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary_arn:
        policy = managed.get(boundary_arn)
        boundary = _default_version(policy) if policy else {"Statement": "unreadable permission boundary"}
        fields["permission_boundary"] = f"{call} {kind}/{name} permission boundary {boundary_arn}"
    tags = tag_dict(entity.get("Tags"))
    extra: dict[str, Any] = {}
    if values(tags, mapping.tenant):
        extra["tenant"] = values(tags, mapping.tenant)[0]
    if values(tags, mapping.gate):
        extra["gate"] = values(tags, mapping.gate)
        fields.update({f"gate[{i}]": f"{call} {kind}/{name} tags" for i in range(len(extra["gate"]))})
    if trust is not None:
        extra["trust_policy"] = trust
        fields["trust_policy"] = f"{call} role/{name} trust policy"
    principal = Principal(
        id=name,
        kind=kind,
        arn=entity["Arn"],
        policies=policies,
        permission_boundary=boundary,
        **extra,
    )
    principal.provenance = Provenance(source="aws", location=f"{call} {kind}/{name}", fields=fields)
    return principal
