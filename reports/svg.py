"""Inline SVG drawings for the HTML report: a finding's witness path, and the data map.

Pure presentation of data the engine computed; every label is escaped, full names are
kept in <title> when a label is shortened.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

from audit.findings import Finding

NODE_COLOURS = {
    "store": "#2b6cb0",
    "principal": "#6b46c1",
    "job": "#2f855a",
    "public": "#c53030",
    "external": "#c53030",
}
ZONE_ORDER = ("serving", "corporate", "training", "external", "unknown", "outside")
PER_ROW = 4
BOX_W, BOX_H, GAP_X, ROW_H = 170, 44, 70, 96


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_svg(finding: Finding) -> Markup:
    """The witness path, hop by hop: boxes for nodes, arrows labelled with the edge kind
    (solid: declared, dashed: potential)."""
    hops = finding.path
    if not hops:
        return Markup("")
    rows = math.ceil(len(hops) / PER_ROW)
    width = min(len(hops), PER_ROW) * (BOX_W + GAP_X) - GAP_X + 20
    height = rows * ROW_H
    parts = [
        f'<svg class="path" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f"><title>{escape(' → '.join(h.node for h in hops))}</title>",
        f'<defs><marker id="arrow-{escape(finding.id)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a5568"/></marker>'
        "</defs>",
    ]
    positions = []
    for index, hop in enumerate(hops):
        row, column = divmod(index, PER_ROW)
        x, y = 10 + column * (BOX_W + GAP_X), 10 + row * ROW_H
        positions.append((x, y))
        colour = NODE_COLOURS.get(hop.node_type, "#4a5568")
        radius = 14 if hop.node_type == "store" else 4
        parts.append(
            f"<g><title>{escape(hop.node)} ({escape(hop.node_type)})</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="{radius}" fill="#fff" stroke="{colour}" '
            f'stroke-width="2"/><text x="{x + BOX_W / 2}" y="{y + 19}" text-anchor="middle" font-size="13" '
            f'font-weight="600" fill="#1d232b">{escape(_short(hop.node))}</text>'
            f'<text x="{x + BOX_W / 2}" y="{y + 35}" text-anchor="middle" font-size="11" fill="{colour}">'
            f"{escape(hop.node_type)}</text></g>"
        )
    for index, hop in enumerate(hops[1:], start=1):
        (x1, y1), (x2, y2) = positions[index - 1], positions[index]
        dash = "" if hop.declared else ' stroke-dasharray="6 4"'
        colour = "#4a5568" if hop.declared else "#b85c00"
        if y1 == y2:
            line = f"M{x1 + BOX_W},{y1 + BOX_H / 2} L{x2 - 2},{y2 + BOX_H / 2}"
            label_x, label_y = (x1 + BOX_W + x2) / 2, y1 + 14
        else:  # wrap to the next row: down from the last box, then along to the first
            line = (
                f"M{x1 + BOX_W / 2},{y1 + BOX_H} L{x1 + BOX_W / 2},{y1 + BOX_H + 18} L{x2 + BOX_W / 2},"
                f"{y1 + BOX_H + 18} L{x2 + BOX_W / 2},{y2 - 2}"
            )
            label_x, label_y = (x1 + x2 + BOX_W) / 2, y1 + BOX_H + 14
        marker = f"url(#arrow-{escape(finding.id)})"
        parts.append(
            f'<path d="{line}" fill="none" stroke="{colour}" stroke-width="1.6"{dash} marker-end="{marker}"/>'
            f'<text x="{label_x}" y="{label_y}" text-anchor="middle" font-size="11" fill="{colour}">'
            f"{escape(hop.edge or '')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def map_svg(data_map: dict[str, Any]) -> Markup:
    """Zones as columns, groups of nodes as boxes, flows between groups as curves whose
    width follows the number of edges (solid: some declared; dashed: only potential)."""
    groups = data_map.get("groups", [])
    if not groups:
        return Markup("")
    zones = [z for z in ZONE_ORDER if any(g["zone"] == z for g in groups)]
    zones += sorted({g["zone"] for g in groups} - set(zones))
    column_w, box_w, box_h, gap = 250, 190, 34, 12
    where: dict[str, tuple[float, float]] = {}
    parts = []
    tallest = 0
    for column, zone in enumerate(zones):
        members = [g for g in groups if g["zone"] == zone]
        x = 20 + column * column_w
        parts.append(
            f'<text x="{x + box_w / 2}" y="22" text-anchor="middle" font-size="14" font-weight="700" '
            f'fill="#1d232b">{escape(zone)}</text>'
        )
        for row, group in enumerate(members):
            y = 40 + row * (box_h + gap)
            where[group["id"]] = (x, y)
            sink = "training sink" in group["label"] or group["label"] == "training jobs"
            exposed = group["zone"] == "outside"
            fill = "#fde2e1" if sink or exposed else ("#eef4fb" if not group["label"].startswith("gate") else "#e6f4ea")
            parts.append(
                f"<g><title>{escape(group['label'])}: {group['nodes']} node(s) in {escape(zone)}</title>"
                f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" '
                f'stroke="#a0aec0"/><text x="{x + 8}" y="{y + 21}" font-size="12" fill="#1d232b">'
                f'{escape(_short(group["label"], 26))} <tspan fill="#5b6673">· {group["nodes"]}</tspan>'
                "</text></g>"
            )
            tallest = max(tallest, y + box_h)
    flows = sorted(data_map.get("flows", []), key=lambda f: -(f["declared"] + f["potential"]))[:120]
    lines = []
    for flow in flows:
        if flow["from"] not in where or flow["to"] not in where:
            continue
        (x1, y1), (x2, y2) = where[flow["from"]], where[flow["to"]]
        count = flow["declared"] + flow["potential"]
        width = 1 + min(4.0, math.log2(count))
        start = (x1 + box_w, y1 + box_h / 2) if x2 > x1 else (x1, y1 + box_h / 2)
        end = (x2, y2 + box_h / 2) if x2 > x1 else (x2 + box_w, y2 + box_h / 2)
        if x1 == x2:
            start, end = (x1 + box_w, y1 + box_h / 2), (x2 + box_w, y2 + box_h / 2)
            bend = x1 + box_w + 30
            curve = f"M{start[0]},{start[1]} C{bend},{start[1]} {bend},{end[1]} {end[0]},{end[1]}"
        else:
            middle = (start[0] + end[0]) / 2
            curve = f"M{start[0]},{start[1]} C{middle},{start[1]} {middle},{end[1]} {end[0]},{end[1]}"
        dash = "" if flow["declared"] else ' stroke-dasharray="5 4"'
        colour = "#4a5568" if flow["declared"] else "#b85c00"
        lines.append(
            f'<path d="{curve}" fill="none" stroke="{colour}" stroke-opacity="0.55" stroke-width="{width:.1f}"'
            f"{dash}><title>{flow['declared']} declared, {flow['potential']} potential edge(s)</title></path>"
        )
    width = 40 + len(zones) * column_w
    height = tallest + 30
    return Markup(
        f'<svg class="map" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f"><title>Data map: zones, data classes, gates and flows</title>" + "".join(lines) + "".join(parts) + "</svg>"
    )
