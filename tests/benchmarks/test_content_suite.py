"""The whole-content-suite benchmark runs end to end on a small dataset, and its phone
findings are exactly the records it planted a phone number in."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.content_scan import generate_suite

ROOT = Path(__file__).resolve().parents[2]


def test_the_suite_benchmark_runs_and_finds_exactly_the_planted_numbers(tmp_path: Path) -> None:
    generate_suite(tmp_path / "data", 3_000)
    planted = sum(
        pc.sum(pc.match_substring(pq.read_table(part)["text"], " call ")).as_py()
        for part in sorted((tmp_path / "data/training").glob("*.parquet"))
    )
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.content_scan", "--suite", "--suite-rows", "3000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (row,) = [line for line in completed.stdout.splitlines() if line.startswith("| suite (this version)")]
    found = int(re.sub(r"[^0-9]", "", row.rsplit("|", 2)[-2]))
    assert planted > 10
    assert found == planted
