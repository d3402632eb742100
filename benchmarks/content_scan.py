"""Benchmark: the fingerprint scan (DAT-001) of training rows against protected rows.

    python -m benchmarks.content_scan [--training 10000000] [--protected 1000000] [--spark]
    python -m benchmarks.content_scan --suite [--suite-rows 200000] [--baseline DIR]

Generates Parquet datasets (a text column and an id per row; ``--planted`` training rows
are copies of protected rows, re-cased), then measures, each in a fresh process so peak
memory is its own:

- ``read``: reading every row of both datasets with pyarrow into pandas (the floor);
- ``naive``: an exact in-memory join of the normalised texts (the obvious approach);
- ``scan``: tenant-audit's scan on pandas (streaming chunks, Bloom filter, exact re-check);
- ``spark``: the same scan on Spark local mode (with ``--spark``).

Figures are reported as ratios to the ``read`` baseline measured in the same run, with
rows per second and peak resident memory. Every step must find exactly the planted copies.

``--suite`` measures the whole content suite instead (DAT-001 to DAT-005: fingerprints, the
label census, every Great Expectations rule with its confirmers) on training text in which
one record in ten holds digit groups (numbers in prose, dates, ids, real phone numbers) that
the phone prefilter flags. With ``--baseline DIR`` (a checkout of another version) the same
step runs with that version's code on the same data, in the same run: the ratio between the
two is the cost of a change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.datasets import WORDS as DATASET_WORDS

WORDS = DATASET_WORDS[:22]  # the vocabulary of the test datasets


def generate(root: Path, training: int, protected: int, planted: int, batch: int = 1_000_000) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(42)
    phrases = pa.array([" ".join(rng.choice(WORDS, size=10)) for _ in range(50_000)])

    def texts(prefix: str, start: int, count: int) -> pa.Array:
        ids = pa.array(np.arange(start, start + count)).cast(pa.string())
        picks = pc.take(phrases, pa.array(rng.integers(0, len(phrases), size=count)))
        return pc.binary_join_element_wise(pa.scalar(prefix), picks, ids, " ")

    (root / "protected").mkdir(parents=True)
    (root / "training").mkdir()
    kept: list[str] = []
    for part, start in enumerate(range(0, protected, batch)):
        count = min(batch, protected - start)
        column = texts("client record", start, count)
        if part == 0:
            kept = column.slice(0, planted).to_pylist()
        pq.write_table(
            pa.table({"id": pa.array(np.arange(start, start + count)), "text": column}),
            root / "protected" / f"part-{part:04d}.parquet",
        )
    for part, start in enumerate(range(0, training, batch)):
        count = min(batch, training - start)
        column = texts("training document", start, count).to_pylist() if part == 0 else None
        if column is not None:
            step = max(1, count // max(planted, 1))
            for i, text in enumerate(kept):  # planted copies, re-cased, in the first part
                column[i * step] = text.upper()
            array = pa.array(column)
        else:
            array = texts("training document", start, count)
        pq.write_table(
            pa.table({"id": pa.array(np.arange(start, start + count)), "text": array}),
            root / "training" / f"part-{part:04d}.parquet",
        )
    (root / "inventory.yaml").write_text(
        "version: 1\norganisation: Benchmark Lab\n"
        "accounts:\n  - {id: '111111111111', name: serving, zone: serving}\n"
        "  - {id: '222222222222', name: training, zone: training}\n"
        "stores:\n"
        "  - {id: client-data, kind: dataset, account: serving, classes: [commercial-api], location: protected/}\n"
        "  - {id: training-mix, kind: dataset, account: training, classes: [training], location: training/}\n"
    )


DIGIT_PHRASES = [  # filled with fresh random digits each time: no two records repeat a number
    "scored {a} {a} {a} points",
    "shipped on 20{y}-{m}-{d} at {h}:{m}",
    "order {b}-{b}-{b} was split",
    "ticket {a}-{a}-{b}-{d} reopened",
    "version {d}.{m}.{a} rolled out to {a} {a} users",
    "invoice 20{y} {a} {a} is due",
    "the {d}.{m}.20{y} release",
]
PHONES = ["(415) 555-0134", "+44 20 7946 0958", "030 1234 5678", "01 23 45 67 89"]


def _digits(rng: Any, phrase: str) -> str:
    fill = {
        "a": lambda: f"{rng.randrange(100, 1000)}",
        "b": lambda: f"{rng.randrange(1000, 10000)}",
        "y": lambda: f"{rng.randrange(10, 30)}",
        "m": lambda: f"{rng.randrange(1, 13):02d}",
        "d": lambda: f"{rng.randrange(1, 29):02d}",
        "h": lambda: f"{rng.randrange(24):02d}",
    }
    return "".join(fill[part[1]]() if part.startswith("{") else part for part in re.split(r"(\{[a-z]\})", phrase))


def generate_suite(root: Path, rows: int) -> None:
    """Training records with provenance, consent and digit-laden text; a small protected store."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(42)
    (root / "protected").mkdir(parents=True)
    (root / "training").mkdir()
    client = [" ".join(rng.choice(WORDS) for _ in range(12)) + f" client {i}" for i in range(10_000)]
    pq.write_table(pa.table({"id": list(range(len(client))), "text": client}), root / "protected/part-0000.parquet")
    sources = ["public-web", "licensed", "synthetic", "consumer-opt-in"]
    for part, start in enumerate(range(0, rows, 100_000)):
        count = min(100_000, rows - start)
        texts, source, consent = [], [], []
        for _ in range(count):
            text = " ".join(rng.choice(WORDS) for _ in range(16))
            draw = rng.random()
            if draw < 0.09:
                text += " " + _digits(rng, rng.choice(DIGIT_PHRASES))
            elif draw < 0.10:
                text += " call " + rng.choice(PHONES)
            texts.append(text)
            source.append(rng.choice(sources))
            consent.append("opt-in" if source[-1] == "consumer-opt-in" else None)
        table = pa.table({"text": texts, "source": source, "consent": consent})
        pq.write_table(table, root / "training" / f"part-{part:04d}.parquet")
    (root / "inventory.yaml").write_text(
        "version: 1\norganisation: Benchmark Lab\n"
        "accounts:\n  - {id: '111111111111', name: serving, zone: serving}\n"
        "  - {id: '222222222222', name: training, zone: training}\n"
        "stores:\n"
        "  - {id: client-data, kind: dataset, account: serving, classes: [commercial-api], location: protected/}\n"
        "  - {id: training-mix, kind: dataset, account: training, classes: [training], location: training/}\n"
    )


