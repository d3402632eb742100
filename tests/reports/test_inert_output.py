"""Everything from the estate is inert in report.md (code spans no id can close, no autolinks,
images or mentions from data), and JUnit and SARIF hold no character XML 1.0 forbids."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt

from audit.report import Report
from reports import junit, markdown, sarif
from reports.diff import render_markdown
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources

HOSTILE = "a`b ![x](https://evil.example/i.png) @octocat [click](https://evil.example) www.evil.example #1 <img>"


@pytest.fixture(scope="module")
def report() -> Report:
    return audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")


def _hostile(report: Report) -> Report:
    hostile = report.model_copy(deep=True)
    finding = hostile.findings[0]
    finding.id = "ISO-004-``x`![](https://evil.example/p.png)`@octocat"
    finding.message = HOSTILE
    finding.path[0] = finding.path[0].model_copy(update={"node": "store`![](https://evil.example/n.png)"})
    hostile.organisation = "Lab @octocat https://evil.example"
    return hostile


def _outside_code(markdown_text: str) -> str:
    """The text a renderer treats as Markdown text (not code), as a real CommonMark parser with
    GFM tables reads it; every link or image it finds is returned too, so a test sees them."""
    parser = MarkdownIt("commonmark").enable("table")
    live: list[str] = []
    for block in parser.parse(markdown_text):
        for token in block.children or []:
            if token.type in ("image", "link_open", "html_inline"):
                live.append(f"![{token.type}](https")
            elif token.type == "text":
                live.append(token.content)
    return " ".join(live)


def test_report_md_keeps_hostile_text_inert(report: Report) -> None:
    text = markdown.render(_hostile(report)).decode()
    live = _outside_code(text)
    for dangerous in ("![", "](https", "@octocat", "https://", "www.evil", "#1"):
        assert dangerous not in live, dangerous
    # the id is still shown whole, inside one code span
    assert "ISO-004-``x`![](https://evil.example/p.png)`@octocat" in text


def test_report_md_of_a_clean_report_reads_as_before(report: Report) -> None:
    text = markdown.render(report).decode()
    assert "*reads* → `" in text
    assert "![" not in _outside_code(text)


def test_diff_md_keeps_hostile_text_inert(report: Report) -> None:
    from audit.diff import diff_reports

    hostile = _hostile(report)
    base = report.model_copy(deep=True)
    base.findings = []
    live = _outside_code(render_markdown(diff_reports(base, hostile, ()), "high").decode())
    assert "@octocat" not in live
    assert "](https" not in live


def test_junit_and_sarif_hold_no_character_xml_forbids(report: Report) -> None:
    hostile = report.model_copy(deep=True)
    hostile.findings[0].id = "ISO-004-\x01bell\x07"
    hostile.findings[0].message = "tab\tok, form feed\x0c, U+FFFE \ufffe"
    xml = junit.render(hostile)
    root = ElementTree.fromstring(xml)  # well-formed
    assert root.tag == "testsuites"
    assert b"\\u0001bell\\u0007" in xml
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", xml)
    text = sarif.render(hostile)
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", text)
    assert b"\\u0001bell\\u0007" in text  # escaped by JSON, not lost
    assert json.loads(text)["version"] == "2.1.0"
