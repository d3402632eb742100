"""Suites: YAML files that state the claims, select the checks behind each, set parameters.

``--suite NAME`` looks in the built-in suites directory; ``--suite FILE`` reads a file.
A claim whose check patterns match no installed check stays in the report with a
coverage gap (insufficient-evidence), so a missing check can never look like a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.checkapi import Check, matching
from audit.coverage import CoverageGap
from audit.errors import InputError, Problem
from audit.validation import line_of, problems_from, suggest, validate
from audit.yamlfile import LineMap, load_small_file


class ClaimSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^C\d+$")
    text: str = Field(min_length=1)
    checks: list[str] = Field(default_factory=list)


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    claims: list[ClaimSpec] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class SelectedCheck:
    check: Check
    params: BaseModel
    claim_ids: tuple[str, ...]


@dataclass
class Suite:
    name: str
    description: str
    path: str
    claims: list[ClaimSpec]
    selected: dict[str, SelectedCheck] = field(default_factory=dict)
    gaps: list[CoverageGap] = field(default_factory=list)

    def claim_checks(self, claim_id: str) -> list[str]:
        return sorted(i for i, s in self.selected.items() if claim_id in s.claim_ids)


def find_suite(ref: str, suites_dir: Path) -> Path:
    path = Path(ref)
    if path.is_file():
        return path
    builtin = suites_dir / f"{ref}.yaml"
    if builtin.is_file():
        return builtin
    known = sorted(p.stem for p in suites_dir.glob("*.yaml"))
    hint = suggest(ref, known)
    raise InputError(
        [
            Problem(
                ref,
                None,
                "--suite",
                "no such suite file or built-in suite",
                "; ".join(p for p in (hint, f"built-in suites: {', '.join(known)}") if p),
            )
        ]
    )


def load_suite(ref: str, suites_dir: Path, checks: Mapping[str, Check]) -> Suite:
    path = find_suite(ref, suites_dir)
    filename = str(path)
    data, lines = load_small_file(path)
    if not isinstance(data, dict):
        raise InputError([Problem(filename, 1, "", "a suite must be a mapping with name and claims")])
    spec = validate(SuiteSpec, data, filename, lines)
    return resolve(spec, filename, lines, checks)


def resolve(spec: SuiteSpec, filename: str, lines: LineMap, checks: Mapping[str, Check]) -> Suite:
    problems: list[Problem] = []
    suite = Suite(spec.name, spec.description, filename, list(spec.claims))
    claims_of: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, claim in enumerate(spec.claims):
        if claim.id in seen:
            problems.append(
                Problem(
                    filename,
                    line_of(lines, ("claims", index, "id")),
                    f"claims[{index}].id",
                    f"claim {claim.id} is stated twice",
                    "state each claim once",
                )
            )
        seen.add(claim.id)
        if not claim.checks:
            suite.gaps.append(
                CoverageGap(
                    scope=f"claim:{claim.id}",
                    reason="the suite names no check for this claim",
                    checks=(),
                    claims=(claim.id,),
                )
            )
        for pattern in claim.checks:
            matched = matching(checks, pattern)
            if not matched:
                suite.gaps.append(_unmatched(claim.id, pattern, checks))
            for check in matched:
                claims_of.setdefault(check.id, []).append(claim.id)
    for pattern in spec.checks:
        matched = matching(checks, pattern)
        if not matched:
            suite.gaps.append(_unmatched(None, pattern, checks))
        for check in matched:
            claims_of.setdefault(check.id, [])
    for check_id in spec.params:
        if check_id not in claims_of:
            problems.append(
                Problem(
                    filename,
                    line_of(lines, ("params", check_id)),
                    f"params.{check_id}",
                    "parameters for a check this suite does not run",
                    suggest(check_id, sorted(claims_of)) or "add the check to a claim or remove them",
                )
            )
    for check_id, claim_ids in sorted(claims_of.items()):
        check = checks[check_id]
        merged = {**check.defaults, **spec.params.get(check_id, {})}
        try:
            params = check.params.model_validate(merged)
        except ValidationError as exc:
            problems.extend(problems_from(exc, check.params, merged, filename, _shift(lines, ("params", check_id))))
            continue
        suite.selected[check_id] = SelectedCheck(check, params, tuple(dict.fromkeys(claim_ids)))
    if problems:
        raise InputError(problems)
    return suite


def _unmatched(claim_id: str | None, pattern: str, checks: Mapping[str, Check]) -> CoverageGap:
    hint = suggest(pattern, sorted(checks))
    reason = f"no installed check matches '{pattern}'" + (f" ({hint})" if hint else "")
    if claim_id is None:
        return CoverageGap(scope=f"suite:{pattern}", reason=reason, checks=())
    return CoverageGap(scope=f"claim:{claim_id}", reason=reason, checks=(), claims=(claim_id,))


def _shift(lines: LineMap, prefix: tuple[str, ...]) -> LineMap:
    """Re-root the line map at ``prefix`` so parameter errors point into the params block."""
    shifted = {path[len(prefix) :]: line for path, line in lines.items() if path[: len(prefix)] == prefix}
    shifted.setdefault((), line_of(lines, prefix) or 1)
    return shifted
