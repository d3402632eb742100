"""The data map, drawn by a layered layout engine (Graphviz dot, or grandalf when dot is not
installed): directed edges with arrowheads, declared / potential / gated / violating told
apart and each in the legend, zones as bands, and the routes of the findings highlighted,
so a leaky estate's map is not the clean one's."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from reports.datamap import DRAWN_FLOWS, STYLES, map_svg, place
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources

ENGINES = ("dot", "grandalf")


def _group(gid: str, zone: str, label: str, nodes: int = 1) -> dict[str, Any]:
    return {"id": gid, "zone": zone, "label": label, "nodes": nodes}


def _flow(a: str, b: str, declared: int = 1, potential: int = 0) -> dict[str, Any]:
    return {"from": a, "to": b, "declared": declared, "potential": potential}


CHAIN = {
    "groups": [
        _group("g0", "serving", "consumer-opt-in"),
        _group("g1", "training", "gate: consent-filter"),
        _group("g2", "training", "consumer-opt-in"),
        _group("g3", "training", "gate: pii-scrub"),
        _group("g4", "training", "training (training sink)"),
        _group("g5", "serving", "principals"),
        _group("g6", "training", "model-artifact"),
    ],
    "flows": [
        _flow("g0", "g1"),
        _flow("g1", "g2"),
        _flow("g2", "g3"),
        _flow("g3", "g4"),
        _flow("g0", "g5", 0, 2),
        _flow("g4", "g6"),
    ],
    "violations": [],
}


def _categories(svg: str) -> list[str]:
    return re.findall(r'<path class="flow (\w+)"', svg)


def test_graphviz_is_installed_for_the_dot_tests() -> None:
    assert shutil.which("dot"), "the data-map tests need Graphviz: apt-get install -y graphviz (see the README)"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_layout_is_layered_in_the_direction_data_moves(engine: str) -> None:
    edges = [(f["from"], f["to"]) for f in CHAIN["flows"]]
    placement = place(CHAIN["groups"], edges, engine)
    assert placement.engine.startswith("Graphviz dot" if engine == "dot" else "grandalf")
    for a, b in edges:
        assert placement.ranks[a] < placement.ranks[b], (engine, a, b, placement.ranks)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_flow_is_an_arrow_of_its_kind_and_the_legend_names_each_kind(engine: str) -> None:
    svg = str(map_svg(CHAIN, engine))
    categories = _categories(svg)
    assert len(categories) == len(CHAIN["flows"])
    assert set(categories) == {"gated", "potential", "declared"}
    for category in categories:
        assert f'<marker id="map-arrow-{category}"' in svg
    flows = re.findall(r'<path class="flow (\w+)"[^>]*marker-end="url\(#map-arrow-(\w+)\)"', svg)
    assert all(a == b for a, b in flows), "each arrow has the arrowhead of its kind"
    legend = svg[svg.index('<g class="legend"') :]
    for _, _, text in STYLES.values():
        assert text.split(":")[0] in legend
    assert ("Graphviz dot" if engine == "dot" else "grandalf (Sugiyama layered layout)") in legend
    for zone in ("serving", "training"):
        assert f">{zone}</text></g>" in svg, "each zone is a band"


@pytest.mark.parametrize("engine", ENGINES)
def test_violating_steps_are_drawn_even_past_the_cap(engine: str) -> None:
    groups = [_group(f"g{i}", "serving" if i % 2 else "training", f"class-{i}") for i in range(40)]
    flows = [_flow(f"g{i}", f"g{j}", declared=100) for i in range(40) for j in range(40) if i != j][:400]
    flows.append(_flow("g39", "g0", declared=0, potential=1))  # the smallest flow
    data = {"groups": groups, "flows": flows, "violations": [{"from": "g39", "to": "g0", "routes": 1}]}
    svg = str(map_svg(data, engine))
    assert _categories(svg).count("violating") == 1
    assert len(_categories(svg)) <= max(DRAWN_FLOWS, 1) + 1
    assert "smaller flow(s) not drawn" in svg


def test_a_leaky_estates_map_shows_its_routes_and_the_clean_one_none() -> None:
    clean = audit_sources(EXAMPLE_ORG)
    leaky = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export", LEAKS / "public-bucket")
    assert clean.scope["map"]["violations"] == []
    steps = leaky.scope["map"]["violations"]
    assert steps
    clean_svg, leaky_svg = str(map_svg(clean.scope["map"])), str(map_svg(leaky.scope["map"]))
    assert "violating" not in _categories(clean_svg)
    assert _categories(leaky_svg).count("violating") == len(steps)
    # every step of every finding's route between two groups is one of the highlighted flows
    groups = {g["id"]: g for g in leaky.scope["map"]["groups"]}
    assert all(s["from"] in groups and s["to"] in groups for s in steps)
    public = next(g["id"] for g in groups.values() if g["label"] == "the public")
    assert any(s["to"] == public for s in steps), "the exposure route is on the map"


def test_waived_findings_are_not_highlighted(tmp_path: Any) -> None:
    from audit.engine import AuditConfig, run_audit
    from audit.waivers import Waiver
    from checks import SUITES_DIR, load_registry

    leaky = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    waivers = tuple(
        Waiver(finding=f.id, reason="accepted by review PRIV-9", owner="a@example.com", expires="2099-01-01")
        for f in leaky.findings
    )
    config = AuditConfig(
        sources=(str(EXAMPLE_ORG), str(LEAKS / "debug-export")), suites_dir=SUITES_DIR, waivers=waivers
    )
    waived = run_audit(config, load_registry(plugins=False).checks)
    assert all(f.waived for f in waived.findings)
    assert waived.scope["map"]["violations"] == []
