"""The engagement: who assessed the estate, for whom, over which period, and in what scope.

It comes from an ``audit:`` file given with ``--audit-info``; everything in it is optional.
Without a named auditor the report calls itself an automated assessment, never an
independent audit, because nobody independent has looked at it.

    audit:
      auditor: {name: Jane Roe, role: Lead auditor, organisation: Roe & Partners LLP}
      preparer: {name: Sam Lee, role: Privacy engineer}
      contact: privacy@example.com
      period: {start: 2026-10-01, end: 2026-12-31}
      scope: Production AWS accounts of the serving and training zones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.errors import InputError, Problem
from audit.validation import validate
from audit.yamlfile import load_small_file


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str = ""
    organisation: str = ""


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        return self


class Engagement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    auditor: Person | None = None
    preparer: Person | None = None
    contact: str = ""
    period: Period = Field(default_factory=Period)
    scope: str = ""

    @property
    def independent(self) -> bool:
        """A named auditor signs it: only then is it an audit rather than an automated assessment."""
        return self.auditor is not None


class _EngagementFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audit: Engagement


def load_engagement(path: Path) -> Engagement:
    """The ``audit:`` section of ``path``; a malformed file is an input error (exit 2), naming lines."""
    filename = str(path)
    data, lines = load_small_file(path)
    if not isinstance(data, dict) or "audit" not in data:
        raise InputError(
            [
                Problem(
                    filename,
                    1,
                    "",
                    "an audit-info file is a YAML mapping with one key, 'audit'",
                    "write 'audit:' then auditor, preparer, contact, period and scope under it",
                )
            ]
        )
    return validate(_EngagementFile, data, filename, lines).audit
