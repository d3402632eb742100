"""The data map: groups of nodes (by zone and class, gate or kind) and the flows between
them, laid out by a layered (Sugiyama) layout engine and drawn as inline SVG.

The engine ranks the groups along the direction data moves (left to right) and orders each
rank to keep crossings few: Graphviz ``dot`` when it is installed (the reference
implementation of the method), else grandalf, a pure-Python Sugiyama layout, so a fresh
``pip install`` draws the same kind of map; the map says which drew it. Zones are drawn as
horizontal bands (one cluster per zone), each rank a column. Every flow is a directed edge
with an arrowhead, styled by what it is: declared (data moves), potential (data may move),
gated (into or out of a sanctioned transform) and violating (a step of a finding's route),
each in the legend drawn with the map. Violating flows are always drawn; the others are
capped to the largest. Every label is escaped, full names kept in ``<title>``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

ZONE_ORDER = ("serving", "corporate", "training", "external", "unknown", "outside")
DRAWN_FLOWS = 150
BOX_W, BOX_H, GAP_X, GAP_Y, LANE_PAD, LEFT = 150, 32, 38, 8, 12, 90
STYLES = {  # category -> (colour, dash, legend text)
    "violating": ("#c1121f", "", "violating: a step of a finding's route"),
    "gated": ("#2f855a", "", "gated: into or out of a sanctioned transform"),
    "declared": ("#4a5568", "", "declared: data moves"),
    "potential": ("#b85c00", "6 4", "potential: data may move (permitted)"),
}
FILLS = {  # kind of group -> (fill, legend text)
    "store": ("#eef4fb", "data of a class"),
    "gate": ("#e6f4ea", "gate (consent filter, scrub, de-link...)"),
    "sink": ("#fde2e1", "training sink, or the outside world"),
    "actor": ("#f3effa", "jobs and principals"),
}


@dataclass(frozen=True)
class Placement:
    """Rank (column) and order within the rank of each group, and the engine that chose them."""

    ranks: dict[str, int]
    orders: dict[str, float]
    engine: str


def _kind(group: dict[str, Any]) -> str:
    label = str(group["label"])
    if label.startswith("gate"):
        return "gate"
    if "training sink" in label or label == "training jobs" or group["zone"] == "outside":
        return "sink"
    if label in ("jobs", "principals"):
        return "actor"
    return "store"


def _dot(ids: Sequence[str], zones: dict[str, str], edges: Sequence[tuple[str, str]], binary: str) -> Placement:
    """Ranks and orders from Graphviz dot (left to right, zones as clusters)."""
    lines = ["digraph map {", "rankdir=LR; nodesep=0.2; ranksep=0.6; node [shape=box, width=2.4, height=0.45];"]
    for number, zone in enumerate(dict.fromkeys(zones[i] for i in ids)):
        lines.append(f"subgraph cluster_{number} {{")
        lines += [f'"{i}";' for i in ids if zones[i] == zone]  # ids are g0, g1...: nothing to escape
        lines.append("}")
    lines += [f'"{a}" -> "{b}";' for a, b in edges]
    lines.append("}")
    completed = subprocess.run(
        [binary, "-Tjson"], input="\n".join(lines), capture_output=True, text=True, timeout=60, check=True
    )
    drawn = json.loads(completed.stdout)
    positions = {
        o["name"]: tuple(float(v) for v in o["pos"].split(","))
        for o in drawn.get("objects", [])
        if "pos" in o and o.get("name") in zones
    }
    columns = sorted({round(x) for x, _ in positions.values()})
    return Placement(
        ranks={name: columns.index(round(x)) for name, (x, _) in positions.items()},
        orders={name: -y for name, (_, y) in positions.items()},
        engine="Graphviz dot",
    )


def _grandalf(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> Placement:
    """Ranks and orders from grandalf's Sugiyama layout, one connected component after another."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class Box:
        w, h = BOX_H, BOX_W  # grandalf lays out top-down: our columns are its layers

    vertices = {i: Vertex(i) for i in ids}
    for vertex in vertices.values():
        vertex.view = Box()
    graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in edges])
    ranks: dict[str, int] = {}
    orders: dict[str, float] = {}
    offset = 0.0
    for component in graph.C:
        layout = SugiyamaLayout(component)
        layout.init_all()
        layout.draw()
        xs = [v.view.xy[0] for v in component.sV]
        for vertex in component.sV:
            ranks[vertex.data] = layout.grx[vertex].rank
            orders[vertex.data] = offset + vertex.view.xy[0] - min(xs)
        offset += max(xs) - min(xs) + 10 * BOX_W
    return Placement(ranks, orders, "grandalf (Sugiyama layered layout)")


