"""Reading a Terraform plan (``terraform show -json``): the planned resources, what is
unknown until apply, and the references between resources in the configuration.

Values that are only known after apply are the hard part: a split-out bucket policy
whose ``bucket`` is ``aws_s3_bucket.x.id`` has no bucket name in the plan. The
configuration says which resource the expression refers to, so we follow that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass
class Resource:
    address: str  # full instance address: module.a.aws_s3_bucket.b["k"]
    type: str
    mode: str
    values: dict[str, Any]
    unknown: Any  # after_unknown: True, or a structure of booleans mirroring values
    module: str  # "" for the root, "module.a" or "module.a.module.b"
    index: str  # the instance key with brackets ("[0]", '["k"]') or ""
    expressions: dict[str, Any] = field(default_factory=dict)

    @property
    def name_in_module(self) -> str:
        """``aws_s3_bucket.b`` (no module, no instance key): the configuration's address."""
        local = self.address[len(self.module) + 1 :] if self.module else self.address
        return _INDEX.sub("", local)

    def is_unknown(self, *path: str | int) -> bool:
        node: Any = self.unknown
        for part in path:
            if node is True:
                return True
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return False
        return node is True

    def get(self, name: str) -> Any:
        return self.values.get(name)


class Plan:
    """The resources of a plan, by address. A resource entry that is not of the shape
    Terraform writes is left out and named in :attr:`skipped` (a coverage gap, not a crash)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.format_version = str(data.get("format_version", ""))
        self.skipped: list[str] = []
        changes: dict[str, dict[str, Any]] = {}
        for position, change in enumerate(_entries(data.get("resource_changes"), "resource_changes", self.skipped)):
            where = f"resource_changes[{position}]"
            if not _addressed(change, where, self.skipped):
                continue
            if not isinstance(change.get("change", {}), dict):
                self.skipped.append(f"{change['address']} ({where}): 'change' is not a mapping; left out")
                continue
            changes.setdefault(change["address"], change)
        self.resources: dict[str, Resource] = {}
        planned = _mapping(data.get("planned_values"), "planned_values", self.skipped)
        for raw, where in _walk(
            _mapping(planned.get("root_module"), "planned_values.root_module", self.skipped),
            "planned_values.root_module",
            self.skipped,
        ):
            if not _addressed(raw, where, self.skipped):
                continue
            address = raw["address"]
            change = changes.get(address, {}).get("change") or {}
            if change.get("actions") == ["delete"]:
                continue
            module = address.rsplit(f".{raw['type']}.", 1)[0] if address.startswith("module.") else ""
            if raw.get("mode") == "data" and address.startswith("module."):
                module = address.rsplit(".data.", 1)[0]
            values = raw.get("values") or change.get("after") or {}
            if not isinstance(values, dict):
                self.skipped.append(f"{address} ({where}): 'values' is not a mapping; left out")
                continue
            self.resources[address] = Resource(
                address=address,
                type=raw["type"],
                mode=str(raw.get("mode", "managed")),
                values=values,
                unknown=change.get("after_unknown", {}),
                module=module,
                index=_index_of(address),
            )
        # resources only in resource_changes (data sources read during apply, older formats)
        for address, change in changes.items():
            body = change.get("change") or {}
            if address in self.resources or body.get("actions") == ["delete"]:
                continue
            after = body.get("after")
            if after is None:
                continue
            if not isinstance(after, dict):
                self.skipped.append(f"{address} (resource_changes): 'change.after' is not a mapping; left out")
                continue
            module = change.get("module_address", "")
            self.resources[address] = Resource(
                address,
                change["type"],
                str(change.get("mode", "managed")),
                after,
                body.get("after_unknown", {}),
                module if isinstance(module, str) else "",
                _index_of(address),
            )
        configuration_root = _mapping(data.get("configuration"), "configuration", self.skipped).get("root_module")
        configuration = _configuration(_mapping(configuration_root, "configuration.root_module", self.skipped), "")
        for resource in self.resources.values():
            expressions = configuration.get((resource.module, resource.name_in_module), {})
            resource.expressions = expressions if isinstance(expressions, dict) else {}

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources.values() if r.type in types)

    def referenced(self, resource: Resource, attribute: str, *types: str) -> Resource | None:
        """The resource of one of ``types`` that ``resource.attribute`` refers to."""
        expression = resource.expressions.get(attribute)
        references = expression.get("references", []) if isinstance(expression, dict) else []
        for reference in references if isinstance(references, list) else []:
            if not isinstance(reference, str):
                continue
            target = self.resolve(resource, reference)
            if target is not None and (not types or target.type in types):
                return target
        return None

    def resolve(self, origin: Resource, reference: str) -> Resource | None:
        """``aws_s3_bucket.x.arn`` seen from ``origin``'s module -> the resource instance."""
        parts = reference.split(".")
        if parts[0] == "data" and len(parts) >= 3:
            local = ".".join(parts[:3])
        elif len(parts) >= 2:
            local = ".".join(parts[:2])
        else:
            return None
        local = _INDEX.sub("", local)
        candidates = [r for r in self.resources.values() if r.module == origin.module and r.name_in_module == local]
        if not candidates:
            return None
        same_index = [r for r in candidates if r.index == origin.index]
        return (same_index or sorted(candidates, key=lambda r: r.address))[0]


def _index_of(address: str) -> str:
    match = re.search(r"(\[[^\]]*\])$", address)
    return match.group(1) if match else ""


def _mapping(value: Any, where: str, skipped: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        skipped.append(f"{where}: expected a mapping, got {type(value).__name__}; left out")
        return {}
    return value


def _entries(value: Any, where: str, skipped: list[str]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        skipped.append(f"{where}: expected a list, got {type(value).__name__}; left out")
        return []
    return value


def _addressed(entry: Any, where: str, skipped: list[str]) -> bool:
    """A resource entry Terraform could have written: a mapping with a string address and type."""
    if not isinstance(entry, dict):
        skipped.append(f"{where}: a resource entry that is not a mapping; left out")
        return False
    address, kind = entry.get("address"), entry.get("type")
    if not isinstance(address, str) or not address:
        skipped.append(f"{where}: a resource without an address; left out")
        return False
    if not isinstance(kind, str) or not kind:
        skipped.append(f"{address} ({where}): no resource type; left out")
        return False
    return True


def _walk(module: dict[str, Any], where: str, skipped: list[str]) -> Iterator[tuple[Any, str]]:
    for position, resource in enumerate(_entries(module.get("resources"), f"{where}.resources", skipped)):
        yield resource, f"{where}.resources[{position}]"
    for position, child in enumerate(_entries(module.get("child_modules"), f"{where}.child_modules", skipped)):
        place = f"{where}.child_modules[{position}]"
        yield from _walk(_mapping(child, place, skipped), place, skipped)


def _configuration(module: dict[str, Any], path: str) -> dict[tuple[str, str], Any]:
    """Each configured resource's expressions; parts not of Terraform's shape refer to nothing."""
    resources = module.get("resources")
    found = {
        (path, r["address"]): r.get("expressions", {})
        for r in (resources if isinstance(resources, list) else [])
        if isinstance(r, dict) and isinstance(r.get("address"), str)
    }
    calls = module.get("module_calls")
    for name, call in (calls if isinstance(calls, dict) else {}).items():
        child = f"{path}.module.{name}" if path else f"module.{name}"
        inner = call.get("module") if isinstance(call, dict) else None
        found.update(_configuration(inner if isinstance(inner, dict) else {}, child))
    return found
