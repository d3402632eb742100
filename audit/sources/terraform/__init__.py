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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.files import read_input
from audit.inventory import InputRecord, arn_account
from audit.model import InventoryDocument
from audit.sources.aws.tags import TagMapping
from audit.sources.terraform.builder import SOURCE, Draft
from audit.sources.terraform.iam import Principals
from audit.sources.terraform.jobs import JobsAndTables
from audit.sources.terraform.kms import Keys
from audit.sources.terraform.plan import Plan
from audit.sources.terraform.s3 import PAB_FLAGS, PUBLIC_ACLS, Buckets
from audit.yamlfile import ParseFailure, decode

E = TypeVar("E")


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
    raw = read_input(path)
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
    return transform(read(path), str(path), hashlib.sha256(read_input(path)).hexdigest(), mapping)


def transform(data: dict[str, Any], filename: str, digest: str, mapping: TagMapping | None = None) -> Loaded:
    builder = _Builder(Plan(data), filename, mapping or TagMapping())
    return Loaded(builder.build(), InputRecord(SOURCE, filename, digest), builder.gaps)


class _Builder(Keys, Buckets, Principals, JobsAndTables):
    """The inventory a plan describes, built part by part (each part is one module)."""

    def build(self) -> InventoryDocument:
        self._keys()
        self._buckets()
        self._bucket_settings()
        self._managed_policies()
        self._principals()
        self._principal_policies()
        self._distinct_principals()
        self._jobs_and_tables()
        for skipped in self.plan.skipped:
            self.note("terraform plan", skipped, ("*",))
        stores = [s for d in self.buckets.values() if (s := self._converted(d, self._store))] + self.stores
        principals = [p for d in self.principals.values() if (p := self._converted(d, self._principal))]
        keys = [k for d in self.keys.values() if (k := self._converted(d, self._key))]
        return InventoryDocument(version=1, stores=stores, principals=principals, kms_keys=keys, jobs=self.jobs)

    # -- KMS ---------------------------------------------------------------------------------

    def _converted(self, draft: Draft, convert: Callable[[Draft], E]) -> E | None:
        with self.guard_address(draft.address):
            return convert(draft)
        return None


__all__ = ["PAB_FLAGS", "PUBLIC_ACLS", "SOURCE", "Loaded", "arn_account", "load", "looks_like", "read", "transform"]
