"""The evaluation context built from an inventory: every principal as a subject (identity
policies, boundary, SCPs, trust policy) and every S3 store as a target (bucket policy, ACL,
Block Public Access, KMS key policy), parsed once; unreadable documents are coverage gaps."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from audit.coverage import CoverageGap
from audit.graph.access import GRAPH_CHECKS
from audit.graph.model import NodeType, node_key
from audit.iam.evaluate import KeyPolicy, Subject
from audit.iam.policy import Policy, PolicyError, Statement, parse_policy
from audit.iam.targets import Context, StoreTarget, touches_data
from audit.inventory import Inventory, arn_account
from audit.model import Entity, Principal, Store


def _statement_locations(entity: Entity, field_name: str, where: str) -> Any:
    """Where statement i of the document at ``where`` was stated: its own line when the
    source tracked one, else the document's location and the statement's index."""
    fields = entity.provenance.fields if entity.provenance else {}

    def locate(index: int) -> str:
        if fields:
            found = fields.get(f"{field_name}.Statement[{index}]")
            if found is not None:
                return found
        return f"{where} Statement[{index}]"

    return locate


def _parse(document: Any, entity: Entity, field_name: str, scope: str, context: Context) -> Policy | None:
    location = entity.provenance.at(field_name) if entity.provenance else field_name
    try:
        return parse_policy(document, location, field_name, _statement_locations(entity, field_name, location))
    except PolicyError as exc:
        context.gaps.append(
            CoverageGap(
                scope=scope,
                reason=f"{field_name} at {location} cannot be read as IAM JSON: "
                f"{exc}; the access it governs is unknown",
                checks=GRAPH_CHECKS,
            )
        )
        return None


def build_context(inventory: Inventory) -> Context:
    context = Context()
    scps = _scps(inventory, context)
    for principal in inventory.principals.values():
        _add_subject(inventory, principal, scps, context)
    _index_stores(inventory, context)
    known = {a.id for a in inventory.accounts.values() if a.zone != "external"}
    statements = [
        *(s for store in context.stores for s in store.policy),
        *(s for _, trust in context.trusts.values() for s in trust),
    ]
    named = {name for s in statements if s.principal for name in s.principal.aws}
    accounts = {name if name.isdigit() else arn_account(name) for name in named}
    context.external_accounts = {a for a in accounts if a and a not in known}
    return context


def _scps(inventory: Inventory, context: Context) -> dict[str, list[tuple[Statement, ...]] | None]:
    """Each account's SCP statements, one tuple per level; None where they are unknown."""
    scps: dict[str, list[tuple[Statement, ...]] | None] = {}
    for account in inventory.accounts.values():
        if account.scps is None:
            scps[account.id] = None
            continue
        levels = []
        for level_index, level in enumerate(account.scps):
            statements: list[Statement] = []
            for policy_index, document in enumerate(level.policies):
                where = f"scps[{level_index}].policies[{policy_index}]"
                parsed = _parse(document, account, where, f"account:{account.id}", context)
                statements.extend(parsed.statements if parsed else ())
            levels.append(tuple(statements))
        scps[account.id] = levels
    return scps


def _add_subject(
    inventory: Inventory,
    principal: Principal,
    scps: dict[str, list[tuple[Statement, ...]] | None],
    context: Context,
) -> None:
    scope = f"principal:{principal.id}"
    if principal.arn and ":iam::" not in principal.arn:
        return  # not an IAM principal (a federated or service identity described by hand)
    key = node_key(NodeType.PRINCIPAL, principal.id)
    identity: list[Statement] = []
    for index, document in enumerate(principal.policies):
        parsed = _parse(document, principal, f"policies[{index}]", scope, context)
        identity.extend(parsed.statements if parsed else ())
    boundary = None
    if principal.permission_boundary is not None:
        parsed = _parse(principal.permission_boundary, principal, "permission_boundary", scope, context)
        boundary = parsed.statements if parsed else ()
    resolved = inventory.principal_account(principal)
    # no ARN and no account (a role in a Terraform plan): its account is unknown, which the
    # evaluation treats as the same account as everything (the wider reading)
    account_id = resolved.id if resolved else (principal.account or arn_account(principal.arn))
    subject = Subject(
        key=key,
        arn=principal.arn,
        account=account_id,
        identity=tuple(identity),
        boundary=boundary,
        scps=scps.get(account_id) if account_id else None,
    )
    context.subjects[key] = subject
    if principal.arn:
        context.by_arn[principal.arn] = key
    if account_id:
        context.by_account.setdefault(account_id, []).append(key)
    if principal.trust_policy is not None:
        trust = _parse(principal.trust_policy, principal, "trust_policy", scope, context)
        if trust is not None:
            context.trusts[key] = (subject, trust.statements)


