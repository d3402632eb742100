"""What an edge rests on: :class:`Evidence` an auditor reads, and the proofs that build it
only when a finding or an export asks (most edges of a large estate are never cited)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, cast

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from audit.graph.model import DataGraph


class Evidence(BaseModel):
    """Why an edge exists: where the fact was read and, for policies, the statement itself."""

    model_config = ConfigDict(frozen=True)

    kind: str
    location: str
    detail: str
    statement: dict[str, Any] | None = None
    conditional: bool = False


def distinct_evidence(items: Iterable[Evidence]) -> list[Evidence]:
    """The items without repeats, in order. Equality, not hashing (statements are dicts),
    but only between items of the same kind, location and detail: a set of those rules
    out almost every comparison."""
    seen: list[Evidence] = []
    heads: set[tuple[str, str, str]] = set()
    for item in items:
        head = (item.kind, item.location, item.detail)
        if head in heads and item in seen:
            continue
        heads.add(head)
        seen.append(item)
    return seen


class OwnProof(Protocol):
    """Something that yields an edge's evidence when asked (built lazily: most edges are
    never cited)."""

    def evidence(self) -> tuple[Evidence, ...]: ...


class SharedProof(Protocol):
    """A proof many edges share (one grant reaching many stores): it builds one edge's
    evidence from the edge itself, so a million edges need not hold a million proofs."""

    def evidence_at(self, graph: DataGraph, eid: int) -> tuple[Evidence, ...]: ...


Proof = OwnProof | SharedProof


def _is_proof(item: object) -> bool:
    return hasattr(item, "evidence_at") or hasattr(item, "evidence")


def _evidence_of(proof: Any, graph: DataGraph, eid: int) -> Iterable[Evidence]:
    """What one proof of edge ``eid`` says: a shared proof asks the edge, its own proof
    answers alone, and evidence given as items is itself."""
    if hasattr(proof, "evidence_at"):
        found: Iterable[Evidence] = proof.evidence_at(graph, eid)
        return found
    if hasattr(proof, "evidence"):
        own: Iterable[Evidence] = proof.evidence()
        return own
    return _listed(proof)


def _listed(evidence: object) -> tuple[Evidence, ...]:
    """Evidence given as items, kept as a tuple."""
    return tuple(cast(Iterable[Evidence], evidence))