def step_suite(root: Path) -> dict[str, Any]:
    """The whole content suite's scan, with whichever version of the code is on the path."""
    from audit.content.requests import ContentOptions
    from audit.engine import scan_content
    from audit.sources import load_inventory
    from audit.suites import load_suite
    from checks import SUITES_DIR, load_registry

    inventory = load_inventory([str(root / "inventory.yaml")])
    suite = load_suite("content", SUITES_DIR, load_registry(plugins=False).checks)
    results = scan_content(suite, inventory, ContentOptions())
    assert results is not None
    assert not results.failed, results.failed
    phones = sum(o.unexpected for o in results.outcomes if o.expectation == "phone")
    return {"rows": sum(d.rows for d in results.datasets), "found": phones}


def step_read(root: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    rows = 0
    for path in sorted(root.rglob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=200_000):
            rows += len(batch.to_pandas())
    return {"rows": rows, "found": None}


def step_naive(root: Path) -> dict[str, Any]:
    import pandas as pd

    from audit.content.normalise import normalise

    def load(folder: str) -> pd.Series:
        frames = [pd.read_parquet(p, columns=["text"]) for p in sorted((root / folder).glob("*.parquet"))]
        return pd.Series(normalise(pd.concat(frames, ignore_index=True)["text"].tolist()), dtype=object)

    protected = load("protected")
    training = load("training")
    found = int(training.isin(set(protected)).sum())
    return {"rows": len(protected) + len(training), "found": found}


def step_scan(root: Path, engine: str) -> dict[str, Any]:
    from audit.content.requests import ContentOptions, FingerprintRequest
    from audit.content.scan import run_scan
    from audit.sources import load_inventory

    inventory = load_inventory([str(root / "inventory.yaml")])
    options = ContentOptions(engine=engine, chunk_rows=200_000, spark_master="local[*]")  # type: ignore[arg-type]
    results = run_scan(inventory, [FingerprintRequest("DAT-001", ("commercial-api",), 24, True)], options)
    assert not results.gaps, results.gaps
    rows = sum(d.rows for d in results.datasets)
    return {"rows": rows, "found": sum(m.rows for m in results.matches)}


def measure(step: str, root: Path, code: Path | None = None) -> dict[str, Any]:
    """Run one step in a fresh interpreter; its wall time and peak resident memory. With
    ``code``, the step imports that checkout's packages (this file still drives it)."""
    started = time.perf_counter()
    repository = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(code or repository))
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--step", step, "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=str(code or repository),
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update(seconds=seconds, peak_mb=result["peak_kb"] / 1024)
    return result


