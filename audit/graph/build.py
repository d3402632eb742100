"""Build the data graph from an inventory: declared edges from jobs and flows, potential
edges from the access derivers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from audit.graph.access import AccessDeriver, AccessEdge, EdgeBlock, default_derivers, derive_all
from audit.graph.containment import add_containment_edges
from audit.graph.model import (
    KIND_CODE,
    PUBLIC_NODE,
    DataGraph,
    EdgeKind,
    Evidence,
    NodeData,
    NodeType,
    Proof,
    VoidedGate,
)
from audit.inventory import Inventory, arn_account
from audit.model import Entity, Job, Principal


def build_graph(inventory: Inventory, derivers: Iterable[AccessDeriver] | None = None) -> DataGraph:
    graph = DataGraph(inventory)
    _add_nodes(graph)
    _add_declared_edges(graph)
    access = derive_all(inventory, default_derivers() if derivers is None else derivers)
    for extra in sorted(access.extra_nodes):
        if extra not in graph:
            node_type = NodeType.PUBLIC if extra == PUBLIC_NODE else NodeType.EXTERNAL
            graph.add_node(extra, node_type, extra.partition(":")[2] or extra)
    void_assumable_gates(graph, access.edges)
    graph.add_edges(access.edges)
    access.edges.clear()  # the graph holds them now (millions of tuples, freed before it indexes)
    _add_blocks(graph, access.blocks)
    add_containment_edges(graph)
    add_writes_through_assumption(graph)
    graph.gaps.extend(access.gaps)
    graph.freeze()
    # the classes data carries downstream are part of what the graph says (as containment
    # is): derived once here, with the graph, for every check that reads them
    from audit.graph.classes import class_reach  # classes builds on the model and this module's graph

    class_reach(graph)
    return graph


def _add_blocks(graph: DataGraph, blocks: list[EdgeBlock]) -> None:
    """Edges given as columns: each table of keys is turned into node numbers once."""
    tables: dict[int, npt.NDArray[np.int64]] = {}
    number = graph.numbers
    blocks.reverse()
    while blocks:
        block = blocks.pop()  # in the order given, each freed as it goes in
        if not len(block):
            continue
        numbers = tables.get(id(block.keys))
        if numbers is None:
            numbers = tables[id(block.keys)] = np.fromiter(map(number.__getitem__, block.keys), np.int64)
        src, dst = numbers[np.asarray(block.src, dtype=np.int64)], numbers[np.asarray(block.dst, dtype=np.int64)]
        kind = np.full(len(block), KIND_CODE[block.kind], dtype=np.int8)
        graph.add_numbered_edges(src, dst, kind, block.proofs, block.conditional)


def add_writes_through_assumption(graph: DataGraph) -> None:
    """An actor that can assume a role (directly or along a chain) can write wherever the
    role can: add those can-write edges, citing the trust and the role's grant.

    can-assume edges only run role -> assumer (the assumer obtains the role's reads), so
    two actors that can both assume one role are not joined through it: data moves between
    actors only through stores.
    """
    assumers_of: dict[str, list[tuple[str, tuple[Evidence, ...], bool]]] = {}
    for role, assumer, data in graph.edges_of_kind(EdgeKind.CAN_ASSUME):
        assumers_of.setdefault(role, []).append((assumer, data["evidence"], data["conditional"]))
    if not assumers_of:
        return
    writes = [(u, v, d) for u, v, d in graph.edges_of_kind(EdgeKind.CAN_WRITE) if u in assumers_of]
    for role, target, grant in writes:
        # every actor reaching the role through a chain of assumptions, with the chain's evidence
        frontier = [(role, tuple(grant["evidence"]), bool(grant["conditional"]))]
        seen = {role}
        while frontier:
            current, evidence, conditional = frontier.pop()
            for assumer, trust, trust_conditional in assumers_of.get(current, ()):
                if assumer in seen:
                    continue
                seen.add(assumer)
                chain = (*trust, *evidence)
                role_name, actor = graph.node(role)["entity"], graph.node(assumer)["entity"]
                note = Evidence(
                    kind="assumption",
                    location="(graph)",
                    detail=f"{actor} can write {graph.node(target)['entity']} by assuming {role_name}",
                )
                graph.add_edge(
                    assumer, target, EdgeKind.CAN_WRITE, (note, *chain), conditional=conditional or trust_conditional
                )
                frontier.append((assumer, chain, conditional or trust_conditional))


def _add_nodes(graph: DataGraph) -> None:
    inv = graph.inventory
    places: dict[str | None, tuple[str | None, str | None]] = {}  # account ref -> (id, zone)

    def place(ref: str | None) -> tuple[str | None, str | None]:
        found = places.get(ref)
        if found is None:
            account = inv.account(ref)
            found = (account.id if account else None, inv.zone(account))
            places[ref] = found
        return found

    empty: frozenset[str] = frozenset()
    store, principal, job_ = NodeType.STORE.value, NodeType.PRINCIPAL.value, NodeType.JOB.value
    nodes: list[tuple[str, NodeData]] = []
    add = nodes.append
    # stores share a few sets of classes: one tuple and one answer (training sink?) for each
    class_sets: dict[tuple[str, ...], tuple[tuple[str, ...], bool]] = {}
    for each in inv.stores.values():
        account_id, zone = place(each.account)
        passed = frozenset(each.passed_gates) if each.passed_gates else empty
        classes = tuple(each.classes)
        shared = class_sets.get(classes)
        if shared is None:
            shared = class_sets[classes] = (classes, inv.is_training_sink(each))
        data = NodeData(store, each.id, shared[0], each.tenant, empty, passed, shared[1], account_id, zone)
        add((f"{store}:{each.id}", data))
    jobs_by_runner: dict[str, list[Job]] = {}
    for job in inv.jobs.values():
        if job.runs_as is not None:
            jobs_by_runner.setdefault(job.runs_as, []).append(job)
    for actor in inv.principals.values():
        account_id, zone = place(actor.account or arn_account(actor.arn))
        gates = _principal_gates(graph, actor, jobs_by_runner.get(actor.id, []))
        add(
            (
                f"{principal}:{actor.id}",
                NodeData(principal, actor.id, (), actor.tenant, gates, empty, False, account_id, zone),
            )
        )
    for job in inv.jobs.values():
        account = inv.job_account(job)
        gates = frozenset(job.gate) if job.gate else empty
        data = NodeData(
            job_,
            job.id,
            (),
            None,
            gates,
            empty,
            job.kind == "training",
            account.id if account else None,
            inv.zone(account),
        )
        add((f"{job_}:{job.id}", data))
    graph.add_nodes(nodes)


def _principal_gates(graph: DataGraph, actor: Principal, jobs: list[Job]) -> frozenset[str]:
    """The gates a principal carries, before who may assume it is known: those every job
    running as it carries (a role the consent filter shares with an export job is not part
    of the filter), and the auditor's marks that no job of its contradicts. A mark that one
    of its jobs contradicts is not applied, and recorded (it becomes a coverage gap)."""
    carried = [frozenset(job.gate) for job in jobs]
    gates = frozenset.intersection(*carried) if carried else frozenset()
    for gate in actor.gate:
        without = sorted(job.id for job in jobs if gate not in job.gate)
        if without:
            graph.voided_gates.append(
                VoidedGate(actor.id, gate, f"job {', '.join(without)} runs as it without the {gate} gate")
            )
        else:
            gates |= {gate}
    return gates


def void_assumable_gates(graph: DataGraph, edges: Iterable[AccessEdge]) -> None:
    """A principal someone else can assume carries no gate: whoever assumes it moves data
    as it, around the gate. Service principals that run its jobs make no such edge."""
    assumers: dict[str, set[str]] = {}
    for edge in edges:
        if edge.kind is EdgeKind.CAN_ASSUME and edge.source != edge.target:
            assumers.setdefault(edge.source, set()).add(edge.target)
    for key, who in sorted(assumers.items()):
        if key not in graph:
            continue
        data = graph.node(key)
        if not data.gates:
            continue
        names = ", ".join(sorted(n.partition(":")[2] or n for n in who))
        marked = set(graph.inventory.principals[data.entity].gate)
        for gate in sorted(data.gates & marked):
            graph.voided_gates.append(VoidedGate(data.entity, gate, f"it can be assumed by {names}"))
        data.gates = frozenset()
    graph.memo.clear()


def _sentence(fact: str, entity: Any, index: int | None) -> str:
    """What a declared fact says, in words (built only when its evidence is read)."""
    if fact == "reads":
        return f"job {entity.id} reads {entity.reads[index]}"
    if fact == "writes":
        return f"job {entity.id} writes {entity.writes[index]}"
    if fact == "runs_as":
        return f"job {entity.id} runs as {entity.runs_as}"
    if fact == "run_by":
        return f"{entity.runs_as}'s permissions are used by job {entity.id}"
    if fact == "replicates_to":
        return f"{entity.id} replicates to {entity.replicates_to[index]}"
    note = f" ({entity.note})" if entity.note else ""
    return f"data flows from {entity.source} to {entity.to}{note}"


_FIELDS = {"run_by": "runs_as", "flow": "from"}  # the field that states a fact, when named otherwise


class Stated:
    """The proof of a declared edge: the inventory field that states it (entry ``index`` of
    a job's ``reads``, its ``runs_as``...). Its Evidence, the field's location and a sentence,
    is built only when a finding or an export reads it: a large estate has millions of
    declared edges, and this record is all each of them keeps."""

    __slots__ = ("entity", "fact", "index")

    def __init__(self, entity: Entity, fact: str, index: int | None = None) -> None:
        self.entity = entity
        self.fact = fact
        self.index = index

    @property
    def field(self) -> str:
        name = _FIELDS.get(self.fact, self.fact)
        return name if self.index is None else f"{name}[{self.index}]"

    def evidence(self) -> tuple[Evidence, ...]:
        provenance = self.entity.provenance
        field = self.field
        location = provenance.at(field) if provenance else "(inventory)"
        kind = provenance.source if provenance else "inventory"
        note = provenance.notes.get(field) if provenance else None
        if note is not None and kind != "openlineage":
            # an entry lineage added to an entity another source described: the run note is
            # lineage's (only OpenLineage notes a field), and so is the fact
            kind = "openlineage"
        detail = _sentence(self.fact, self.entity, self.index)
        return (Evidence(kind=kind, location=location, detail=f"{detail} ({note})" if note else detail),)


_FACT_OF_KIND = {
    KIND_CODE[EdgeKind.READS]: "reads",
    KIND_CODE[EdgeKind.WRITES]: "writes",
    KIND_CODE[EdgeKind.RUNS_AS]: "runs_as",
    KIND_CODE[EdgeKind.RUN_BY]: "run_by",
    KIND_CODE[EdgeKind.REPLICATES]: "replicates_to",
}


class StatedBy:
    """The proof of every edge one job (or store) states, shared by them: each edge's fact
    follows from its kind, and the entry of a list that states it (``reads[i]``...) from the
    store at its other end. A large estate has millions of declared edges and this record
    is one per entity, not one per edge."""

    __slots__ = ("entity",)

    def __init__(self, entity: Entity) -> None:
        self.entity = entity

    def evidence_at(self, graph: DataGraph, eid: int) -> tuple[Evidence, ...]:
        frozen = graph.frozen
        fact = _FACT_OF_KIND[int(frozen.kind[eid])]
        if fact in ("runs_as", "run_by"):
            return Stated(self.entity, fact).evidence()
        other = frozen.src[eid] if fact == "reads" else frozen.dst[eid]
        store_id = graph.node(graph.keys[int(other)]).entity
        stated = getattr(self.entity, fact)
        return tuple(
            item
            for index, named in enumerate(stated)
            if named == store_id
            for item in Stated(self.entity, fact, index).evidence()
        )


def _add_declared_edges(graph: DataGraph) -> None:
    inv = graph.inventory
    number = graph.numbers
    store, job_, principal = (f"{t.value}:" for t in (NodeType.STORE, NodeType.JOB, NodeType.PRINCIPAL))
    reads, writes, runs_as, run_by, replicates, flows = (
        KIND_CODE[k]
        for k in (
            EdgeKind.READS,
            EdgeKind.WRITES,
            EdgeKind.RUNS_AS,
            EdgeKind.RUN_BY,
            EdgeKind.REPLICATES,
            EdgeKind.FLOWS,
        )
    )
    # parallel lists, a job's edges at a time: millions of edges, no tuple for each
    src: list[int] = []
    dst: list[int] = []
    kind: list[int] = []
    proofs: list[Proof] = []
    for job in inv.jobs.values():
        me = number[job_ + job.id]
        proof = StatedBy(job)
        if job.reads:
            count = len(job.reads)
            src.extend([number[store + store_id] for store_id in job.reads])
            dst.extend([me] * count)
            kind.extend([reads] * count)
            proofs.extend([proof] * count)
        if job.writes:
            count = len(job.writes)
            src.extend([me] * count)
            dst.extend([number[store + store_id] for store_id in job.writes])
            kind.extend([writes] * count)
            proofs.extend([proof] * count)
        if job.runs_as is not None:
            runner = number[principal + job.runs_as]
            src += (me, runner)
            dst += (runner, me)
            kind += (runs_as, run_by)
            # The job holds the principal's permissions: whatever the principal can read
            # can reach the job's code, even if the job does not declare reading it.
            proofs += (proof, proof)
    for each in inv.stores.values():
        if each.replicates_to:
            me, proof = number[store + each.id], StatedBy(each)
            for target in each.replicates_to:
                src.append(me)
                dst.append(number[store + target])
                kind.append(replicates)
                proofs.append(proof)
    for flow in inv.flows:
        src.append(number[store + flow.source])
        dst.append(number[store + flow.to])
        kind.append(flows)
        proofs.append(Stated(flow, "flow"))
    graph.add_numbered_edges(src, dst, kind, proofs)
