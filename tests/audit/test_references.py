"""The set-based shortcut of the reference check agrees with the check itself: it may only
say "every reference is known" when the full check finds no problem."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from audit.inventory import Inventory
from audit.references import _all_known, _reference_problems
from audit.sources import load_inventory
from tests.conftest import EXAMPLE_ORG, LEAKS


def _breakages() -> dict[str, Callable[[Inventory], None]]:
    def first(mapping: dict[str, object]) -> object:
        return next(iter(mapping.values()))

    return {
        "nothing": lambda inv: None,
        "job reads an unknown store": lambda inv: first(inv.jobs).reads.append("nowhere"),  # type: ignore[attr-defined]
        "job writes an unknown store": lambda inv: first(inv.jobs).writes.append("nowhere"),  # type: ignore[attr-defined]
        "job runs as nobody": lambda inv: setattr(first(inv.jobs), "runs_as", "nobody"),
        "job in an unknown account": lambda inv: setattr(first(inv.jobs), "account", "999"),
        "job with an unknown gate": lambda inv: first(inv.jobs).gate.append("wash"),  # type: ignore[attr-defined]
        "store of an unknown class": lambda inv: first(inv.stores).classes.append("secret"),  # type: ignore[attr-defined]
        "store of an unknown tenant": lambda inv: setattr(first(inv.stores), "tenant", "nobody"),
        "store in an unknown account": lambda inv: setattr(first(inv.stores), "account", "999"),
        "store replicates nowhere": lambda inv: first(inv.stores).replicates_to.append("nowhere"),  # type: ignore[attr-defined]
        "store passed an unknown gate": lambda inv: first(inv.stores).passed_gates.append("wash"),  # type: ignore[attr-defined]
        "principal reads an unknown store": lambda inv: first(inv.principals).can_read.append("x"),  # type: ignore[attr-defined]
        "principal writes an unknown store": lambda inv: first(inv.principals).can_write.append("x"),  # type: ignore[attr-defined]
        "principal trusts a bad name": lambda inv: first(inv.principals).trusts.append("not a name"),  # type: ignore[attr-defined]
        "principal of an unknown tenant": lambda inv: setattr(first(inv.principals), "tenant", "nobody"),
        "principal in an unknown account": lambda inv: setattr(first(inv.principals), "account", "999"),
        "principal with no account": lambda inv: [
            setattr(first(inv.principals), "account", None),
            setattr(first(inv.principals), "arn", None),
        ],
        "class removed by an unknown gate": lambda inv: inv.data_classes.update(
            feedback=inv.data_classes["feedback"].model_copy(update={"removed_by": ["wash"]})
        ),
        "flow from nowhere": lambda inv: setattr(inv.flows[0], "source", "nowhere") if inv.flows else None,
    }


@pytest.mark.parametrize("name", sorted(_breakages()))
@pytest.mark.parametrize("variant", ["example-org", "debug-export"])
def test_the_shortcut_agrees_with_the_full_check(name: str, variant: str) -> None:
    sources = [str(EXAMPLE_ORG)] + ([str(LEAKS / variant)] if variant != "example-org" else [])
    inventory = load_inventory(sources)
    _breakages()[name](inventory)
    problems = list(_reference_problems(inventory))
    assert _all_known(inventory) == (problems == []), [str(p) for p, _ in problems]
    if name != "nothing" and not (name == "flow from nowhere" and not inventory.flows):
        assert problems, "the breakage should be a problem"
