"""Renderers: each takes the canonical Report and returns the bytes of one file.

Renderers never re-run analysis and never print; the CLI writes what they return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from audit.report import Report
from reports import html, json, junit, markdown, pdf, sarif

PAPER_SIZES = ("a4", "letter")


@dataclass(frozen=True)
class Renderer:
    name: str
    filename: str
    render: Callable[[Report], bytes]
    paged: Callable[[Report, str], bytes] | None = None  # formats laid out on pages take a paper size

    def __call__(self, report: Report, paper: str = "a4") -> bytes:
        return self.paged(report, paper) if self.paged else self.render(report)


RENDERERS: dict[str, Renderer] = {
    "json": Renderer("json", "report.json", json.render),
    "html": Renderer("html", "report.html", html.render, lambda r, paper: html.render(r, paper=paper)),
    "md": Renderer("md", "report.md", markdown.render),
    "sarif": Renderer("sarif", "report.sarif", sarif.render),
    "junit": Renderer("junit", "report.junit.xml", junit.render),
    "pdf": Renderer("pdf", "report.pdf", pdf.render, lambda r, paper: pdf.render(r, paper=paper)),
}