def _store_policy(store: Store, context: Context) -> tuple[Statement, ...]:
    """The statements of a store's own policy document, parsed once however many stores
    inside it the policy binds (an unreadable document is a gap, reported once)."""
    found = context.parsed_policies.get(store.id)
    if found is None:
        found = ()
        if isinstance(store.policy, dict) and store.policy:
            parsed = _parse(store.policy, store, "policy", f"store:{store.id}", context)
            found = parsed.statements if parsed else ()
        context.parsed_policies[store.id] = found
    return found


def _index_stores(inventory: Inventory, context: Context) -> None:
    entries: list[StoreTarget] = []
    data_grants = any(touches_data(s) for subject in context.subjects.values() for s in subject.identity)
    accounts: dict[str | None, str | None] = {}  # a store's account reference -> the account's id
    store_key = node_key(NodeType.STORE, "")
    for store in inventory.stores.values():
        s3 = inventory.s3_location(store)
        if s3 is None:
            if data_grants:
                context.gaps.append(
                    CoverageGap(
                        scope=f"store:{store.id}",
                        checks=GRAPH_CHECKS,
                        reason="no S3 location (arn or s3:// location): the IAM access to it was not evaluated",
                    )
                )
            continue
        ref = store.account
        if ref not in accounts:
            account = inventory.account(ref)
            accounts[ref] = account.id if account else ref
        holders = inventory.bucket_policies(store)
        policy = tuple(s for holder in holders for s in _store_policy(holder, context))
        encryption, _ = inventory.setting(store, "encryption")
        key_arn, _ = inventory.setting(store, "kms_key")
        kms = None
        if encryption == "aws:kms":
            key = inventory.kms_keys.get(key_arn or "")
            if key is not None and key.policy is not None:
                parsed_key = _parse(key.policy, key, "policy", f"kms:{key.arn}", context)
                kms = KeyPolicy(
                    key.arn, key.account or arn_account(key.arn), parsed_key.statements if parsed_key else None
                )
            else:
                kms = KeyPolicy(key_arn or "(unknown key)", arn_account(key_arn), None)
        blocked, _ = inventory.setting(store, "public_access_blocked")
        acl, _ = inventory.setting(store, "public_acl")
        entries.append(
            StoreTarget(
                store.id,
                store_key + store.id,
                "arn:aws:s3:::" + s3[5:],  # s3://bucket/prefix/ -> arn:aws:s3:::bucket/prefix/
                accounts[ref],
                policy,
                blocked is True,
                acl is True,
                kms,
                policy_known=bool(holders),
            )
        )
    entries.sort(key=attrgetter("prefix"))
    context.stores = entries
    prefixes = context.prefixes = [e.prefix for e in entries]
    prefix_set = context.prefix_set
    count = len(entries)
    for index, entry in enumerate(entries):
        prefix = prefixes[index]
        prefix_set.setdefault(prefix, []).append(index)
        # prefixes inside another store's prefix sort right after it
        later = index + 1
        if later < count and prefixes[later].startswith(prefix):
            inner = []
            while later < count and prefixes[later].startswith(prefix):
                if prefixes[later] != prefix:
                    inner.append(prefixes[later])
                later += 1
            entry.carved_out = tuple(inner)
        entry.seal()
