"""Build the data graph from an inventory: declared edges from jobs and flows, potential
edges from the access derivers."""

from __future__ import annotations

from collections.abc import Iterable

from audit.graph.access import AccessDeriver, default_derivers, derive_all
from audit.graph.model import PUBLIC_NODE, DataGraph, EdgeKind, Evidence, NodeType, node_key
from audit.inventory import Inventory
from audit.model import Entity


def build_graph(inventory: Inventory, derivers: Iterable[AccessDeriver] | None = None) -> DataGraph:
    graph = DataGraph(inventory)
    _add_nodes(graph)
    _add_declared_edges(graph)
    access = derive_all(inventory, default_derivers() if derivers is None else derivers)
    for extra in sorted(access.extra_nodes):
        if extra not in graph.nx:
            node_type = NodeType.PUBLIC if extra == PUBLIC_NODE else NodeType.EXTERNAL
            graph.add_node(extra, node_type, extra.partition(":")[2] or extra)
    for edge in access.edges:
        graph.add_edge(edge.source, edge.target, edge.kind, edge.evidence, conditional=edge.conditional)
    add_writes_through_assumption(graph)
    graph.gaps.extend(access.gaps)
    return graph


def add_writes_through_assumption(graph: DataGraph) -> None:
    """An actor that can assume a role (directly or along a chain) can write wherever the
    role can: add those can-write edges, citing the trust and the role's grant.

    can-assume edges only run role -> assumer (the assumer obtains the role's reads), so
    two actors that can both assume one role are not joined through it: data moves between
    actors only through stores.
    """
    assumers_of: dict[str, list[tuple[str, tuple[Evidence, ...], bool]]] = {}
    for role, assumer, data in graph.edge_items():
        if data["kind"] == EdgeKind.CAN_ASSUME.value:
            assumers_of.setdefault(role, []).append((assumer, data["evidence"], data["conditional"]))
    if not assumers_of:
        return
    writes = [(u, v, d) for u, v, d in graph.edge_items() if d["kind"] == EdgeKind.CAN_WRITE.value and u in assumers_of]
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
    for store in inv.stores.values():
        account = inv.account(store.account)
        graph.add_node(
            node_key(NodeType.STORE, store.id),
            NodeType.STORE,
            store.id,
            classes=tuple(store.classes),
            tenant=store.tenant,
            passed_gates=frozenset(store.passed_gates),
            training_sink=inv.is_training_sink(store),
            account=account.id if account else None,
            zone=inv.zone(account),
        )
    jobs_by_runner: dict[str, list[frozenset[str]]] = {}
    for job in inv.jobs.values():
        if job.runs_as is not None:
            jobs_by_runner.setdefault(job.runs_as, []).append(frozenset(job.gate))
    for principal in inv.principals.values():
        account = inv.principal_account(principal)
        graph.add_node(
            node_key(NodeType.PRINCIPAL, principal.id),
            NodeType.PRINCIPAL,
            principal.id,
            tenant=principal.tenant,
            gates=frozenset(principal.gate) | _shared_gates(jobs_by_runner.get(principal.id, [])),
            account=account.id if account else None,
            zone=inv.zone(account),
        )
    for job in inv.jobs.values():
        account = inv.job_account(job)
        graph.add_node(
            node_key(NodeType.JOB, job.id),
            NodeType.JOB,
            job.id,
            gates=frozenset(job.gate),
            training_sink=job.kind == "training",
            account=account.id if account else None,
            zone=inv.zone(account),
        )


def _shared_gates(gate_sets: list[frozenset[str]]) -> frozenset[str]:
    """A principal carries a gate when every job running as it carries that gate: a role the
    consent filter shares with an export job is not part of the filter."""
    if not gate_sets:
        return frozenset()
    return frozenset.intersection(*gate_sets)


def _evidence(entity: Entity, field: str, detail: str) -> tuple[Evidence, ...]:
    provenance = entity.provenance
    location = provenance.at(field) if provenance else "(inventory)"
    kind = provenance.source if provenance else "inventory"
    note = provenance.notes.get(field) if provenance else None
    return (Evidence(kind=kind, location=location, detail=f"{detail} ({note})" if note else detail),)


def _add_declared_edges(graph: DataGraph) -> None:
    inv = graph.inventory
    for job in inv.jobs.values():
        me = node_key(NodeType.JOB, job.id)
        for index, store_id in enumerate(job.reads):
            graph.add_edge(
                node_key(NodeType.STORE, store_id),
                me,
                EdgeKind.READS,
                _evidence(job, f"reads[{index}]", f"job {job.id} reads {store_id}"),
            )
        for index, store_id in enumerate(job.writes):
            graph.add_edge(
                me,
                node_key(NodeType.STORE, store_id),
                EdgeKind.WRITES,
                _evidence(job, f"writes[{index}]", f"job {job.id} writes {store_id}"),
            )
        if job.runs_as is not None:
            runner = node_key(NodeType.PRINCIPAL, job.runs_as)
            graph.add_edge(
                me, runner, EdgeKind.RUNS_AS, _evidence(job, "runs_as", f"job {job.id} runs as {job.runs_as}")
            )
            # The job holds the principal's permissions: whatever the principal can read
            # can reach the job's code, even if the job does not declare reading it.
            graph.add_edge(
                runner,
                me,
                EdgeKind.RUN_BY,
                _evidence(job, "runs_as", f"{job.runs_as}'s permissions are used by job {job.id}"),
            )
    for store in inv.stores.values():
        for index, target in enumerate(store.replicates_to):
            graph.add_edge(
                node_key(NodeType.STORE, store.id),
                node_key(NodeType.STORE, target),
                EdgeKind.REPLICATES,
                _evidence(store, f"replicates_to[{index}]", f"{store.id} replicates to {target}"),
            )
    for flow in inv.flows:
        note = f" ({flow.note})" if flow.note else ""
        graph.add_edge(
            node_key(NodeType.STORE, flow.source),
            node_key(NodeType.STORE, flow.to),
            EdgeKind.FLOWS,
            _evidence(flow, "from", f"data flows from {flow.source} to {flow.to}{note}"),
        )
