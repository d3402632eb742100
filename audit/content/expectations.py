"""Expectation suites: data files of Great Expectations column expectations, run by GX 1.x.

A suite file names expectations by their GX type and arguments, and says which columns of
each training dataset they apply to (``column``, a list in ``columns``, or ``columns: text``
for every column whose values are strings). A string ``${name}`` anywhere in a suite is
replaced by the check's parameter or inventory-derived value of that name (quote it:
``"${name}"``), so a suite states the rule and the audited organisation supplies the
values::

    name: consent
    expectations:
      - id: consumer-consent
        label: consumer rows carry opt-in consent
        type: expect_column_values_to_be_in_set
        column: "${consent_column}"
        kwargs: {value_set: "${consent_values}"}
        row_condition: {column: "${source_column}", is_in: "${consumer_sources}"}

``confirm: luhn`` re-checks each unexpected value (a digit run is a card number only when
its Luhn check digit is right); ``confirm: phone`` with ``regions: [US, GB]`` keeps a value
only when ``phonenumbers`` finds a valid number of those regions (or a ``+``-prefixed one)
in it; ``report: matches`` keeps the distinct regex matches (the inventory identifiers
found), never the values around them.

GX runs in an ephemeral context with analytics and progress bars off; the same suite runs
on pandas (per chunk) and on Spark (the GX Spark datasource).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.content.datasets import OBJECT, ROW
from audit.errors import InputError, Problem
from audit.validation import validate
from audit.yamlfile import ParseFailure, decode, load_with_lines

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [OBJECT, ROW]}
_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ConditionSpec(BaseModel):
    """Rows the expectation applies to: ``column`` equal to ``equals`` or in ``is_in``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    equals: str | None = None
    is_in: list[str] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> ConditionSpec:
        if (self.equals is None) == (self.is_in is None):
            raise ValueError("give exactly one of equals or is_in")
        return self


class ExpectationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str = Field(min_length=1)
    type: str = Field(pattern=r"^expect_column_values_to_[a-z_]+$")
    column: str | None = None
    columns: Literal["text", "all"] | list[str] | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    row_condition: ConditionSpec | None = None
    confirm: Literal["luhn", "phone"] | None = None
    regions: list[str] | None = None  # confirm: phone: the regions whose numbering plans apply
    report: Literal["matches"] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ExpectationSpec:
        if (self.column is None) == (self.columns is None):
            raise ValueError("give exactly one of column or columns")
        if self.regions is not None and self.confirm != "phone":
            raise ValueError("regions apply to confirm: phone only")
        for region in self.regions or []:
            if not _is_region(region):
                raise ValueError(f"{region!r} is not a region libphonenumber knows (use ISO 3166 codes: US, GB, DE)")
        if self.report == "matches" and "regex" not in self.kwargs:
            raise ValueError("report: matches needs a regex in kwargs")
        return self


def _is_region(code: str) -> bool:
    import phonenumbers

    return code in phonenumbers.SUPPORTED_REGIONS


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    expectations: list[ExpectationSpec] = Field(min_length=1)


def _substitute(value: Any, values: Mapping[str, Any], where: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        match = _PLACEHOLDER.match(value.strip())
        if match:
            name = match.group(1)
            if name not in values:
                problems.append(f"{where}: no value for ${{{name}}} (known: {', '.join(sorted(values)) or 'none'})")
                return value
            return values[name]
        return value
    if isinstance(value, list):
        return [_substitute(v, values, where, problems) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, values, f"{where}.{k}", problems) for k, v in value.items()}
    return value


def load_suite_file(path: Path, values: Mapping[str, Any]) -> SuiteFile:
    """A suite file, validated, with its ``${...}`` placeholders filled in."""
    filename = str(path)
    try:
        data, lines = load_with_lines(decode(path.read_bytes(), filename), filename)
    except OSError as exc:
        raise InputError(
            [Problem(filename, None, "", f"cannot read: {exc.strerror or exc}", "name an expectation suite file")]
        ) from None
    except ParseFailure as exc:
        raise InputError(exc.problems) from None
    problems: list[str] = []
    filled = _substitute(data, values, "expectations", problems)
    if problems:
        raise InputError([Problem(filename, None, "", p, "set the value in the suite's params") for p in problems])
    suite = validate(SuiteFile, filled, filename, lines)
    unknown = [e.type for e in suite.expectations if gx_class(e.type) is None]
    if unknown:
        raise InputError(
            [
                Problem(
                    filename,
                    None,
                    "expectations.type",
                    f"{name} is not a Great Expectations column-map expectation",
                    "use a GX 1.x expectation such as expect_column_values_to_not_match_regex",
                )
                for name in unknown
            ]
        )
    return suite


