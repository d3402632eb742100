"""Compliance mappings: which controls of which framework each claim gives evidence for.

A mapping is a data file (``checks/mappings/*.yaml`` ships SOC 2, ISO/IEC 27001:2022 Annex A,
ISO/IEC 42001:2023, the GDPR and Article 10 of the EU AI Act); every control in it cites
where in the framework it comes from and says why the claim's checks bear on it. Users add
their own with ``--mapping FILE``; a file for a framework id already loaded replaces it (the
reviewed mapping of the organisation wins over the shipped one).

    framework: soc2
    name: SOC 2 Trust Services Criteria
    version: "2017 TSC (revised points of focus, 2022)"
    source: AICPA TSP section 100
    label: SOC 2
    controls:
      - {id: CC6.1, title: ..., cite: "TSP 100, CC6.1", claims: [C7, C8], why: ...}

The report carries each framework with its controls narrowed to the claims of the suite
that ran; renderers show the controls per claim and per framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from audit.errors import InputError, Problem
from audit.validation import validate
from audit.yamlfile import load_small_file


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    cite: str = Field(min_length=1)  # where in the framework's own text the control is
    claims: list[str] = Field(min_length=1)
    why: str = ""


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str = Field(min_length=1)
    label: str = ""  # short name for tags and tables ("SOC 2"); default: the framework id
    version: str = ""
    source: str = Field(min_length=1)
    controls: list[Control] = Field(min_length=1)

    @property
    def short(self) -> str:
        return self.label or self.framework

    def for_claims(self, claim_ids: Iterable[str]) -> Framework:
        """This framework with only the controls (and claims) that bear on ``claim_ids``."""
        wanted = set(claim_ids)
        controls = [
            c.model_copy(update={"claims": [k for k in c.claims if k in wanted]})
            for c in self.controls
            if wanted & set(c.claims)
        ]
        return self.model_copy(update={"controls": controls})


def load_framework(path: Path) -> Framework:
    filename = str(path)
    data, lines = load_small_file(path)
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    filename,
                    1,
                    "",
                    "a mapping file is a YAML mapping: framework, name, source and controls",
                    "see checks/mappings/soc2.yaml for the format",
                )
            ]
        )
    framework = validate(Framework, data, filename, lines)
    seen: set[str] = set()
    for index, control in enumerate(framework.controls):
        if control.id in seen:
            line = lines.get(("controls", index))
            raise InputError([Problem(filename, line, f"controls[{index}].id", f"{control.id} is listed twice")])
        seen.add(control.id)
    return framework


def load_frameworks(directory: Path | None, extra: Sequence[Path] = ()) -> tuple[Framework, ...]:
    """The built-in mappings in ``directory`` (name order), then each of ``extra``, a later
    file replacing an earlier one of the same framework id."""
    files = sorted(directory.glob("*.yaml")) if directory is not None else []
    loaded: dict[str, Framework] = {}
    for path in [*files, *extra]:
        framework = load_framework(path)
        loaded.pop(framework.framework, None)
        loaded[framework.framework] = framework
    return tuple(loaded.values())


def controls_of(frameworks: Iterable[Framework], claim_id: str) -> list[tuple[Framework, Control]]:
    return [(f, c) for f in frameworks for c in f.controls if claim_id in c.claims]
