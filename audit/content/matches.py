"""Confirmed matches: one row per training record holding a protected record or canary,
aggregated into the match sets the report shows (locations and digests, never values)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.content.datasets import DataObject, display
from audit.content.normalise import CANARY, mask_cards
from audit.content.results import EXAMPLES, Example, MatchSet
from audit.redact import redact_text

if TYPE_CHECKING:
    from audit.content.plan import Plan


@dataclass(frozen=True, order=True)
class MatchRow:
    """One confirmed match: a training record holding a protected store's record or canary."""

    protected: str
    training: str
    object_index: int
    row: int
    column: str
    kind: str
    location: str
    source: str
    digest: str
    value: str | None = None


def shown(value: str | None, show_values: bool) -> str | None:
    """A value as the report may show it: only when asked, never a secret or a whole card."""
    if not show_values or value is None:
        return None
    text = redact_text(mask_cards(value))
    return text if len(text) <= 200 else text[:199] + "…"


def aggregate(rows: Iterable[MatchRow]) -> list[MatchSet]:
    """Match sets per (protected store, training store): distinct records, per kind, and the
    first records in object and row order as examples."""
    groups: dict[tuple[str, str], list[MatchRow]] = {}
    for row in rows:
        groups.setdefault((row.protected, row.training), []).append(row)
    sets = []
    for (protected, training), members in sorted(groups.items()):
        members.sort()
        records = {(m.object_index, m.row) for m in members}
        by_kind: dict[str, int] = {}
        for kind in sorted({m.kind for m in members}):
            by_kind[kind] = len({(m.object_index, m.row) for m in members if m.kind == kind})
        examples: list[Example] = []
        seen: set[tuple[int, int]] = set()
        for m in members:
            if (m.object_index, m.row) in seen:
                continue
            seen.add((m.object_index, m.row))
            examples.append(Example(m.object_index, m.row, m.location, m.column, m.kind, m.source, m.digest, m.value))
            if len(examples) >= EXAMPLES:
                break
        sets.append(
            MatchSet(
                protected=protected,
                training=training,
                rows=len(records),
                by_kind=by_kind,
                canaries=sorted({m.digest for m in members if m.kind == CANARY}),
                examples=examples,
            )
        )
    return sets


def location_of(obj: DataObject, row: int) -> str:
    return f"{display(obj.uri)}#row={row}"


def locate_in(objects: Sequence[DataObject], obj_index: int, row: int) -> str:
    return location_of(objects[obj_index], row)


def count_hit_rows(scan_plan: Plan, matches: Sequence[MatchRow]) -> None:
    rows: dict[str, set[tuple[int, int]]] = {}
    for match in matches:
        rows.setdefault(match.training, set()).add((match.object_index, match.row))
    for dataset in scan_plan.training:
        scan_plan.stats[(dataset.store, "training")].hit_rows = len(rows.get(dataset.store, set()))
