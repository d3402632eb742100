"""PII-001: every class that may hold personal data reaches training only through a pii-scrub
gate (claim C6: training data is sanitised of personal data before use).

Which classes may hold personal data is a marking of the taxonomy (``personal_data: true`` on
a data class; built in: the tenant and API classes, both consumer classes and feedback), which
an organisation overrides under ``data_classes`` in its inventory.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from audit.checkapi import Check, CheckContext, Outcome
from audit.graph.rules import gate_scope, node_numbers
from audit.inventory import Inventory
from checks.routes import cut_findings


class PersonalDataParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: list[str] | None = None  # default: every class marked personal_data (see include_protected)
    # A protected class must not reach training at all (ISO-001 to ISO-003 report every route, and no
    # scrub makes it allowed): by default it is not held to the scrub a second time.
    include_protected: bool = False
    # Classes another check of the suite already holds to the pii-scrub gate for this claim
    # (the default suite's ISO-004 does for consumer-opt-in): not reported twice.
    except_classes: list[str] = Field(default_factory=list)
    gate: str = "pii-scrub"


def personal_classes(params: PersonalDataParams, inventory: Inventory) -> list[str]:
    """The classes the check holds to the scrub."""
    if params.classes is not None:
        chosen = set(params.classes)
    else:
        chosen = {
            name
            for name, cls in inventory.data_classes.items()
            if cls.personal_data and (params.include_protected or not cls.protected)
        }
    return sorted(chosen - set(params.except_classes))


def personal_data_scrubbed(ctx: CheckContext[PersonalDataParams]) -> Iterator[Outcome]:
    """Stores of every class that may hold personal data reach training only through a node
    carrying the ``pii-scrub`` gate (PII-001).

    A de-link gate removes who the data is about, not what it says: de-linked feedback that
    trains unscrubbed breaks C6. With no store of a personal-data class at all, or no training
    sink, the check reports a coverage gap (it has nothing to examine).

    Example finding::

        PII-001-1c2d3e4f5a6b  HIGH  declared
        feedback-delinked (feedback) reaches training sink pretrain-mix without passing a pii-scrub
        gate: 2 hops; the path is in use (declared edges only)
    """
    params = ctx.params
    graph = ctx.graph
    classes = personal_classes(params, ctx.inventory)
    sources = graph.class_store_ids(classes)
    sinks = graph.training_sinks()
    scope = graph.class_store_ids([*classes, *params.except_classes])
    if not len(scope):
        yield ctx.gap(
            f"check:{ctx.check.id}",
            "no store holds a class marked personal_data"
            + (f" ({', '.join(classes)})" if classes else "")
            + ": there is nothing to prove the claim against (classify the stores that hold personal data)",
        )
    if not sinks:
        yield ctx.gap(
            f"check:{ctx.check.id}",
            "the inventory has no training sink: a path to training cannot be ruled out",
        )
    if not len(sources):
        return
    origins, blocked = gate_scope(graph, sources, params.gate)
    yield from cut_findings(
        ctx,
        origins,
        node_numbers(graph.compiled, sinks),
        blocked,
        rule=params.gate,
        advice=f"Route the data through the {params.gate} job before it reaches training.",
    )


CHECKS = (
    Check(
        id="PII-001",
        title="Data that may hold personal data reaches training only through a PII scrub",
        severity="high",
        claim_ids=("C6",),
        rationale="The commitment is that training data is sanitised of personal data; a route that reaches "
        "training without a PII scrub carries whatever personal data its source holds.",
        remediation="Route the data through the pii-scrub job before it reaches training (or mark the gate on the "
        "job that scrubs it); if the class cannot hold personal data, mark it personal_data: false.",
        evaluate=personal_data_scrubbed,
        params=PersonalDataParams,
    ),
)
