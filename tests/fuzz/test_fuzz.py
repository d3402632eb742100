"""The fuzz suite: hypothesis-driven structural mutation of every input family, run in-process.

For every case: the exit code is one of the documented ones (0, 1, 2, 3; 70 is a bug and
fails the case), nothing prints a traceback, nothing is written when the input is refused
(exit 2), and each case ends within a time bound and without the process growing past a
memory bound.

The default suite runs ``TENANT_AUDIT_FUZZ_EXAMPLES`` cases per family (200) with a fixed
derandomised seed, so CI is reproducible; ``nox -s fuzz`` runs 2,000 per family with fresh
randomness.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.cli import main
from tests.conftest import EXAMPLE_ORG, FIXTURES, LEAKS, REPO, SHARED
from tests.fuzz.mutation import TEXT_MUTATIONS, mutate_text, mutated, serialise

EXAMPLES = int(os.environ.get("TENANT_AUDIT_FUZZ_EXAMPLES", "200"))
RANDOM = os.environ.get("TENANT_AUDIT_FUZZ_RANDOM") == "1"
SECONDS_PER_CASE = 60.0  # generous on a shared 2-core CI machine; a hang never ends
MEMORY_GROWTH_KIB = 3 * 1024 * 1024  # the whole run's peak may not grow 3 GiB past its start
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3}

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # time is bounded by the property itself, not by hypothesis' flaky deadline
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
START_RSS = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _load_json(path: Path) -> Any:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return json.loads(raw.decode(encoding))
        except (UnicodeDecodeError, ValueError):
            continue
    raise ValueError(path)


PLANS = [
    _load_json(p)
    for p in sorted([*(FIXTURES / "terraform").glob("*.tfplan.json"), *(SHARED / "terraform-plans").glob("*.json")])
    if p.name != "corrupted.tfplan.json"
]
INVENTORY_FILES = sorted(EXAMPLE_ORG.glob("*.yaml"))
INVENTORIES = {p.name: yaml.safe_load(p.read_text()) for p in INVENTORY_FILES}
EVENTS = [json.loads(line) for line in (FIXTURES / "lineage" / "example-org.ndjson").read_text().splitlines()]
SUITE = yaml.safe_load((REPO / "checks" / "suites" / "default.yaml").read_text())
WAIVERS = [
    {
        "finding": "ISO-004-*",
        "reason": "accepted until the filter ships",
        "owner": "a@example.com",
        "expires": "2099-01-01",
    }
]


class Case:
    """One in-process command, checked against the property."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fuzz-"))
        self.out = self.dir / "out"

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return path

    def check(self, *args: str, writes: bool = False) -> int:
        started = time.monotonic()
        result = CliRunner().invoke(main, list(args), catch_exceptions=True)
        elapsed = time.monotonic() - started
        code = result.exit_code
        assert code in DOCUMENTED_EXIT_CODES, (
            f"exit {code}: {result.stderr[-2000:]}{_exception(result.exception)}\nargs: {args}"
        )
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stdout, result.stdout[-2000:]
        if code == 2 and writes:
            assert not self.out.exists() or not any(self.out.iterdir()), "an input error wrote output"
        if self.out.exists():
            assert not [p for p in self.out.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"
        assert elapsed < SECONDS_PER_CASE, f"{elapsed:.1f}s for one case"
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - START_RSS
        assert grown < MEMORY_GROWTH_KIB, f"the process grew {grown // 1024} MiB"
        return code

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _exception(exc: BaseException | None) -> str:
    if exc is None or isinstance(exc, SystemExit):
        return ""
    import traceback

    return "\n" + "".join(traceback.format_exception(exc))


@contextmanager
def new_case() -> Iterator[Case]:
    item = Case()
    try:
        yield item
    finally:
        item.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run directory (reports and manifest) to mutate for diff, explain and verify."""
    out = tmp_path_factory.mktemp("reports") / "run"
    result = CliRunner().invoke(
        main, ["run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(out), "--format", "json,md"]
    )
    assert result.exit_code == 1, result.stderr
    return out


FORMS = st.sampled_from(["yaml", "json"])


@FUZZ
@given(data=st.data())
def test_fuzz_inventory(data: st.DataObject) -> None:
    with new_case() as item:
        name = data.draw(st.sampled_from(sorted(INVENTORIES)))
        form = data.draw(FORMS)
        text = mutate_text(serialise(data.draw(mutated(INVENTORIES[name])), form), data.draw(TEXT_MUTATIONS))
        mutated_file = item.write(f"{Path(name).stem}.{form}", text)
        others = [str(p) for p in INVENTORY_FILES if p.name != name]
        verb = data.draw(st.integers(0, 9))
        if verb == 0:
            fmt = data.draw(st.sampled_from(["graphml", "json", "dot"]))
            item.check(
                "graph", *others, str(mutated_file), "--format", fmt, "--out", str(item.out / f"g.{fmt}"), writes=True
            )
        elif verb <= 2:
            item.check(
                "run",
                *others,
                str(mutated_file),
                "--out",
                str(item.out),
                "--format",
                "json,md,sarif,junit",
                writes=True,
            )
        else:
            item.check("validate", *others, str(mutated_file))


@FUZZ
@given(data=st.data())
def test_fuzz_terraform_plan(data: st.DataObject) -> None:
    with new_case() as item:
        seed = PLANS[data.draw(st.integers(0, len(PLANS) - 1))]
        text = mutate_text(json.dumps(data.draw(mutated(seed))), data.draw(TEXT_MUTATIONS))
        plan = item.write("plan.tfplan.json", text)
        overlay = str(FIXTURES / "terraform" / "overlay.yaml")
        if data.draw(st.integers(0, 4)) == 0:
            item.check(
                "run", str(plan), overlay, "--out", str(item.out), "--format", "json,sarif,junit,md", writes=True
            )
        else:
            item.check("validate", str(plan), overlay)


@FUZZ
@given(data=st.data())
def test_fuzz_openlineage(data: st.DataObject) -> None:
    with new_case() as item:
        events = list(EVENTS)
        position = data.draw(st.integers(0, len(events) - 1))
        events[position] = data.draw(mutated(events[position]))
        lines = [json.dumps(e, separators=(",", ":")) for e in events]
        text = mutate_text("\n".join(lines) + "\n", data.draw(TEXT_MUTATIONS))
        lineage = item.write("events.ndjson", text)
        since = data.draw(st.sampled_from([[], ["--since", "2026-11-01"], ["--since", "2026-11-21T02:10:00Z"]]))
        org = [str(p) for p in [*INVENTORY_FILES[:1], EXAMPLE_ORG / "stores.yaml", EXAMPLE_ORG / "access.yaml"]]
        overlay = str(FIXTURES / "lineage" / "jobs.yaml")
        if data.draw(st.integers(0, 4)) == 0:
            item.check(
                "run", *org, overlay, str(lineage), *since, "--out", str(item.out), "--format", "json", writes=True
            )
        else:
            item.check("validate", *org, overlay, str(lineage), *since)


@FUZZ
@given(data=st.data())
def test_fuzz_waivers(data: st.DataObject, reports: Path) -> None:
    with new_case() as item:
        text = mutate_text(serialise(data.draw(mutated(WAIVERS)), data.draw(FORMS)), data.draw(TEXT_MUTATIONS))
        waivers = item.write("waivers.yaml", text)
        report = str(reports / "report.json")
        item.check("diff", report, report, "--waivers", str(waivers))


@FUZZ
@given(data=st.data())
def test_fuzz_suite_file(data: st.DataObject) -> None:
    with new_case() as item:
        text = mutate_text(serialise(data.draw(mutated(SUITE)), data.draw(FORMS)), data.draw(TEXT_MUTATIONS))
        suite = item.write("suite.yaml", text)
        item.check(
            "run", str(EXAMPLE_ORG), "--suite", str(suite), "--out", str(item.out), "--format", "json", writes=True
        )


@FUZZ
@given(data=st.data())
def test_fuzz_report_for_diff_and_explain(data: st.DataObject, reports: Path) -> None:
    with new_case() as item:
        seed = json.loads((reports / "report.json").read_text())
        text = mutate_text(json.dumps(data.draw(mutated(seed, max_mutations=4))), data.draw(TEXT_MUTATIONS))
        head = item.write("report.json", text)
        verb = data.draw(st.sampled_from(["explain", "diff", "diff-md", "diff-json"]))
        if verb == "explain":
            item.check("explain", str(head), data.draw(st.sampled_from(["ISO", "ISO-004", "[/x]", "x"])))
        else:
            fmt = {"diff": "text", "diff-md": "md", "diff-json": "json"}[verb]
            item.check("diff", str(reports / "report.json"), str(head), "--format", fmt)


@FUZZ
@given(data=st.data())
def test_fuzz_manifest_for_verify(data: st.DataObject, reports: Path) -> None:
    with new_case() as item:
        copy = item.dir / "run"
        shutil.copytree(reports, copy)
        seed = json.loads((reports / "manifest.json").read_text())
        text = mutate_text(json.dumps(data.draw(mutated(seed))), data.draw(TEXT_MUTATIONS))
        (copy / "manifest.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        before = sorted(p.name for p in copy.iterdir())
        item.check("verify", str(copy), *data.draw(st.sampled_from([[], ["--inputs"]])))
        assert sorted(p.name for p in copy.iterdir()) == before, "verify wrote into the directory"
