"""Expectation results: GX's per-chunk results summed per (check, expectation, store,
column), and the gaps where a dataset lacks the columns a rule needs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from audit.content.datasets import OBJECT, ROW, DataObject, Dataset
from audit.content.detectors import confirmer
from audit.content.expectations import named_columns, plan
from audit.content.matches import location_of, shown
from audit.content.normalise import digest, normalise_text
from audit.content.plan import Plan
from audit.content.results import EXAMPLES, ContentGap, Example, ExpectationOutcome


class OutcomeBook:
    """Expectation results per (check, expectation, store, column), summed over chunks."""

    def __init__(self, show_values: bool) -> None:
        self.show_values = show_values
        self.outcomes: dict[tuple[str, str, str, str], ExpectationOutcome] = {}
        self._matched: dict[tuple[str, str, str, str], set[str]] = {}

    def absorb(self, planned: Any, store: str, objects: Sequence[DataObject], result: Mapping[str, Any]) -> str | None:
        """Add one GX result; returns an error message when GX could not evaluate it."""
        spec = planned.spec
        key = (planned.check, spec.id, store, planned.column)
        outcome = self.outcomes.get(key)
        if outcome is None:
            outcome = ExpectationOutcome(
                check=planned.check,
                expectation=spec.id,
                label=spec.label,
                gx_type=spec.type,
                store=store,
                column=planned.column,
                arguments={k: v for k, v in spec.kwargs.items() if k != "meta"}
                | ({"row_condition": spec.row_condition.model_dump(exclude_none=True)} if spec.row_condition else {}),
            )
            self.outcomes[key] = outcome
        if "error" in result:
            return str(result["error"])
        outcome.evaluated += int(result.get("element_count") or 0)
        outcome.missing += int(result.get("missing_count") or 0)
        confirm = confirmer(spec.confirm, spec.regions)
        regex = re.compile(spec.kwargs["regex"]) if spec.report == "matches" else None
        rows: list[tuple[int, int, Any]] = []
        for item in result.get("unexpected_index_list") or []:
            value = item.get(planned.column)
            if confirm is not None and not confirm(value):
                continue
            rows.append((int(item[OBJECT]), int(item[ROW]), value))
        rows.sort(key=lambda r: (r[0], r[1]))
        outcome.unexpected += len(rows)
        if regex is not None:
            found = self._matched.setdefault(key, set())
            for _, _, value in rows:
                if isinstance(value, str):
                    found.update(match.casefold() for match in regex.findall(value) if isinstance(match, str))
            outcome.matched = sorted(found)
        examples = list(outcome.examples)
        for obj_index, row, value in rows[:EXAMPLES]:
            text = value if isinstance(value, str) else ("" if value is None else str(value))
            examples.append(
                Example(
                    obj_index,
                    row,
                    location_of(objects[obj_index], row),
                    planned.column,
                    "expectation",
                    "",
                    digest(normalise_text(text) or ""),
                    shown(text, self.show_values),
                )
            )
        outcome.examples = sorted(examples)[:EXAMPLES]
        return None

    def discard(self, check: str, expectation: str, store: str) -> None:
        """Forget an expectation's results on a dataset (it could not be checked there)."""
        for key in [k for k in self.outcomes if k[:3] == (check, expectation, store)]:
            del self.outcomes[key]

    def results(self) -> list[ExpectationOutcome]:
        return [self.outcomes[k] for k in sorted(self.outcomes)]


def planned_for(scan_plan: Plan, columns: Sequence[str], text_columns: Sequence[str]) -> tuple[list[Any], list[str]]:
    """Every check's expectations for records with these columns (validated together, in one
    GX run), and the named columns the records lack, to be added as empty."""
    absent: set[str] = set()
    for check, suites in scan_plan.suites:
        absent.update(column for _, column in plan(check, suites, columns, text_columns)[1])
    missing = sorted(absent)
    planned: list[Any] = []
    for check, suites in scan_plan.suites:
        planned.extend(plan(check, suites, [*columns, *missing], text_columns)[0])
    return planned, missing


def absorb_all(
    scan_plan: Plan,
    book: OutcomeBook,
    results: Mapping[str, Mapping[str, Any]],
    planned: Sequence[Any],
    dataset: Dataset,
) -> None:
    by_key = {p.key: p for p in planned}
    for key, result in results.items():
        chosen = by_key[key]
        error = book.absorb(chosen, dataset.store, dataset.objects, result)
        if error:
            expectation_gap(scan_plan, chosen.check, dataset.store, f"{chosen.spec.id}: {error}")


def finish_dataset(scan_plan: Plan, book: OutcomeBook, dataset: Dataset, columns_seen: set[str]) -> None:
    """An expectation whose columns the whole dataset lacks was not checked there: a gap."""
    for check, suites in scan_plan.suites:
        for spec_id, named in named_columns(suites).items():
            never = sorted(c for c in named if c not in columns_seen)
            if never:
                book.discard(check, spec_id, dataset.store)
                expectation_gap(
                    scan_plan,
                    check,
                    dataset.store,
                    f"{spec_id}: the dataset has no column {', '.join(repr(c) for c in never)}: "
                    "the rule was not checked",
                )


def expectation_gap(scan_plan: Plan, check: str, store: str, reason: str) -> None:
    gap = ContentGap(scope=f"store:{store}", reason=f"training dataset {store}: {reason}", checks=(check,))
    if gap not in scan_plan.results.gaps:
        scan_plan.results.gaps.append(gap)