def place(groups: Sequence[dict[str, Any]], edges: Sequence[tuple[str, str]], engine: str = "auto") -> Placement:
    """Rank and order the groups with ``engine``: "dot", "grandalf", or "auto" (dot when installed)."""
    ids = [g["id"] for g in groups]
    binary = shutil.which("dot") if engine in ("auto", "dot") else None
    if binary:
        try:
            return _dot(ids, {g["id"]: g["zone"] for g in groups}, edges, binary)
        except (OSError, subprocess.SubprocessError, ValueError, KeyError):
            if engine == "dot":
                raise
    return _grandalf(ids, edges)


def _category(flow: dict[str, Any], violating: set[tuple[str, str]], gates: set[str]) -> str:
    if (flow["from"], flow["to"]) in violating:
        return "violating"
    if flow["from"] in gates or flow["to"] in gates:
        return "gated"
    return "declared" if flow["declared"] else "potential"


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def map_svg(data_map: dict[str, Any], engine: str = "auto") -> Markup:
    groups = data_map.get("groups", [])
    if not groups:
        return Markup("")
    violating = {(v["from"], v["to"]) for v in data_map.get("violations", [])}
    gates = {g["id"] for g in groups if _kind(g) == "gate"}
    known = {g["id"] for g in groups}
    flows = [f for f in data_map.get("flows", []) if f["from"] in known and f["to"] in known]
    flows.sort(key=lambda f: ((f["from"], f["to"]) not in violating, -(f["declared"] + f["potential"])))
    flows = flows[: max(DRAWN_FLOWS, len(violating))]
    placement = place(groups, [(f["from"], f["to"]) for f in flows], engine)
    zones = [z for z in ZONE_ORDER if any(g["zone"] == z for g in groups)]
    zones += sorted({g["zone"] for g in groups} - set(zones))
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for group in groups:
        cells.setdefault((group["zone"], placement.ranks.get(group["id"], 0)), []).append(group)
    where: dict[str, tuple[float, float]] = {}
    lanes, top = [], 10.0
    for zone in zones:
        rows = max(len(members) for (z, _), members in cells.items() if z == zone)
        height = rows * (BOX_H + GAP_Y) - GAP_Y + 2 * LANE_PAD
        lanes.append((zone, top, height))
        for (z, rank), members in cells.items():
            if z != zone:
                continue
            for row, group in enumerate(sorted(members, key=lambda g: placement.orders.get(g["id"], 0.0))):
                where[group["id"]] = (LEFT + rank * (BOX_W + GAP_X), top + LANE_PAD + row * (BOX_H + GAP_Y))
        top += height + 8
    width = LEFT + (max(placement.ranks.values(), default=0) + 1) * (BOX_W + GAP_X) + 40
    parts = [
        f'<svg class="map" role="img" viewBox="0 0 {width} {top + 150}" width="{width}" height="{top + 150}">'
        "<title>Data map: zones, data classes, gates and flows</title><defs>"
    ]
    for category, (colour, _, _) in STYLES.items():
        parts.append(
            f'<marker id="map-arrow-{category}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    for index, (zone, lane_top, height) in enumerate(lanes):
        shade = "#f7f8fa" if index % 2 == 0 else "#fdfdfe"
        parts.append(
            f'<g class="zone"><rect x="4" y="{lane_top}" width="{width - 8}" height="{height}" rx="6" fill="{shade}" '
            f'stroke="#d8dde3"/><text x="14" y="{lane_top + 22}" font-size="13" font-weight="700" fill="#1d232b">'
            f"{escape(zone)}</text></g>"
        )
    parts += [_edge(flow, where, _category(flow, violating, gates)) for flow in flows if flow["from"] != flow["to"]]
    for group in groups:
        x, y = where[group["id"]]
        fill = FILLS[_kind(group)][0]
        on_route = any(group["id"] in pair for pair in violating)
        stroke = ' stroke="#c1121f" stroke-width="2"' if on_route else ' stroke="#a0aec0"'
        parts.append(
            f"<g><title>{escape(group['label'])}: {group['nodes']} node(s) in {escape(group['zone'])}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}"{stroke}/>'
            f'<text x="{x + 8}" y="{y + 21}" font-size="12" fill="#1d232b">{escape(_short(group["label"]))} '
            f'<tspan fill="#5b6673">· {group["nodes"]}</tspan></text></g>'
        )
    parts.append(_legend(top + 10, placement.engine, len(data_map.get("flows", [])) - len(flows)))
    parts.append("</svg>")
    return Markup("".join(parts))


def _edge(flow: dict[str, Any], where: dict[str, tuple[float, float]], category: str) -> str:
    (x1, y1), (x2, y2) = where[flow["from"]], where[flow["to"]]
    colour, dash, _ = STYLES[category]
    count = flow["declared"] + flow["potential"]
    width = (2.4 if category == "violating" else 1.0) + min(3.0, math.log2(max(1, count)) / 2)
    if x2 > x1:  # forward: right side to left side
        sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2 - 1, y2 + BOX_H / 2
        bend = (ex - sx) / 2
        curve = f"M{sx},{sy} C{sx + bend},{sy} {ex - bend},{ey} {ex},{ey}"
    elif x2 == x1:  # same column, another lane or row: out and back along the right side
        sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2 + BOX_W + 1, y2 + BOX_H / 2
        curve = f"M{sx},{sy} C{sx + 40},{sy} {ex + 40},{ey} {ex},{ey}"
    else:  # backwards: under the boxes, into the target's bottom
        sx, sy, ex, ey = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2 + BOX_H + 1
        low = max(sy, ey) + 26
        curve = f"M{sx},{sy} C{sx},{low} {ex},{low} {ex},{ey}"
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    opacity = "0.9" if category == "violating" else "0.6"
    return (
        f'<path class="flow {category}" d="{curve}" fill="none" stroke="{colour}" stroke-opacity="{opacity}" '
        f'stroke-width="{width:.1f}"{dashes} marker-end="url(#map-arrow-{category})"><title>{category}: '
        f"{flow['declared']} declared, {flow['potential']} potential edge(s)</title></path>"
    )


def _legend(top: float, engine: str, hidden: int) -> str:
    parts = [f'<g class="legend" transform="translate(14,{top})">']
    for row, (category, (colour, dash, text)) in enumerate(STYLES.items()):
        y = 14 + row * 22
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<path d="M0,{y} L46,{y}" stroke="{colour}" stroke-width="2"{dashes} '
            f'marker-end="url(#map-arrow-{category})"/><text x="56" y="{y + 4}" font-size="12" fill="#1d232b">'
            f"{escape(text)}</text>"
        )
    for row, (fill, text) in enumerate(FILLS.values()):
        y = 4 + row * 22
        parts.append(
            f'<rect x="380" y="{y}" width="26" height="16" rx="4" fill="{fill}" stroke="#a0aec0"/>'
            f'<text x="414" y="{y + 13}" font-size="12" fill="#1d232b">{escape(text)}</text>'
        )
    note = f"Laid out by {engine}. Box: group of nodes · count; line width grows with the number of edges."
    if hidden > 0:
        note += f" {hidden} smaller flow(s) not drawn (all are in report.json)."
    parts.append(f'<text x="0" y="112" font-size="11" fill="#5b6673">{escape(note)}</text></g>')
    return "".join(parts)
