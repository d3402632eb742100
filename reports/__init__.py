"""Renderers: each takes the canonical Report and returns the bytes of one file.

Renderers never re-run analysis and never print; the CLI writes what they return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from audit.report import Report
from reports import html, json, junit, markdown, pdf, sarif


@dataclass(frozen=True)
class Renderer:
    name: str
    filename: str
    render: Callable[[Report], bytes]


RENDERERS: dict[str, Renderer] = {
    "json": Renderer("json", "report.json", json.render),
    "html": Renderer("html", "report.html", html.render),
    "md": Renderer("md", "report.md", markdown.render),
    "sarif": Renderer("sarif", "report.sarif", sarif.render),
    "junit": Renderer("junit", "report.junit.xml", junit.render),
    "pdf": Renderer("pdf", "report.pdf", pdf.render),
}
