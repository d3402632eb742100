"""Inline SVG drawing of a finding's witness path for the HTML report (the data map is
reports.datamap).

Pure presentation of data the engine computed; every label is escaped, full names are
kept in <title> when a label is shortened.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from audit.findings import Finding

NODE_COLOURS = {
    "store": "#2b6cb0",
    "principal": "#6b46c1",
    "job": "#2f855a",
    "public": "#c53030",
    "external": "#c53030",
}
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
