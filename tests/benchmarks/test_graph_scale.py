"""The scale benchmark measures what it says: its bare-BFS baseline runs the rules' own
traversals, and the whole benchmark runs end to end on a small estate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import breadth_first_order

from audit.graph.compiled import CompiledGraph
from benchmarks.graph_scale import bare_matrix

ROOT = Path(__file__).resolve().parents[2]


@st.composite
def traversals(draw: st.DrawFn) -> tuple[CompiledGraph, list[int], dict[str, Any]]:
    size = draw(st.integers(1, 12))
    node = st.integers(0, size - 1)
    edges = draw(st.lists(st.tuples(node, node, st.booleans()), max_size=30))
    src = np.array([u for u, _, _ in edges], dtype=np.int64)
    dst = np.array([v for _, v, _ in edges], dtype=np.int64)
    declared = np.array([d for _, _, d in edges], dtype=np.bool_)
    compiled = CompiledGraph([f"n{i:02d}" for i in range(size)], src, dst, declared)
    roots = draw(st.lists(node, min_size=1, max_size=3, unique=True))
    blocked = np.zeros(size, dtype=np.bool_)
    blocked[list(draw(st.sets(node, max_size=size)))] = True
    options = {
        "reverse": draw(st.booleans()),
        "declared_only": draw(st.booleans()),
        "blocked": blocked if blocked.any() else None,
    }
    return compiled, roots, options


@settings(max_examples=300, deadline=None)
@given(traversals())
def test_the_bare_baseline_reaches_what_the_rules_traversal_reaches(
    case: tuple[CompiledGraph, list[int], dict[str, Any]],
) -> None:
    compiled, roots, options = case
    tree = compiled.bfs(roots, **options)
    order = breadth_first_order(bare_matrix(compiled, roots, options), compiled.size, return_predecessors=False)
    assert set(order.tolist()) - {compiled.size} == set(tree.order[1:].tolist())


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
    assert cells[-1] == "7 of 7"
    assert cells[11].endswith("(15 BFS)")  # the rules' traversals were counted and re-run bare
    assert all(cell.endswith("x") for cell in cells[12:14])
