"""Benchmark: auditing synthetic estates of 10^3 to 10^6 graph nodes.

    python -m benchmarks.graph_scale [--sizes 1000,10000,100000,1000000] [--iam]

For each size, ``tenant-audit synth`` writes an estate (with one planted leak per graph
rule, listed in planted.json) and a fresh process audits it with the default suite,
timing each stage: load (read and merge the inventory), IAM (derive access from the
policies), graph (nodes, declared edges, dedupe, CSR arrays), checks (all 24 checks of
the default suite), report (assemble, render report.json and report.html), with its peak
resident memory. In the same process:

- the graph rules alone (ISO-001..007: no-path, only-through, tenant isolation, with
  witness paths and findings) are timed and every traversal they make is counted; the
  same number of bare ``scipy.sparse.csgraph.breadth_first_order`` runs over CSR
  matrices of the same edges, built beforehand by scipy from the edge arrays with float64
  entries (the type csgraph searches in, so that no search first copies its matrix),
  gives the baseline: graph rules / bare BFS is the cost of everything the rules add
  (filtering edges, gates, tenant labels, witness paths, findings); a second ratio counts
  the building of each matrix (filter, virtual root, scipy's COO to CSR) into the
  baseline (what any csgraph user pays once per traversal over a filtered edge set); a
  third is against one bare BFS that scans every edge of the graph (a virtual root joined
  to every node): how many whole-graph passes the rules cost;
- the same traversals with networkx (``nx.bfs_predecessors`` from a virtual root joined
  to the same roots, over a DiGraph of the same edges without the blocked nodes, in a
  child of its own) give the ratio against plain networkx;
- tenant isolation (ISO-006) is timed on its own.

The report.html that ``run`` wrote is weighed, and opened in headless Chromium (playwright;
median of three loads, navigation start to the load event): its size and load time are
columns of the table, measured, never asserted.

``--iam`` adds the access-derivation case of 10^4 roles over 10^5 buckets with wildcard
policies. The run fails (exit 1) if any planted violation is not found.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def synth(out: Path, nodes: int, fanout: int = 1, seed: int = 7) -> None:
    from audit.synth import generate, write

    tenants = max(2, nodes // 1000)
    estate = generate(
        stores=int(nodes * 0.55),
        roles=int(nodes * 0.10),
        jobs=int(nodes * 0.35),
        tenants=tenants,
        seed=seed,
        fanout=fanout,
    )
    write(estate, out)


def iam_case(out: Path, roles: int = 10_000, buckets: int = 100_000) -> None:
    """Buckets in 1,000 tenant families; each role reads its family by wildcard and writes
    one tenth of it by a narrower wildcard."""
    families = 1_000
    per_family = buckets // families
    stores = [
        {
            "id": f"fam{f:04d}-b{b:04d}",
            "kind": "s3-bucket",
            "account": "111111111111",
            "arn": f"arn:aws:s3:::fam{f:04d}-b{b:04d}",
            "classes": ["enterprise"],
        }
        for f in range(families)
        for b in range(per_family)
    ]
    principals = []
    for r in range(roles):
        family = r % families
        statements = [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::fam{family:04d}-*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::fam{family:04d}-b00{r % 10}*/*"},
        ]
        principals.append(
            {
                "id": f"role-{r:05d}",
                "arn": f"arn:aws:iam::111111111111:role/role-{r:05d}",
                "policies": [{"Version": "2012-10-17", "Statement": statements}],
            }
        )
    folder = out / "inventory"
    folder.mkdir(parents=True)
    head = {"version": 1, "accounts": [{"id": "111111111111", "name": "serving", "zone": "serving"}]}
    (folder / "org.json").write_text(json.dumps(head))
    (folder / "stores.json").write_text(json.dumps({"version": 1, "stores": stores}))
    (folder / "principals.json").write_text(json.dumps({"version": 1, "principals": principals}))


def _timed_build(inventory: Any) -> tuple[Any, float, float]:
    """The graph, the seconds the IAM derivation took and the rest of the build took."""
    from audit.graph import build as build_module

    real_derive = build_module.derive_all
    derived: dict[str, float] = {}

    def timed_derive(*args: Any) -> Any:
        begin = time.perf_counter()
        result = real_derive(*args)
        derived["iam"] = time.perf_counter() - begin
        return result

    build_module.derive_all = timed_derive  # type: ignore[assignment]
    started = time.perf_counter()
    graph = build_module.build_graph(inventory)
    graph.compiled  # noqa: B018 - compiling the CSR arrays is part of the build
    total = time.perf_counter() - started
    build_module.derive_all = real_derive
    return graph, derived["iam"], total - derived["iam"]


def _graph_rules(suite: Any, inventory: Any, graph: Any) -> tuple[float, list[tuple[Any, dict[str, Any]]], float]:
    """The graph rules alone (the ISO checks: no-path, only-through, tenant isolation with
    their witness paths), timed, with every traversal they made, and the part of their time
    spent finding each rule's whole violation and its minimum cut (its own stage)."""
    from dataclasses import replace

    import checks.isolation as isolation_module
    import checks.routes as routes_module
    from audit.engine import evaluate
    from audit.graph.compiled import CompiledGraph

    spent = [0.0]
    real_violation = routes_module.rule_violation

    def timed_violation(*args: Any, **options: Any) -> Any:
        begin = time.perf_counter()
        found = real_violation(*args, **options)
        spent[0] += time.perf_counter() - begin
        return found

    routes_module.rule_violation = timed_violation  # type: ignore[assignment]
    isolation_module.rule_violation = timed_violation  # type: ignore[assignment]

    rules_only = replace(suite, selected={k: v for k, v in suite.selected.items() if k.startswith("ISO-")})
    traversals: list[tuple[Any, dict[str, Any]]] = []  # (roots, options) of every traversal
    real_bfs = CompiledGraph.bfs

    def counted(self: CompiledGraph, roots: Any, **options: Any) -> Any:
        traversals.append((list(roots), dict(options)))
        return real_bfs(self, roots, **options)

    CompiledGraph.bfs = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    evaluate(rules_only, inventory, graph)
    seconds = time.perf_counter() - started
    CompiledGraph.bfs = real_bfs  # type: ignore[method-assign]
    routes_module.rule_violation = real_violation
    isolation_module.rule_violation = real_violation
    return seconds, traversals, spent[0]