def quiet_gx() -> None:
    """No analytics calls (the audit never phones home), no progress bars, no chatter."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the second sets itself to INFO on import


def gx_class(type_name: str) -> Any:
    quiet_gx()
    import great_expectations.expectations as gxe
    from great_expectations.expectations.expectation import ColumnMapExpectation

    found = getattr(gxe, "".join(part.capitalize() for part in type_name.split("_")), None)
    return found if isinstance(found, type) and issubclass(found, ColumnMapExpectation) else None


@dataclass(frozen=True)
class Planned:
    """One expectation on one column, ready for GX; ``key`` ties GX's result back to it."""

    key: str
    check: str
    spec: ExpectationSpec
    column: str


def plan(
    check: str, suites: Sequence[SuiteFile], columns: Sequence[str], text_columns: Sequence[str]
) -> tuple[list[Planned], list[tuple[str, str]]]:
    """The expectations that apply to a dataset with these columns, and the named columns
    it lacks as (expectation id, column): where a named column is absent from a whole
    dataset, the rule cannot be checked there (a gap, never a pass)."""
    planned: list[Planned] = []
    absent: list[tuple[str, str]] = []
    for suite in suites:
        for spec in suite.expectations:
            if spec.column is not None:
                targets = [spec.column]
            elif spec.columns == "text":
                targets = list(text_columns)
            elif spec.columns == "all":
                targets = list(columns)
            else:
                targets = list(spec.columns or [])
            named = [] if spec.columns in ("text", "all") else list(targets)
            if spec.row_condition is not None:
                named.append(spec.row_condition.column)
            lacking = [c for c in named if c not in columns]
            if lacking:
                absent.extend((spec.id, c) for c in lacking)
                continue
            for column in targets:
                if column in columns:
                    planned.append(Planned(f"{check}|{suite.name}|{spec.id}|{column}", check, spec, column))
    return planned, absent


def named_columns(suites: Sequence[SuiteFile]) -> dict[str, list[str]]:
    """Per expectation, the columns a dataset must have for the rule to be checked at all.

    Without a row condition, the columns it names. With one, only the condition's column:
    where the condition selects rows, a missing target column means those rows lack the
    value (each counts, as a missing value); where no column tells which rows the rule is
    for, it cannot be applied."""
    named: dict[str, list[str]] = {}
    for suite in suites:
        for spec in suite.expectations:
            if spec.row_condition is not None:
                named[spec.id] = [spec.row_condition.column]
            elif spec.column:
                named[spec.id] = [spec.column]
            else:
                named[spec.id] = [] if spec.columns in ("text", "all") else list(spec.columns or [])
    return named


def build(planned: Planned) -> Any:
    """The GX expectation object."""
    from great_expectations.expectations.row_conditions import Column

    spec = planned.spec
    arguments: dict[str, Any] = {"column": planned.column, **spec.kwargs, "meta": {"key": planned.key}}
    if spec.row_condition is not None:
        condition = Column(spec.row_condition.column)
        arguments["row_condition"] = (
            condition == spec.row_condition.equals
            if spec.row_condition.equals is not None
            else condition.is_in(spec.row_condition.is_in or [])
        )
    return gx_class(spec.type)(**arguments)


class GxRunner:
    """An ephemeral GX context with one dataframe asset on pandas or Spark."""

    def __init__(self, engine: Literal["pandas", "spark"]) -> None:
        quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        quiet_gx()  # importing GX set its own log level
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = (
            context.data_sources.add_pandas("tenant-audit")
            if engine == "pandas"
            else context.data_sources.add_spark("tenant-audit")
        )
        self._batches = source.add_dataframe_asset("records").add_batch_definition_whole_dataframe("all")
        self._count = 0

    def validate(self, frame: Any, planned: Sequence[Planned]) -> dict[str, dict[str, Any]]:
        """GX's result (the ``result`` mapping, or ``{"error": ...}``) per planned key."""
        if not planned:
            return {}
        self._count += 1
        suite = self._gx.ExpectationSuite(name=f"run-{self._count}", expectations=[build(p) for p in planned])
        batch = self._batches.get_batch(batch_parameters={"dataframe": frame})
        with warnings.catch_warnings():  # GX's own deprecation and regex-group warnings
            warnings.simplefilter("ignore")
            outcome = batch.validate(suite, result_format=RESULT_FORMAT)
        results: dict[str, dict[str, Any]] = {}
        for result in outcome.results:
            config = result.expectation_config
            key = str(((config.meta if config is not None else None) or {}).get("key", ""))
            info = result.exception_info or {}
            raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
            if info.get("raised_exception") or raised:
                message = info.get("exception_message") or (raised[0].get("exception_message") if raised else "")
                results[key] = {"error": str(message)}
            else:
                results[key] = dict(result.result)
        return results
