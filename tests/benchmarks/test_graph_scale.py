"""The scale benchmark measures what it says: its bare-BFS baseline runs the rules' own
traversals, and the whole benchmark runs end to end on a small estate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from scipy.sparse.csgraph import breadth_first_order

from benchmarks.graph_scale import bare_matrix
from tests.support.graphs import TraversalCase, compile_case, traversal_cases

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=300, deadline=None)
@given(traversal_cases())
def test_the_bare_baseline_reaches_what_the_rules_traversal_reaches(case: TraversalCase) -> None:
    size, _, roots, _, reverse, declared_only = case
    compiled, blocked = compile_case(case)
    options: dict[str, Any] = {"reverse": reverse, "declared_only": declared_only, "blocked": blocked}
    tree = compiled.bfs(roots, **options)
    order = breadth_first_order(bare_matrix(compiled, roots, options), size, return_predecessors=False)
    assert set(order.tolist()) - {size} == set(tree.order[1:].tolist())


def test_the_benchmark_runs_and_finds_every_planted_violation() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.graph_scale", "--sizes", "1000", "--no-networkx"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    row = next(line for line in completed.stdout.splitlines() if line.startswith("| 1,0"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[-3] == "7 of 7"
    assert cells[-2].endswith(" MB"), "the size of report.html is in the table"
    assert cells[-1].endswith(" s"), "so is the time Chromium takes to open it"
    # the rules' traversals were counted and re-run bare: two per path rule and gate (forward
    # from the sources, backward from the sinks; the declared routes are searched inside the
    # violation), and tenant isolation's (the classes data carries are derived with the graph)
    float(cells[11])  # the violations and cuts, a stage of their own (seconds)
    searches = re.search(r"\((\d+) BFS\)$", cells[12])
    assert searches is not None, cells[12]
    assert int(searches.group(1)) >= 15
    assert all(cell.endswith("x") for cell in cells[13:15])
