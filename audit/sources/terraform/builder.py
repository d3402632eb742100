"""What every part of the plan reader shares: the drafts of entities being built from
resources, where each field came from, and the coverage notes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from audit.coverage import CoverageGap
from audit.model import Job, Store
from audit.sources.aws.tags import TagMapping
from audit.sources.terraform.plan import Plan, Resource

SOURCE = "terraform"


@dataclass
class Draft:
    address: str
    fields: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)


class Builder:
    def __init__(self, plan: Plan, filename: str, mapping: TagMapping) -> None:
        self.plan = plan
        self.filename = filename
        self.mapping = mapping
        self.gaps: list[CoverageGap] = []
        self.buckets: dict[str, Draft] = {}  # by bucket address
        self.bucket_names: dict[str, str] = {}  # bucket name -> address
        self.principals: dict[str, Draft] = {}
        self.groups: dict[str, Draft] = {}
        self.keys: dict[str, Draft] = {}
        self.managed: dict[str, dict[str, Any] | None] = {}  # policy ARN or address -> document
        self.jobs: list[Job] = []
        self.stores: list[Store] = []

    def at(self, resource: Resource) -> str:
        return f"{self.filename} {resource.address}"

    def note(self, scope: str, reason: str, checks: tuple[str, ...] = ()) -> None:
        self.gaps.append(CoverageGap(scope=scope, reason=f"{reason} ({self.filename})", checks=checks))

    @contextmanager
    def guard(self, resource: Resource) -> Iterator[None]:
        """A resource whose values are not of the shape Terraform writes is left out, named in a
        coverage gap that leaves every check short of evidence; the rest of the plan is used."""
        with self.guard_address(resource.address):
            yield

    @contextmanager
    def guard_address(self, address: str) -> Iterator[None]:
        try:
            yield
        except MALFORMED as exc:
            self.note(
                f"resource:{address}",
                f"not of the shape Terraform writes ({malformation(exc)}): left out, so what it configures is unknown",
                ("*",),
            )

    def _set(self, draft: Draft, resource: Resource, name: str, value: Any) -> None:
        draft.fields[name] = value
        draft.locations[name] = self.at(resource)

    def _key_arn(self, owner: Resource, attribute: str, value: Any) -> str | None:
        target = self.plan.referenced(owner, attribute, "aws_kms_key")
        if target is not None and target.address in self.keys:
            return str(self.keys[target.address].fields["arn"])
        return str(value) if value else None


# What reading a value of the wrong shape raises (a string where a mapping is expected, a
# list of the wrong shape, a missing key, an entity the model refuses).
MALFORMED = (TypeError, AttributeError, KeyError, IndexError, ValueError, ValidationError)


def malformation(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    if isinstance(exc, KeyError):
        return f"no {exc}"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def indexed(draft: Draft) -> dict[str, str]:
    """Field locations, with each entry of a list field located at its field's resource."""
    locations = dict(draft.locations)
    for name in ("classes", "passed_gates", "replicates_to", "gate"):
        for index in range(len(draft.fields.get(name, []))):
            locations.setdefault(f"{name}[{index}]", draft.locations.get(name, ""))
    return locations