def measure_audit(root: Path) -> dict[str, Any]:
    """Inside the child: the audit, stage by stage, and the baselines."""
    import gc

    gc.disable()  # as run_audit does
    from datetime import UTC, datetime

    from audit.engine import AuditConfig, assemble, evaluate
    from audit.graph.rules import tenant_isolation
    from audit.sources import load_inventory
    from audit.suites import load_suite
    from audit.synth import missed
    from checks import SUITES_DIR, load_registry
    from reports import html
    from reports import json as json_report

    times: dict[str, float] = {}
    started = time.perf_counter()
    inventory = load_inventory([str(root / "inventory")])
    times["load"] = time.perf_counter() - started
    graph, times["iam"], times["graph"] = _timed_build(inventory)
    suite = load_suite("default", SUITES_DIR, load_registry(plugins=False).checks)
    graph_rules, traversals, violations = _graph_rules(suite, inventory, graph)
    nodes = graph.compiled.nodes
    (root / "traversals.json").write_text(
        json.dumps(
            [
                {
                    "roots": [nodes[i] for i in roots],
                    "reverse": bool(options.get("reverse")),
                    "declared_only": bool(options.get("declared_only")),
                    "blocked": [nodes[i] for i in np.flatnonzero(options["blocked"]).tolist()]
                    if options.get("blocked") is not None
                    else [],
                }
                for roots, options in traversals
            ]
        )
    )

    started = time.perf_counter()
    evaluation = evaluate(suite, inventory, graph)
    times["rules"] = time.perf_counter() - started

    started = time.perf_counter()
    report = assemble(AuditConfig(sources=(str(root),)), suite, inventory, graph, evaluation, *[datetime.now(UTC)] * 2)
    json_report.render(report)
    html.render(report)
    times["report"] = time.perf_counter() - started

    started = time.perf_counter()
    tenant_isolation(graph)
    isolation = time.perf_counter() - started

    bare_bfs, built_bfs, whole_bfs = _bare_bfs(graph.compiled, traversals)
    planted_file = root / "planted.json"
    planted = json.loads(planted_file.read_text()) if planted_file.exists() else []
    return {
        "times": times,
        "graph_rules": graph_rules,
        "violations": violations,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "traversals": len(traversals),
        "bare_bfs": bare_bfs,
        "built_bfs": built_bfs,
        "whole_bfs": whole_bfs,
        "isolation": isolation,
        "tenants": len(inventory.tenants),
        "findings": len(report.findings),
        "planted": len(planted),
        "missed": missed(planted, report.findings),
    }


