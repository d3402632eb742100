"""The accounts file for multi-account audits: which accounts to enter with --assume-role.

accounts:
  - {id: "111111111111", name: serving}
  - "222222222222"
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from audit.model import AccountId
from audit.sources.aws import AccountTarget
from audit.validation import validate
from audit.yamlfile import load_small_file


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: AccountId
    name: Annotated[str, Field(min_length=1)] | None = None


class _AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountId | _Entry] = Field(min_length=1)


def load_targets(path: Path) -> tuple[AccountTarget, ...]:
    filename = str(path)
    data, lines = load_small_file(path)
    if not isinstance(data, dict):  # a bare list of accounts
        data, lines = {"accounts": data}, {("accounts", *path): line for path, line in lines.items()}
    parsed = validate(_AccountsFile, data, filename, lines)
    return tuple(
        AccountTarget(entry) if isinstance(entry, str) else AccountTarget(entry.id, entry.name)
        for entry in parsed.accounts
    )
