"""`tenant-audit synth`: a clean base estate audits clean, every planted violation is found,
and every finding traces back to one of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.synth import generate, missed, missed_in_report
from tests.conftest import invoke

SMALL = ("--stores", "400", "--roles", "80", "--jobs", "260", "--tenants", "12")


def synth(out: Path, *extra: str) -> list[dict[str, str]]:
    result = invoke("synth", *SMALL, "--out", str(out), *extra)
    assert result.exit_code == 0, result.stderr
    assert "planted violation(s)" in result.stdout
    return list(json.loads((out / "planted.json").read_text()))


def audit(out: Path) -> tuple[int, dict[str, object]]:
    result = invoke("run", str(out / "inventory"), "--out", str(out / "audit"), "--format", "json")
    return result.exit_code, json.loads((out / "audit" / "report.json").read_text())


def test_the_clean_estate_has_no_finding_and_no_gap(tmp_path: Path) -> None:
    planted = synth(tmp_path, "--clean")
    code, report = audit(tmp_path)
    assert planted == []
    assert code == 0
    assert report["findings"] == []
    assert report["coverage"]["gaps"] == []  # type: ignore[index]
    assert {claim["verdict"] for claim in report["claims"]} == {"no-evidence-contradicting"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("seed", "fanout"), [("7", "1"), ("11", "1"), ("7", "4")])
def test_every_planted_violation_is_found_and_every_finding_comes_from_one(
    tmp_path: Path, seed: str, fanout: str
) -> None:
    planted = synth(tmp_path, "--seed", seed, "--fanout", fanout)
    code, report = audit(tmp_path)
    assert code == 1
    assert {p["check"] for p in planted} == {f"ISO-00{n}" for n in range(1, 8)}
    findings = report["findings"]
    assert isinstance(findings, list)
    assert missed_in_report(planted, report) == []
    # nothing else: each finding's path runs through a planted job or into a planted sink
    planted_nodes = {p["via"] for p in planted} | {p["sink"] for p in planted}
    for finding in findings:
        assert planted_nodes & {hop["node"] for hop in finding["path"]}, finding["id"]


def test_fanout_makes_a_denser_graph_over_the_same_entities(tmp_path: Path) -> None:
    synth(tmp_path / "sparse")
    synth(tmp_path / "dense", "--fanout", "4")

    def counts(out: Path) -> tuple[int, int, int]:
        jobs = json.loads((out / "inventory" / "jobs.json").read_text())["jobs"]
        stores = json.loads((out / "inventory" / "stores.json").read_text())["stores"]
        return len(stores), len(jobs), sum(len(j["reads"]) for j in jobs)

    sparse, dense = counts(tmp_path / "sparse"), counts(tmp_path / "dense")
    assert dense[:2] == sparse[:2]
    assert dense[2] > 1.5 * sparse[2]


def test_missed_names_the_planted_violations_no_finding_reports() -> None:
    estate = generate(stores=200, roles=40, jobs=120, tenants=6, seed=3)
    assert missed(estate.planted, []) == estate.planted


def test_the_same_seed_writes_the_same_estate(tmp_path: Path) -> None:
    synth(tmp_path / "a", "--seed", "5")
    synth(tmp_path / "b", "--seed", "5")
    synth(tmp_path / "c", "--seed", "6")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert [str(f) for f in files] == [
        "inventory/jobs.json",
        "inventory/org.json",
        "inventory/principals.json",
        "inventory/stores.json",
        "planted.json",
    ]
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "inventory/jobs.json").read_bytes() != (
        tmp_path / "c" / "inventory/jobs.json"
    ).read_bytes()


def test_sizes_follow_the_options(tmp_path: Path) -> None:
    synth(tmp_path)
    stores = json.loads((tmp_path / "inventory" / "stores.json").read_text())["stores"]
    principals = json.loads((tmp_path / "inventory" / "principals.json").read_text())["principals"]
    jobs = json.loads((tmp_path / "inventory" / "jobs.json").read_text())["jobs"]
    tenants = json.loads((tmp_path / "inventory" / "org.json").read_text())["tenants"]
    assert len(tenants) == 12
    assert 0.9 * 400 <= len(stores) <= 1.1 * 400
    assert 0.8 * 80 <= len(principals) <= 1.2 * 80
    assert 0.9 * 260 <= len(jobs) <= 1.1 * 260


def test_the_written_estate_validates(tmp_path: Path) -> None:
    synth(tmp_path)
    result = invoke("validate", *(str(p) for p in sorted((tmp_path / "inventory").iterdir())))
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenants", "300", "--stores", "100"), "300 tenants need at least 600 stores"),
        (("--stores", "0"), "--stores"),
        (("--tenants", "1"), "--tenants"),
    ],
)
def test_impossible_sizes_are_usage_errors_and_write_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = invoke("synth", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_at_ten_to_the_five_nodes_each_planted_leak_is_one_finding_at_its_planted_edge(tmp_path: Path) -> None:
    """Issue 18: one planted leak is one finding whatever the estate's size (it was 304 ISO-001
    findings here, one per upstream tenant store), and the edge to cut is the planted job's."""
    args = ("--stores", "55000", "--roles", "10000", "--jobs", "35000", "--tenants", "100")
    result = invoke("synth", *args, "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    planted = json.loads((tmp_path / "planted.json").read_text())
    _, report = audit(tmp_path)
    findings = report["findings"]
    assert isinstance(findings, list)
    for leak in planted:
        mine = [f for f in findings if f["check"] == leak["check"]]
        gates = 2 if leak["check"] == "ISO-004" else 1  # ISO-004 bypasses two gates: a rule each
        assert len(mine) == gates, (leak["check"], [f["id"] for f in mine])
        for finding in mine:
            cut = finding["cut_edge"]
            assert leak["via"] in (cut["source"], cut["target"]), (leak, cut)
    routes = {v["check"] for v in report["violations"]}  # type: ignore[union-attr]
    assert {leak["check"] for leak in planted} <= routes
