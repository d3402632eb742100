"""Coverage gaps: what the audit could not see. A gap is never a pass."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CoverageGap(BaseModel):
    """Something in scope the audit could not establish.

    ``checks`` holds check-id patterns (``ISO-*``, ``*``) whose conclusions the gap
    undermines and ``claims`` names claims it undermines directly; the engine turns both
    into the claims that become insufficient-evidence.
    """

    model_config = ConfigDict(frozen=True)

    scope: str
    reason: str
    checks: tuple[str, ...] = Field(default=("*",))
    claims: tuple[str, ...] = ()
