"""The HTML report: every inventory string escaped, no network, OODA structure, links
from claim to finding."""

from __future__ import annotations

from html.parser import HTMLParser

from audit.report import Report
from reports.html import CONTENT_SECURITY_POLICY, SCRIPT, SCRIPT_HASH, render
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
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)
        else:
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
    assert not tags & {"img", "iframe", "object", "embed", "b", "foreignobject", "image"}
    # the only script is ours, allowed by its hash; the only drawings are ours
    assert [attrs for tag, attrs in parsed.tags if tag == "script"] == [[]]
    assert parsed.scripts == [SCRIPT]
    assert {dict(attrs).get("class") for tag, attrs in parsed.tags if tag == "svg"} <= {"path", "map"}
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
    assert f"script-src 'sha256-{SCRIPT_HASH}'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
    assert not [t for t, _ in parsed.tags if t in {"link", "img", "iframe", "base", "form"}]
    assert all(not dict(attrs).get("src") for tag, attrs in parsed.tags if tag == "script")
    assert "http://" not in html
    assert "https://" not in html


def _section_ids(report: Report) -> list[str]:
    parsed = parse(render(report).decode())
    return [dict(attrs)["id"] or "" for tag, attrs in parsed.tags if tag == "section"]


def test_findings_come_before_the_inventory_and_the_sign_off_last() -> None:
    report = audit_sources(EXAMPLE_ORG)
    assert _section_ids(report) == [
        "summary",
        "decide",
        "act",
        "limitations",
        "scope",
        "observe",
        "orient",
        "attestation",
    ]


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
    positions = [article.index(f'id="{finding.id}-hop{index}"') for index in range(len(finding.path))]
    assert positions == sorted(positions), "the path is listed in order"
    for index, hop in enumerate(finding.path):
        item = article[positions[index] :]
        assert f"<strong>{hop.node}</strong>" in item[: item.index("</li>")]
    drawing = article[article.index('<svg class="path"') : article.index("</svg>")]
    drawn = [drawing.index(f">{hop.node}</text>") for hop in finding.path if len(hop.node) < 24]
    assert drawn, "the path is drawn"
    assert drawn == sorted(drawn), "the path is drawn in order"
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


HOSTILE_POLICY = """
version: 1
principals:
  - id: ops-readall-role
    arn: arn:aws:iam::111111111111:role/ops-readall
    trusts: [ec2.amazonaws.com]
    policies:
      - Version: "2012-10-17"
        Statement:
          - Sid: "</pre><script>alert(6)</script>"
            Effect: Allow
            Action: [s3:GetObject, kms:Decrypt]
            Resource: "*"
            Condition:
              StringLike:
                aws:Referer: "javascript:alert(7)//https://deploy:Sup3rSecretPass@ci.example.com/hook"
                aws:PrincipalTag/ci-key: "AKIAIOSFODNN7EXAMPLE"
                aws:UserAgent: "\\" onmouseover=\\"alert(8)"
"""


def test_hostile_policy_text_is_inert_and_its_secrets_redacted(write_yaml: WriteYaml) -> None:
    report = audit_sources(EXAMPLE_ORG, write_yaml(HOSTILE_POLICY))
    cited = [e for f in report.findings for hop in f.path for e in hop.evidence if e.statement]
    assert cited, "the policy statement must be cited as evidence so its text is rendered"
    html = render(report).decode()
    parsed = parse(html)
    assert parsed.scripts == [SCRIPT]
    assert not [name for _, attrs in parsed.tags for name, _ in attrs if name.startswith("on")]
    text = "".join(parsed.text)
    assert "</pre><script>alert(6)</script>" in text  # shown, as text
    assert "javascript:alert(7)" in text
    for secret in ("Sup3rSecretPass", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in html
        assert secret not in report.model_dump_json()
    assert "[REDACTED]" in text


def test_ten_thousand_findings_stay_within_the_size_budget() -> None:
    from audit.findings import Finding
    from reports.html import DETAILED_FINDINGS

    report = audit_sources(EXAMPLE_ORG, LEAKS / "debug-export")
    (template,) = [f for f in report.findings if f.check == "ISO-004"]
    many = [
        template.model_copy(
            update={
                "id": f"ISO-004-{index:012x}",
                "severity": ("critical", "high", "medium", "low")[index % 4],
                "path": [*template.path[:-1], template.path[-1].model_copy(update={"node": f"sink-{index}"})],
            }
        )
        for index in range(10_000)
    ]
    big = report.model_copy(update={"findings": many})
    assert all(isinstance(f, Finding) for f in big.findings)
    html = render(big).decode()
    parsed = parse(html)
    rows = [dict(attrs) for tag, attrs in parsed.tags if "data-finding" in dict(attrs)]
    assert len(rows) == 10_000, "every finding is listed and can be filtered"
    articles = [attrs for tag, attrs in parsed.tags if tag == "article"]
    assert len(articles) <= DETAILED_FINDINGS, "only a budget of findings is drawn in full"
    assert len(html) < 12_000_000
    assert {r["data-severity"] for r in rows} == {"critical", "high", "medium", "low"}