def _bare_bfs(compiled: Any, traversals: list[tuple[Any, dict[str, Any]]]) -> tuple[float, float, float]:
    """The same traversals (same roots, direction, edge filter, blocked nodes) with scipy
    alone, none of the audit's own matrix code: seconds of ``breadth_first_order`` over
    CSR matrices built beforehand, and seconds of building each matrix (filter the edge
    arrays, join a virtual root to the roots, scipy's COO to CSR) and then searching it;
    and the seconds of one search over every edge (the fastest of three).

    The matrices hold float64, the type csgraph searches in: with any other, each search
    would begin by copying its whole matrix to float64, and that copy, not the search,
    would be most of what the baseline measures."""
    from scipy.sparse.csgraph import breadth_first_order

    size = compiled.size
    search = build_and_search = 0.0
    for roots, options in traversals:
        started = time.perf_counter()
        matrix = bare_matrix(compiled, roots, options)
        built = time.perf_counter()
        breadth_first_order(matrix, size, directed=True, return_predecessors=True)
        done = time.perf_counter()
        search += done - built
        build_and_search += done - started
    matrix = bare_matrix(compiled, np.arange(size, dtype=np.int64), {})  # every node a root: every edge scanned
    whole = []
    for _ in range(3):
        started = time.perf_counter()
        breadth_first_order(matrix, size, directed=True, return_predecessors=True)
        whole.append(time.perf_counter() - started)
    return search, build_and_search, min(whole)


def bare_matrix(compiled: Any, roots: Any, options: dict[str, Any]) -> Any:
    """The CSR matrix a plain csgraph user builds for one traversal of the rules: the edges
    one way (``reverse``), declared only or all, none touching a ``blocked`` node, and a
    virtual root (numbered ``compiled.size``) joined to ``roots``; float64 entries."""
    from scipy.sparse import csr_array

    size = compiled.size
    tails, heads = (compiled.dst, compiled.src) if options.get("reverse") else (compiled.src, compiled.dst)
    keep = compiled.declared.copy() if options.get("declared_only") else np.ones(len(tails), dtype=np.bool_)
    if options.get("blocked") is not None:
        keep &= ~options["blocked"][tails] & ~options["blocked"][heads]
    rows = np.concatenate([tails[keep], np.full(len(roots), size, dtype=np.int64)])
    cols = np.concatenate([heads[keep], np.asarray(roots, dtype=np.int64)])
    return csr_array((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(size + 1, size + 1))


def measure_networkx(root: Path) -> dict[str, Any]:
    """Inside a child: the traversals the graph rules made (``traversals.json``: the same
    roots, direction, edge filter and blocked nodes), with networkx's BFS."""
    import gc

    gc.disable()
    import networkx as nx

    from audit.graph.build import build_graph
    from audit.sources import load_inventory

    graph = build_graph(load_inventory([str(root / "inventory")]))
    frozen, keys = graph.frozen, graph.keys
    traversals = json.loads((root / "traversals.json").read_text())
    seconds = 0.0
    for reverse, declared in sorted({(t["reverse"], t["declared_only"]) for t in traversals}):
        keep = frozen.declared if declared else np.ones(len(frozen.src), dtype=np.bool_)
        tails, heads = (frozen.dst, frozen.src) if reverse else (frozen.src, frozen.dst)
        digraph: nx.DiGraph[str] = nx.DiGraph()
        digraph.add_nodes_from(keys)
        digraph.add_edges_from(
            zip([keys[i] for i in tails[keep].tolist()], [keys[i] for i in heads[keep].tolist()], strict=True)
        )
        for traversal in traversals:
            if (traversal["reverse"], traversal["declared_only"]) != (reverse, declared):
                continue
            digraph.add_edges_from(("(root)", node) for node in traversal["roots"])
            view = nx.restricted_view(digraph, traversal["blocked"], []) if traversal["blocked"] else digraph
            started = time.perf_counter()
            dict(nx.bfs_predecessors(view, "(root)"))
            seconds += time.perf_counter() - started
            digraph.remove_node("(root)")
        del digraph
    return {"networkx": seconds}


def measure_iam(root: Path) -> dict[str, Any]:
    import gc

    gc.disable()
    from audit.iam.access import IamAccess
    from audit.sources import load_inventory

    inventory = load_inventory([str(root / "inventory")])
    started = time.perf_counter()
    result = IamAccess().derive(inventory)
    seconds = time.perf_counter() - started
    edges = len(result.edges) + sum(len(block) for block in result.blocks)
    return {"iam": seconds, "edges": edges, "roles": len(inventory.principals)}


def measure_cli(root: Path) -> dict[str, Any]:
    """Inside a child: ``tenant-audit run INVENTORY --format json,html`` as a user runs it,
    the console script in a process of its own (start-up, imports and exit included: the
    end-to-end figure), with that process's peak memory. The console script found beside
    this interpreter, or on PATH; else its own two lines, run by this interpreter."""
    script = Path(sys.executable).parent / "tenant-audit"
    found = str(script) if script.exists() else shutil.which("tenant-audit")
    program = (
        [found] if found else [sys.executable, "-c", "import sys; from audit.cli import program; sys.exit(program())"]
    )
    arguments = ["run", str(root / "inventory"), "--out", str(root / "cli-out"), "--format", "json,html"]
    command = [*program, *arguments]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"tenant-audit run failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"cli_wall": wall, "cli_peak_mb": peak}


def measure_browser(root: Path) -> dict[str, Any]:
    """Inside a child: the size of the report.html ``run`` wrote, and the time headless Chromium
    takes to open it (navigation start to the load event, the median of three loads); no
    figure when playwright or Chromium is missing."""
    page_file = root / "cli-out" / "report.html"
    size = page_file.stat().st_size
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"html_bytes": size, "html_load": None}
    if browser_path is None:
        return {"html_bytes": size, "html_load": None}
    loads = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(page_file.resolve().as_uri(), wait_until="load")
                timing = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                loads.append(float(timing) / 1000)
                page.close()
        finally:
            browser.close()
    return {"html_bytes": size, "html_load": sorted(loads)[1]}


