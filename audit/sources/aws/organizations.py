"""AWS Organizations: the account's name and zone tag, and the SCPs at every level above
it. An organisation we cannot read leaves SCPs unknown (never "none").

Organizations answers to the management account (or a delegated administrator), so these
calls go through the caller's own session, whichever account is being described.
"""

from __future__ import annotations

import json
from typing import Any

from audit.model import Account, Provenance, ScpLevel
from audit.sources.aws.fetch import FAILED, MISSING, Fetcher
from audit.sources.aws.tags import TagMapping, tag_dict, values

SCP = "SERVICE_CONTROL_POLICY"


def get_organization(fetcher: Fetcher, org: Any) -> dict[str, Any]:
    """The levels from the root down to ``fetcher.account``, each with its SCP documents."""
    scope = f"account:{fetcher.account}"
    described = fetcher.call(
        scope,
        "organizations:DescribeOrganization",
        org.describe_organization,
        missing=("AWSOrganizationsNotInUseException",),
        checks=(),
    )
    if described in (MISSING, FAILED):
        return {"organization": described}
    account = fetcher.call(
        scope, "organizations:DescribeAccount", org.describe_account, AccountId=fetcher.account, checks=()
    )
    tags = fetcher.call(
        scope, "organizations:ListTagsForResource", org.list_tags_for_resource, ResourceId=fetcher.account, checks=()
    )
    chain = [fetcher.account]
    while True:
        parents = fetcher.call(scope, "organizations:ListParents", org.list_parents, ChildId=chain[-1], checks=())
        if not isinstance(parents, dict) or not parents.get("Parents"):
            if parents is FAILED:
                return {"organization": described, "account": account, "tags": tags, "levels": FAILED}
            break
        chain.append(parents["Parents"][0]["Id"])
        if parents["Parents"][0]["Type"] == "ROOT":
            break
    levels = []
    for target in reversed(chain):
        attached = fetcher.call(
            scope,
            "organizations:ListPoliciesForTarget",
            org.list_policies_for_target,
            TargetId=target,
            Filter=SCP,
            checks=(),
        )
        if attached is FAILED:
            return {"organization": described, "account": account, "tags": tags, "levels": FAILED}
        documents = []
        for summary in attached.get("Policies", []):
            policy = fetcher.call(
                scope, "organizations:DescribePolicy", org.describe_policy, PolicyId=summary["Id"], checks=()
            )
            if policy is FAILED:
                return {"organization": described, "account": account, "tags": tags, "levels": FAILED}
            documents.append(policy["Policy"]["Content"])
        levels.append((target, documents))
    return {"organization": described, "account": account, "tags": tags, "levels": levels}


def _document(content: Any) -> dict[str, Any]:
    """SCP content arrives as JSON text; unreadable text stays visible as such (a gap later)."""
    if isinstance(content, dict):
        return content
    try:
        parsed = json.loads(content)
    except (TypeError, ValueError):
        return {"Statement": f"unreadable policy content: {str(content)[:80]}"}
    return parsed if isinstance(parsed, dict) else {"Statement": "unreadable policy content"}


def transform_account(raw: dict[str, Any], account_id: str, mapping: TagMapping, alias: str | None) -> Account:
    fields: dict[str, Any] = {"id": account_id, "name": alias or account_id}
    locations = {}
    organization = raw["organization"]
    management = isinstance(organization, dict) and (
        organization.get("Organization", {}).get("MasterAccountId") == account_id
    )
    if organization is MISSING or management:
        fields["scps"] = []  # no organisation, or the management account: no SCP applies
    elif isinstance(raw.get("levels"), list):
        fields["scps"] = [
            ScpLevel(target=target, policies=[_document(d) for d in documents]) for target, documents in raw["levels"]
        ]
        locations.update(
            {f"scps[{i}]": f"aws:organizations:ListPoliciesForTarget {t}" for i, (t, _) in enumerate(raw["levels"])}
        )
    account = raw.get("account")
    if isinstance(account, dict) and account.get("Account", {}).get("Name") and not alias:
        fields["name"] = str(account["Account"]["Name"]).replace(" ", "-")
    tags = raw.get("tags")
    if isinstance(tags, dict):
        zone = values(tag_dict(tags.get("Tags")), mapping.zone)
        if zone and zone[0] in ("serving", "training", "corporate", "external"):
            fields["zone"] = zone[0]
            locations["zone"] = f"aws:organizations:ListTagsForResource {account_id}"
    result = Account(**fields)
    result.provenance = Provenance(source="aws", location=f"aws:{account_id}", fields=locations)
    return result
