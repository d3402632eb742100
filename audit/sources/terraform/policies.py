"""Policy documents in a plan: JSON strings, or ``aws_iam_policy_document`` data sources
whose parts may be unknown until apply.

Unknown parts are filled soundly, because the claim to prove is "no path": in an Allow an
unknown action, resource or principal becomes ``*`` (an unknown resource that refers to a
bucket becomes that bucket's ARN followed by ``*``); a Deny with unknown parts is dropped.
Every such decision is returned as a note for the report.
"""

from __future__ import annotations

import json
from typing import Any

from audit.sources.terraform.plan import Plan, Resource


def parse_json(text: Any) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def document(plan: Plan, owner: Resource, attribute: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The policy ``owner.attribute`` will hold, and notes on what was filled in.

    Returns (None, notes) when the policy cannot be known at all.
    """
    value = owner.get(attribute)
    if not owner.is_unknown(attribute):
        parsed = parse_json(value)
        if parsed is not None or value in (None, ""):
            return parsed, []
    source = plan.referenced(owner, attribute, "aws_iam_policy_document")
    if source is not None:
        return from_policy_document(plan, source)
    return None, [f"{owner.address}.{attribute} is unknown until apply and refers to nothing the plan describes"]


def from_policy_document(plan: Plan, source: Resource) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    statements: list[dict[str, Any]] = []
    for index, block in enumerate(source.get("statement") or []):
        statement = _statement(plan, source, index, block, notes)
        if statement is not None:
            statements.append(statement)
    for attribute in ("source_policy_documents", "override_policy_documents"):
        for text in source.get(attribute) or []:
            parsed = parse_json(text)
            if parsed is not None:
                extra = parsed.get("Statement", [])
                statements.extend(extra if isinstance(extra, list) else [extra])
            else:
                notes.append(f"{source.address}.{attribute}: a document unknown until apply was left out")
    return {"Version": "2012-10-17", "Statement": statements}, notes


def _statement(
    plan: Plan, source: Resource, index: int, block: dict[str, Any], notes: list[str]
) -> dict[str, Any] | None:
    effect = block.get("effect") or "Allow"
    allow = effect == "Allow"
    where = f"{source.address} statement[{index}]"
    result: dict[str, Any] = {"Effect": effect}
    if block.get("sid"):
        result["Sid"] = block["sid"]
    for attribute, key in (
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ):
        values = block.get(attribute)
        if values is None and not source.is_unknown("statement", index, attribute):
            continue
        filled = _filled(plan, source, index, attribute, values or [], allow)
        if filled is None:
            notes.append(
                f"{where}: Deny with {attribute} unknown until apply, left out (a Deny is only counted when "
                "surely known)"
            )
            return None
        if filled != list(values or []):
            notes.append(f"{where}: {attribute} unknown until apply, read as {filled}")
        if filled:
            result[key] = filled
    if "Action" not in result and "NotAction" not in result:
        result["Action"] = "*" if allow else None
        if not allow:
            return None
    for attribute, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        blocks = block.get(attribute) or []
        if not blocks:
            continue
        principal: dict[str, list[str]] = {}
        for position, entry in enumerate(blocks):
            identifiers = entry.get("identifiers") or []
            if any(i is None for i in identifiers) or source.is_unknown(
                "statement", index, attribute, position, "identifiers"
            ):
                if not allow:
                    notes.append(f"{where}: Deny with {attribute} unknown until apply, left out")
                    return None
                notes.append(f"{where}: {attribute} unknown until apply, read as everyone")
                identifiers = ["*"]
            kind = entry.get("type") or "AWS"
            if kind == "*":  # Terraform's way of writing Principal "*"
                kind, identifiers = "AWS", ["*"]
            principal.setdefault(kind, []).extend(identifiers)
        result[key] = "*" if principal.get("AWS") == ["*"] and len(principal) == 1 else principal
    conditions: dict[str, dict[str, Any]] = {}
    for entry in block.get("condition") or []:
        conditions.setdefault(entry.get("test") or "Unknown", {})[entry.get("variable") or "unknown"] = entry.get(
            "values"
        ) or ["(unknown until apply)"]
    if conditions:
        result["Condition"] = conditions
    return result


def _filled(
    plan: Plan, source: Resource, index: int, attribute: str, values: list[Any], allow: bool
) -> list[str] | None:
    unknown = source.is_unknown("statement", index, attribute) or any(v is None for v in values)
    if not unknown:
        return [str(v) for v in values]
    if not allow:
        return None
    known = [str(v) for v in values if v is not None]
    if attribute == "resources":
        arns = _referenced_arns(plan, source, index, attribute)
        # an unknown element referring to a bucket covers the bucket and all its objects
        return known + ([f"{arn}*" for arn in arns] if arns else ["*"])
    if attribute == "actions":
        return [*known, "*"]
    return known  # NotAction / NotResource: dropping the unknown exclusions widens the Allow


def _referenced_arns(plan: Plan, source: Resource, index: int, attribute: str) -> list[str]:
    statements = source.expressions.get("statement", [])
    expression = statements[index].get(attribute, {}) if index < len(statements) else {}
    arns = []
    for reference in expression.get("references", []) if isinstance(expression, dict) else []:
        target = plan.resolve(source, reference)
        if target is None:
            continue
        if target.type == "aws_s3_bucket" and target.get("bucket"):
            arns.append(f"arn:aws:s3:::{target.get('bucket')}")
        elif target.get("arn") and not target.is_unknown("arn"):
            arns.append(str(target.get("arn")))
    return sorted(set(arns))
