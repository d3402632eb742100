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
    def __init__(self, data: dict[str, Any]) -> None:
        self.format_version = str(data.get("format_version", ""))
        changes = {c["address"]: c for c in data.get("resource_changes", []) if "address" in c}
        self.resources: dict[str, Resource] = {}
        planned = data.get("planned_values", {}).get("root_module", {})
        for raw in _walk(planned):
            address = raw["address"]
            change = changes.get(address, {}).get("change", {})
            if change.get("actions") == ["delete"]:
                continue
            module = address.rsplit(f".{raw['type']}.", 1)[0] if address.startswith("module.") else ""
            if raw.get("mode") == "data" and address.startswith("module."):
                module = address.rsplit(".data.", 1)[0]
            self.resources[address] = Resource(
                address=address,
                type=raw["type"],
                mode=raw.get("mode", "managed"),
                values=raw.get("values") or change.get("after") or {},
                unknown=change.get("after_unknown", {}),
                module=module,
                index=_index_of(address),
            )
        # resources only in resource_changes (data sources read during apply, older formats)
        for address, change in changes.items():
            if address in self.resources or change.get("change", {}).get("actions") == ["delete"]:
                continue
            after = change.get("change", {}).get("after")
            if after is None:
                continue
            module = change.get("module_address", "")
            self.resources[address] = Resource(
                address,
                change["type"],
                change.get("mode", "managed"),
                after,
                change["change"].get("after_unknown", {}),
                module,
                _index_of(address),
            )
        configuration = _configuration(data.get("configuration", {}).get("root_module", {}), "")
        for resource in self.resources.values():
            resource.expressions = configuration.get((resource.module, resource.name_in_module), {})

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources.values() if r.type in types)

    def referenced(self, resource: Resource, attribute: str, *types: str) -> Resource | None:
        """The resource of one of ``types`` that ``resource.attribute`` refers to."""
        expression = resource.expressions.get(attribute)
        references = expression.get("references", []) if isinstance(expression, dict) else []
        for reference in references:
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


def _walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _walk(child)


def _configuration(module: dict[str, Any], path: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {(path, r["address"]): r.get("expressions", {}) for r in module.get("resources", []) if "address" in r}
    for name, call in module.get("module_calls", {}).items():
        child = f"{path}.module.{name}" if path else f"module.{name}"
        found.update(_configuration(call.get("module", {}), child))
    return found