def suite_benchmark(rows: int, baseline: Path | None, repeats: int = 3) -> None:
    """Each version's best of ``repeats`` runs."""
    with tempfile.TemporaryDirectory(prefix="tenant-audit-bench-") as work:
        root = Path(work)
        generate_suite(root, rows)
        versions: dict[str, Path | None] = {"suite (this version)": None}
        if baseline is not None:
            versions[f"suite ({baseline})"] = baseline
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
        for _ in range(repeats):  # alternating, so a busy moment of the machine weighs on both
            for name, code in versions.items():
                runs[name].append(measure("suite", root, code))
        results = {name: min(found, key=lambda r: r["seconds"]) for name, found in runs.items()}
    print(
        f"\nContent suite scan: {rows:,} training rows, 1 in 10 with digit groups, best of {repeats} "
        f"({os.cpu_count()} cores)\n"
    )
    print("| code | wall time | rows/s | peak memory | phone findings (records) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds']:.1f} s | {r['rows'] / r['seconds']:,.0f} | {r['peak_mb']:,.0f} MB | "
            f"{r['found']:,} |"
        )
    if baseline is not None:
        mine, theirs = results["suite (this version)"], results[f"suite ({baseline})"]
        print(f"\nthis version / baseline: {mine['seconds'] / theirs['seconds']:.2f}x wall time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--training", type=int, default=10_000_000)
    parser.add_argument("--protected", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=1_000)
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--suite", action="store_true")
    parser.add_argument("--suite-rows", type=int, default=200_000)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--step")
    parser.add_argument("--root")
    args = parser.parse_args()
    if args.suite and not args.step:
        suite_benchmark(args.suite_rows, args.baseline)
        return
    if args.step:  # inside the measured child process
        root = Path(args.root)
        if args.step == "generate":
            generate(root, args.training, args.protected, args.planted)
            print(json.dumps({"rows": args.training + args.protected, "found": None, "peak_kb": 0}))
            return
        runners = {
            "read": lambda: step_read(root),
            "naive": lambda: step_naive(root),
            "scan": lambda: step_scan(root, "pandas"),
            "spark": lambda: step_scan(root, "spark"),
            "suite": lambda: step_suite(root),
        }
        result = runners[args.step]()
        result["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="tenant-audit-bench-") as work:
        root = Path(work)
        started = time.perf_counter()
        # generated in a child process too: a process's peak memory starts from its parent's
        command = [sys.executable, "-m", "benchmarks.content_scan", "--step", "generate", "--root", str(root)]
        sizes = ["--training", str(args.training), "--protected", str(args.protected), "--planted", str(args.planted)]
        subprocess.run([*command, *sizes], check=True, stdout=subprocess.DEVNULL)
        print(
            f"generated {args.training:,} training and {args.protected:,} protected rows "
            f"in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        steps = ["read", "naive", "scan", *(["spark"] if args.spark else [])]
        results = {step: measure(step, root) for step in steps}
    base = results["read"]
    print(
        f"\nFingerprint scan: {args.training:,} training rows against {args.protected:,} protected rows, "
        f"{args.planted:,} planted copies ({os.cpu_count()} cores)\n"
    )
    print("| step | wall time | vs read | rows/s | peak memory | vs read | copies found |")
    print("|---|---|---|---|---|---|---|")
    for step, r in results.items():
        found = "—" if r["found"] is None else f"{r['found']:,}"
        time_ratio = r["seconds"] / base["seconds"]
        memory_ratio = r["peak_mb"] / base["peak_mb"]
        print(
            f"| {step} | {r['seconds']:.1f} s | {time_ratio:.2f}x | {r['rows'] / r['seconds']:,.0f} | "
            f"{r['peak_mb']:,.0f} MB | {memory_ratio:.2f}x | {found} |"
        )
    wrong = {s: r["found"] for s, r in results.items() if r["found"] is not None and r["found"] != args.planted}
    if wrong:
        raise SystemExit(f"planted {args.planted} copies, found {wrong}")


if __name__ == "__main__":
    main()