def child(step: str, root: Path, extra: str) -> dict[str, Any]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.graph_scale", "--step", step, "--root", str(root), "--extra", extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--iam", action="store_true", help="also the 10^4 roles x 10^5 buckets derivation")
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument(
        "--fanout", type=int, default=1, help="synth --fanout: 1 gives about 3 edges per node, 4 about 5"
    )
    parser.add_argument("--step")
    parser.add_argument("--root")
    parser.add_argument("--extra", default="")
    args = parser.parse_args()
    if args.step:
        root = Path(args.root)
        steps = {
            "synth": lambda: (synth(root, *map(int, args.extra.split(":"))), {})[1],
            "iam-case": lambda: (iam_case(root), {})[1],
            "audit": lambda: measure_audit(root),
            "networkx": lambda: measure_networkx(root),
            "iam": lambda: measure_iam(root),
            "cli": lambda: measure_cli(root),
            "browser": lambda: measure_browser(root),
        }
        result = steps[args.step]()
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    rows = []
    failures = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="tenant-audit-scale-") as work:
            root = Path(work)
            child("synth", root, f"{size}:{args.fanout}")
            audit = child("audit", root, "")
            cli = child("cli", root, "")
            audit["cli_wall"], audit["cli_peak_mb"] = cli["cli_wall"], cli["cli_peak_mb"]
            page = child("browser", root, "")
            audit["html_bytes"], audit["html_load"] = page["html_bytes"], page["html_load"]
            nx_time = None if args.no_networkx else child("networkx", root, "")["networkx"]
        rows.append((size, audit, nx_time))
        if audit["missed"]:
            failures.append(f"size {size}: planted violations not found: {audit['missed']}")
        print(f"size {size}: done in {audit['wall']:.0f} s", file=sys.stderr)
    print(
        f"\nGraph scale, {os.cpu_count()} cores, synth --fanout {args.fanout}; stage times in seconds; "
        "ratios measured in the same run\n"
    )
    print(
        "| nodes | edges | load | IAM | graph | checks | report | total | peak memory | `run` end to end "
        "| graph rules | of which violations + cuts | ÷ bare BFS | ÷ build + BFS | ÷ whole-graph BFS | ÷ networkx "
        "| ISO-006 (tenants) | planted found | report.html | opens in Chromium |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _size, audit, nx_time in rows:
        t = audit["times"]
        rules = audit["graph_rules"]
        bare = audit["bare_bfs"] or 1e-9
        built = audit["built_bfs"] or 1e-9
        whole = audit["whole_bfs"] or 1e-9
        versus_nx = f"{rules / nx_time:.2f}x" if nx_time else "—"
        print(
            f"| {audit['nodes']:,} | {audit['edges']:,} | {t['load']:.1f} | {t['iam']:.1f} | {t['graph']:.1f} | "
            f"{t['rules']:.1f} | {t['report']:.1f} | {sum(t.values()):.1f} | {audit['peak_mb']:,.0f} MB | "
            f"{audit['cli_wall']:.1f} s, {audit['cli_peak_mb']:,.0f} MB | "
            f"{rules:.1f} | {audit['violations']:.2f} | {rules / bare:.0f}x ({audit['traversals']} BFS) | "
            f"{rules / built:.2f}x | "
            f"{rules / whole:.1f}x | {versus_nx} | "
            f"{audit['isolation']:.1f} s ({audit['tenants']:,}) | "
            f"{audit['planted'] - len(audit['missed'])} of {audit['planted']} | "
            f"{audit['html_bytes'] / 1e6:.2f} MB | "
            + (f"{audit['html_load']:.2f} s |" if audit["html_load"] is not None else "— |")
        )
    if args.iam:
        with tempfile.TemporaryDirectory(prefix="tenant-audit-iam-") as work:
            root = Path(work)
            child("iam-case", root, "")
            iam = child("iam", root, "")
        print(
            f"\nAccess derivation: {iam['roles']:,} roles x 100,000 buckets with wildcard policies: "
            f"{iam['iam']:.1f} s, {iam['edges']:,} edges, peak {iam['peak_mb']:,.0f} MB"
        )
    if failures:
        raise SystemExit("\n".join(failures))


if __name__ == "__main__":
    main()
