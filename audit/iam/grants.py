"""The proof of an IAM edge (:class:`Granted`): the decision that allows it, whose
evidence quotes each statement when a finding or an export reads it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.graph.access import AccessEdge
from audit.graph.model import DataGraph, EdgeKind, Evidence
from audit.iam.evaluate import Decision
from audit.iam.policy import Statement
from audit.iam.targets import ASSUMED_IDENTITY


class Granted:
    """The proof of an IAM edge: the decision (statements that allow it, layers evaluated)
    and who may do what. Its Evidence, each statement quoted, is built only when a finding
    or an export reads it.

    Without ``what``, one proof serves every edge of a grant to read or write stores: each
    edge's store is the one at its end (:meth:`evidence_at`)."""

    __slots__ = ("decision", "does", "what", "who")

    def __init__(self, decision: Decision, who: str, does: str, what: str | None = None) -> None:
        self.decision = decision
        self.who = who
        self.does = does
        self.what = what

    @property
    def group(self) -> Decision:
        """Shared by every edge the same grant gives: their statements are the same."""
        return self.decision

    def statements(self) -> list[Mapping[str, Any]]:
        return [s.raw for s in self.decision.cited if s is not ASSUMED_IDENTITY]

    def evidence_at(self, graph: DataGraph, eid: int) -> tuple[Evidence, ...]:
        """The evidence of one edge this proof proves."""
        if self.what is not None:
            return self.evidence()
        frozen = graph.frozen
        store = frozen.src[eid] if self.does == "read" else frozen.dst[eid]
        return self._evidence(graph.node(graph.keys[int(store)]).entity)

    def evidence(self) -> tuple[Evidence, ...]:
        if self.what is None:
            raise ValueError("a grant shared by many edges is proved edge by edge: use evidence_at")
        return self._evidence(self.what)

    def _evidence(self, what: str) -> tuple[Evidence, ...]:
        decision = self.decision
        evidence = [
            Evidence(
                kind="iam-assumption" if s is ASSUMED_IDENTITY else "iam-statement",
                location=s.location,
                detail=describe(s),
                statement=dict(s.raw),
                conditional=s.conditional,
            )
            for s in decision.cited
        ]
        if decision.assumes_resource_grant:
            evidence.append(
                Evidence(
                    kind="iam-assumption",
                    location=f"store {what}",
                    detail=f"no source states the bucket policy of {what}: assumed to allow this cross-account "
                    "request (state the store's policy, or 'policy: none')",
                )
            )
        layers = f"evaluated: {', '.join(decision.evaluated)}"
        if decision.unavailable:
            layers += f"; not available (not restricting): {', '.join(decision.unavailable)}"
        detail = f"{self.who} can {self.does} {what} ({layers})"
        evidence.append(Evidence(kind="iam-layers", location="(policy evaluation)", detail=detail))
        return tuple(evidence)


def grant_edge(
    source: str, target: str, kind: EdgeKind, decision: Decision, who: str, does: str, what: str
) -> AccessEdge:
    return AccessEdge(source, target, kind, Granted(decision, who, does, what), decision.conditional)


def describe(statement: Statement) -> str:
    actions = statement.actions or tuple(f"NOT {a}" for a in statement.not_actions or ())
    resources = statement.resources or tuple(f"NOT {r}" for r in statement.not_resources or ())
    sid = f" ({statement.sid})" if statement.sid else ""
    condition = " under a condition" if statement.conditional else ""
    return f"{statement.effect} {', '.join(actions)} on {', '.join(resources)}{condition}{sid}"
