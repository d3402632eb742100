"""The HTML report: every inventory string escaped, no network, OODA structure, links
from claim to finding."""

from __future__ import annotations

from html.parser import HTMLParser

from audit.report import Report
from reports.html import CONTENT_SECURITY_POLICY, render
from tests.conftest import EXAMPLE_ORG, LEAKS, WriteYaml, audit_sources

HOSTILE_ID = '"><svg/onload=alert(1)>'
HOSTILE = f"""
version: 1
organisation: "<script>alert('org')</script>"
accounts:
  - {{id: "111111111111", name: "<b>acct</b>", zone: serving}}
data_classes:
  "<img/src=x/onerror=alert(2)>": {{protected: true, description: "javascript:alert(3)"}}
tenants:
  - {{id: "t1</td>", tier: enterprise, name: "<iframe src=//evil>"}}
  - {{id: t2, tier: enterprise}}
stores:
  - id: '{HOSTILE_ID}'
    kind: s3-bucket
    account: "<b>acct</b>"
    classes: ["<img/src=x/onerror=alert(2)>", commercial-api]
    tenant: "t1</td>"
  - {{id: "mix'onmouseover='alert(4)", kind: s3-bucket, classes: [training], tenant: t2}}
jobs:
  - id: "javascript:alert(5)"
    reads: ['{HOSTILE_ID}']
    writes: ["mix'onmouseover='alert(4)"]
"""


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def test_hostile_inventory_strings_are_inert(write_yaml: WriteYaml) -> None:
    report = audit_sources(write_yaml(HOSTILE))
    assert report.findings, "the hostile inventory must produce findings so every string is rendered"
    html = render(report).decode()
    parsed = parse(html)
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "svg", "img", "iframe", "object", "embed", "b"}
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in {"href", "src", "action"}:
                assert (value or "").startswith("#"), (tag, name, value)
    text = "".join(parsed.text)
    # the strings are still there, as text, for the reader
    assert "<script>alert('org')</script>" in text
    assert HOSTILE_ID in text
    assert "javascript:alert(5)" in text


def test_report_is_self_contained_and_forbids_network() -> None:
    html = render(audit_sources(EXAMPLE_ORG, LEAKS / "eval-harness-grant")).decode()
    parsed = parse(html)
    metas = [dict(attrs) for tag, attrs in parsed.tags if tag == "meta"]
    assert {"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY} in metas
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert not [t for t, _ in parsed.tags if t in {"link", "script", "img", "iframe"}]
    assert "http://" not in html
    assert "https://" not in html


def _section_ids(report: Report) -> list[str]:
    parsed = parse(render(report).decode())
    return [dict(attrs)["id"] or "" for tag, attrs in parsed.tags if tag == "section"]


def test_sections_follow_the_audit_structure() -> None:
    report = audit_sources(EXAMPLE_ORG)
    assert _section_ids(report) == ["scope", "claims", "observe", "orient", "decide", "act"]


def test_claims_link_to_findings_and_findings_show_their_path() -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    html = render(report).decode()
    (finding,) = [f for f in report.findings if f.check == "ISO-004"]
    parsed = parse(html)
    anchors = {dict(attrs).get("id") for _, attrs in parsed.tags}
    links = {dict(attrs).get("href") for tag, attrs in parsed.tags if tag == "a"}
    assert finding.id in anchors
    assert f"#{finding.id}" in links
    assert "claim-C3" in anchors
    assert "#claim-C3" in links
    article = html[html.index(f'id="{finding.id}"') :]
    article = article[: article.index("</article>")]
    positions = [article.index(f'<span class="node">{hop.node}</span>') for hop in finding.path]
    assert positions == sorted(positions), "the path is drawn in order"
    assert "chat-debug-export" in article
    assert "leak.yaml:" in article


def test_observations_are_rendered_as_tables() -> None:
    report = audit_sources(EXAMPLE_ORG)
    html = render(report).decode()
    for observation in report.observations:
        assert f'id="observation-{observation.check}"' in html
        assert observation.title in html
        for row in observation.rows:
            assert all(f"<td>{cell}</td>" in html for cell in row if "<" not in cell and "&" not in cell)
