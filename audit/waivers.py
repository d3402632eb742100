"""Waivers: accepted risks, named by finding id or glob, each with a reason, an owner and an
expiry date. A waived finding stays in the report, marked and counted apart, and stops
failing the build; an expired waiver waives nothing (it fails closed) and says so.

    - finding: ISO-001-06f193c7535b          # or a glob: ACC-001-*
      reason: eval harness approved by the privacy review PRIV-142, read-only, 30 days
      owner: ml-platform@example.com
      expires: 2026-12-31
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel

from audit.errors import InputError, Problem
from audit.findings import Finding
from audit.validation import validate
from audit.yamlfile import load_small_file


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str = Field(min_length=1, pattern=r"^[A-Za-z0-9*?\[\]_-]+$")
    reason: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    expires: date


class _WaiverFile(RootModel[list[Waiver]]):
    pass


def load_waivers(path: Path) -> list[Waiver]:
    """Every waiver of the file; a malformed file is an input error (exit 2), naming lines."""
    filename = str(path)
    data, lines = load_small_file(path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError(
            [
                Problem(
                    filename,
                    1,
                    "",
                    "a waivers file is a YAML list of waivers",
                    "write '- finding: ID' entries with reason, owner and expires",
                )
            ]
        )
    return validate(_WaiverFile, data, filename, lines).root


@dataclass
class WaiverOutcome:
    applied: dict[str, Waiver] = field(default_factory=dict)  # finding id -> the waiver used
    expired: list[Waiver] = field(default_factory=list)
    unused: list[Waiver] = field(default_factory=list)


def apply_waivers(findings: Iterable[Finding], waivers: Iterable[Waiver], today: date) -> WaiverOutcome:
    """Mark the findings a current waiver covers; expired waivers cover nothing."""
    outcome = WaiverOutcome()
    active: list[Waiver] = []
    for waiver in waivers:
        (outcome.expired if waiver.expires < today else active).append(waiver)
    used: set[int] = set()
    for finding in findings:
        for index, waiver in enumerate(active):
            if fnmatch.fnmatchcase(finding.id, waiver.finding):
                finding.waived = True
                finding.waiver = waiver.model_dump(mode="json")
                outcome.applied[finding.id] = waiver
                used.add(index)
                break
    outcome.unused = [w for i, w in enumerate(active) if i not in used]
    return outcome
