"""What `run` tells the person at the terminal: the failing findings (capped), the stages of
a long run on stderr when it is a terminal (silent otherwise), the valid --format values,
and the nearest existing path when a source path is mistyped."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from audit.cli.common import FORMATS, RichProgress
from audit.cli.console import FAILING_SHOWN, edge_text
from tests.conftest import EXAMPLE_ORG, LEAKS, WriteYaml, invoke


def test_run_lists_the_failing_findings_with_their_route(tmp_path: Path) -> None:
    result = invoke("run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    failing = [f for f in report["findings"] if f["severity"] in ("critical", "high")]
    passing = [f for f in report["findings"] if f["severity"] not in ("critical", "high")]
    assert failing
    assert passing, "a finding below --fail-on must be left out of the list"
    assert f"failing findings (at or above high): {len(failing)}" in result.stdout
    for finding in failing:
        line = next(line for line in result.stdout.splitlines() if finding["id"] in line)
        assert finding["severity"].upper() in line
        assert " -> ".join(hop["node"] for hop in finding["path"]) in line
    for finding in passing:
        assert finding["id"] not in result.stdout
    assert "and " not in result.stdout.split("failing findings")[1].split("wrote")[0]


def test_a_clean_run_lists_no_findings(tmp_path: Path) -> None:
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    assert "failing findings" not in result.stdout


def test_waived_findings_are_not_listed_as_failing(tmp_path: Path, write_yaml: WriteYaml) -> None:
    sources = (str(EXAMPLE_ORG), str(LEAKS / "debug-export"))
    first = invoke("run", *sources, "--out", str(tmp_path / "a"), "--format", "json")
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    (finding,) = [f for f in report["findings"] if f["severity"] == "high"]
    assert finding["id"] in first.stdout
    waivers = write_yaml(
        f"- finding: {finding['id']}\n  reason: accepted by the privacy review PRIV-1\n  owner: a@example.com\n"
        "  expires: 2099-01-01\n",
        "waivers.yaml",
    )
    # the claims gate is left to the findings here: SEP-003's declared finding (medium) still
    # contradicts C7, which would fail the run on its own
    result = invoke(
        "run", *sources, "--out", str(tmp_path / "b"), "--format", "json", "--waivers", str(waivers),
        "--fail-on-claims", "none",
    )  # fmt: skip
    assert result.exit_code == 0
    assert finding["id"] not in result.stdout


def test_the_list_is_capped_and_the_rest_counted(tmp_path: Path, write_yaml: WriteYaml) -> None:
    """Fourteen independent leaks (each API store exported by its own job into its own
    training set) are fourteen findings: more than the console lists."""
    stores, jobs, principals = [], [], []
    for n in range(14):
        stores += [
            {"id": f"api-{n:02}", "kind": "s3-bucket", "classes": ["commercial-api"]},
            {"id": f"train-{n:02}", "kind": "s3-bucket", "classes": ["training"]},
        ]
        jobs.append(
            {"id": f"export-{n:02}", "runs_as": f"role-{n:02}", "reads": [f"api-{n:02}"], "writes": [f"train-{n:02}"]}
        )
        principals.append({"id": f"role-{n:02}", "trusts": ["glue.amazonaws.com"]})
    inventory = write_yaml(
        json.dumps({"version": 1, "stores": stores, "jobs": jobs, "principals": principals}), "leaks.json"
    )
    result = invoke("run", str(inventory), "--out", str(tmp_path / "out"), "--format", "json")
    assert result.exit_code == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    failing = [f for f in report["findings"] if f["severity"] in ("critical", "high") and not f["waived"]]
    assert len([f for f in failing if f["check"] == "ISO-001"]) == 14
    listed = [f for f in failing if f["id"] in result.stdout]
    assert len(listed) == FAILING_SHOWN
    assert f"and {len(failing) - FAILING_SHOWN} more" in result.stdout
    # the most severe come first
    rank = ("low", "medium", "high", "critical").index
    unlisted = [f for f in failing if f not in listed]
    assert min(rank(f["severity"]) for f in listed) >= max(rank(f["severity"]) for f in unlisted)


def test_fail_on_none_lists_every_unwaived_finding(tmp_path: Path) -> None:
    result = invoke(
        "run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path), "--format", "json",
        "--fail-on", "none", "--fail-on-claims", "none",
    )  # fmt: skip
    assert result.exit_code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"findings: {len(report['findings'])}" in result.stdout
    assert all(f["id"] in result.stdout for f in report["findings"])


@pytest.mark.parametrize(
    ("edge", "text"),
    [
        ("a -> b", "a -> b"),
        (("job-1", "store-2"), "job-1 -> store-2"),
        ({"from": "job-1", "to": "store-2", "edge": "writes"}, "job-1 -[writes]-> store-2"),
        ({"source": "job-1", "target": "store-2"}, "job-1 -> store-2"),
    ],
)
def test_the_edge_to_cut_reads_as_an_arrow(edge: object, text: str) -> None:
    assert edge_text(edge) == text


def test_stages_show_on_a_terminal_once_the_run_is_slow() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with RichProgress(console, delay=0.0) as progress:
        progress.stage("reading sources")
        time.sleep(0.3)
        progress.stage("running checks")
        time.sleep(0.3)
    assert "reading sources" in out.getvalue()
    assert "running checks" in out.getvalue()


def test_a_stage_begun_early_shows_once_the_delay_has_passed() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with RichProgress(console, delay=0.2) as progress:
        progress.stage("reading sources")
        time.sleep(0.1)
        assert "reading sources" not in out.getvalue()
        time.sleep(0.6)
    assert "reading sources" in out.getvalue()


def test_a_quick_run_on_a_terminal_shows_no_stage() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with RichProgress(console, delay=30.0) as progress:
        progress.stage("reading sources")
    assert "reading sources" not in out.getvalue()


def test_stages_are_silent_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    out = io.StringIO()
    with RichProgress(Console(file=out, force_terminal=False), delay=0.0) as progress:
        progress.stage("reading sources")
        time.sleep(0.2)
    assert out.getvalue() == ""
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path), "--format", "json")
    assert result.stderr == ""


def test_format_help_lists_every_format() -> None:
    from reports import RENDERERS

    assert set(FORMATS) == set(RENDERERS)
    help_text = " ".join(invoke("run", "--help").stdout.split())
    assert f"any of: {', '.join(FORMATS)}" in help_text
    assert "--paper [a4|letter]" in help_text


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("fixtures/exmple-org", "fixtures/example-org"),
        ("fixtures/leaks/debug-exprt", "fixtures/leaks/debug-export"),
        ("fixtures/lekas/debug-export", "fixtures/leaks/debug-export"),
    ],
)
def test_a_mistyped_source_path_suggests_the_nearest(
    typed: str, meant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLE_ORG.parents[1])
    result = invoke("run", typed, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"did you mean {meant}?" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_path_near_nothing_gets_the_plain_hint(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "qqqqqqqq"))
    assert result.exit_code == 2
    assert "did you mean" not in result.stderr
    assert "give a path to an inventory file or a directory of them" in result.stderr
