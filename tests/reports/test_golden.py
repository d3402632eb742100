"""Golden tests: the example organisation with three leaks, audited at a fixed time, gives a
report.json byte for byte; that report.json renders to a fixed Markdown summary and a fixed
HTML structure. A change to any of them is a deliberate act:

    TENANT_AUDIT_UPDATE_GOLDEN=1 python -m pytest tests/reports/test_golden.py

rewrites the files, and the diff is reviewed like code.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audit.compliance import load_frameworks
from audit.engine import AuditConfig, run_audit
from audit.report import Report
from checks import MAPPINGS_DIR, SUITES_DIR, load_registry
from reports import html, json, markdown
from tests.conftest import REPO

GOLDEN = Path(__file__).parents[1] / "data" / "golden"
SOURCES = (
    "fixtures/example-org",
    "fixtures/leaks/debug-export",
    "fixtures/leaks/eval-harness-grant",
    "fixtures/leaks/no-key-rotation",
    "fixtures/leaks/unclassified-scratch",
)
MOMENT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
UPDATE = os.environ.get("TENANT_AUDIT_UPDATE_GOLDEN") == "1"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; if deliberate, rerun with TENANT_AUDIT_UPDATE_GOLDEN=1 and review"


@pytest.fixture(scope="module")
def golden_report() -> Report:
    return Report.model_validate_json((GOLDEN / "report.json").read_text(encoding="utf-8"))


def test_engine_gives_the_golden_report_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # relative source paths, as a user would type them
    config = AuditConfig(
        sources=SOURCES,
        suite="default",
        suites_dir=SUITES_DIR,
        command="tenant-audit run ...",
        frameworks=load_frameworks(MAPPINGS_DIR),
    )
    report = run_audit(config, load_registry(plugins=False).checks, clock=lambda: MOMENT)
    text = json.render(report).decode("utf-8")
    text = text.replace(str(REPO) + "/", "").replace(f'"version": "{report.tool.version}"', '"version": "GOLDEN"')
    _compare("report.json", text)


def test_report_json_renders_to_the_golden_markdown(golden_report: Report) -> None:
    _compare("report.md", markdown.render(golden_report).decode("utf-8"))


class Outline(HTMLParser):
    """The structure of an HTML report: its containers, headings, tables (with their row
    counts), drawings and links, indented by nesting; not its styling or wording."""

    CONTAINERS = frozenset(
        {"main", "header", "section", "article", "details", "nav", "footer", "ul", "ol", "li", "table"}
    )
    SHOWN = CONTAINERS | {"h1", "h2", "h3", "svg", "script", "li"}

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.depth = 0
        self.tables: list[int] = []
        self.heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self.tables:
            self.lines[self.tables[-1]] += "."
        if tag not in self.SHOWN:
            return
        named = dict(attrs)
        label = tag + "".join(f" {key}={named[key]}" for key in ("id", "class") if named.get(key))
        if tag == "svg":
            label += f" {named.get('viewbox', '')}"
        self.lines.append("  " * self.depth + label)
        if tag in ("h1", "h2", "h3"):
            self.heading = len(self.lines) - 1
        if tag == "table":
            self.lines[-1] += " rows:"
            self.tables.append(len(self.lines) - 1)
        if tag in self.CONTAINERS:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3"):
            self.heading = None
        if tag == "table" and self.tables:
            self.tables.pop()
        if tag in self.CONTAINERS:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.heading is not None and data.strip():
            self.lines[self.heading] += " " + " ".join(data.split())


def test_report_json_renders_to_the_golden_html_structure(golden_report: Report) -> None:
    outline = Outline()
    # the pure-Python layout engine: the outline is the same with or without Graphviz installed
    outline.feed(html.render(golden_report, map_engine="grandalf").decode("utf-8"))
    assert outline.depth == 0, "every container is closed"
    _compare("report.html.outline", "\n".join(outline.lines) + "\n")


def test_golden_report_exercises_what_the_renderers_draw(golden_report: Report) -> None:
    # the golden input stays meaningful: declared and potential findings, several checks,
    # a coverage gap, observations and a data map
    kinds = {f.kind for f in golden_report.findings}
    assert kinds == {"declared", "potential"}
    assert len({f.check for f in golden_report.findings}) >= 4
    assert golden_report.coverage.gaps
    assert golden_report.observations
    assert golden_report.scope["map"]["flows"]
    assert golden_report.compliance, "the compliance mapping is rendered"
