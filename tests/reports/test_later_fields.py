"""Data the verdict-basis and violation work adds later (a claim's ``basis``, a finding's
``cut_edge``) is shown when a report carries it, and nothing is invented when it does not.
The fields are attached here as those changes will attach them: on the report's objects."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from audit.report import Report
from reports.html import render
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources
from tests.reports.test_html import parse


@pytest.fixture(scope="module")
def leaky() -> Report:
    return audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")


def _text(html: str, start: str, end: str) -> str:
    part = html[html.index(start) : html.index(end)]
    return " ".join(" ".join(parse(part).text).split())


def test_without_them_nothing_is_invented(leaky: Report) -> None:
    bare = leaky.model_copy(
        update={
            "findings": [f.model_copy(update={"cut_edge": None}) for f in leaky.findings],
            "claims": [c.model_copy(update={"basis": None}) for c in leaky.claims],
        }
    )
    html = render(bare).decode()
    assert "Edge to cut" not in html
    assert "Basis of each verdict" not in html


def test_a_findings_cut_edge_is_shown_with_it(leaky: Report) -> None:
    first = leaky.findings[0].model_copy(update={"cut_edge": ["chat-debug-export", "consented-chats"]})
    report = leaky.model_copy(update={"findings": [first, *leaky.findings[1:]]})
    html = render(report).decode()
    article = html[html.index(f'<article class="finding {first.kind}') :]
    article = article[: article.index("</article>")]
    assert "Edge to cut: chat-debug-export → consented-chats" in " ".join(" ".join(parse(article).text).split())


def test_a_claims_basis_is_shown_in_basis_and_limitations(leaky: Report) -> None:
    basis = "ISO-004 examined declared lineage (inventory) and IAM; content not examined"
    claims = [c.model_copy(update={"basis": basis}) if c.id == "C3" else c for c in leaky.claims]
    html = render(leaky.model_copy(update={"claims": claims})).decode()
    text = _text(html, '<section id="limitations">', '<section id="scope">')
    assert "Basis of each verdict" in text
    assert f"C3 contradicted {basis}" in text


def test_the_console_names_the_edge_to_cut(leaky: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.cli import console as module

    failing = [f for f in leaky.findings if f.severity == "high"]
    cut = failing[0].model_copy(
        update={"cut_edge": {"from": "chat-debug-export", "to": "consented-chats", "edge": "writes"}}
    )
    report = leaky.model_copy(update={"findings": [cut, *[f for f in leaky.findings if f is not failing[0]]]})
    out = io.StringIO()
    monkeypatch.setattr(module, "stdout", lambda: Console(file=out, width=200))
    module.print_failing(report, "high")
    assert "cut: chat-debug-export -[writes]-> consented-chats" in out.getvalue()
