"""Compliance mappings: shipped as data files that cite their sources, carried in report.json,
shown per claim and per framework in the HTML, and as tags/properties in SARIF and JUnit.
A user's file adds a framework or replaces a shipped one; a bad file is an input error."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml

from audit.compliance import Framework, load_framework, load_frameworks
from checks import MAPPINGS_DIR, SUITES_DIR
from tests.conftest import EXAMPLE_ORG, LEAKS, WriteYaml, invoke
from tests.reports.test_html import parse

SARIF_SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
EXPECTED = {"soc2", "iso27001", "iso42001", "gdpr", "eu-ai-act"}
DEFAULT_CLAIMS = {c["id"] for c in yaml.safe_load((SUITES_DIR / "default.yaml").read_text())["claims"]}

OWN = """
framework: internal
name: Example Lab data-use policy
label: Policy
source: Example Lab, Data Use Policy v3, section 4
controls:
  - {id: DUP-4.1, title: Customer data is never used for training, cite: "DUP v3 s.4.1", claims: [C1, C2]}
  - {id: DUP-4.9, title: Something the suite does not claim, cite: "DUP v3 s.4.9", claims: [C99]}
"""


def test_the_shipped_mappings_cover_the_five_frameworks_and_cite_their_sources() -> None:
    frameworks = load_frameworks(MAPPINGS_DIR)
    assert [f.framework for f in frameworks] == ["soc2", "iso27001", "iso42001", "gdpr", "eu-ai-act"]
    for framework in frameworks:
        assert framework.source
        assert framework.version
        assert framework.label
        text = next(p for p in MAPPINGS_DIR.glob("*.yaml") if load_framework(p).framework == framework.framework)
        assert text.read_text().startswith("#"), "each file opens with where its mappings come from"
        for control in framework.controls:
            assert control.cite, (framework.framework, control.id)
            assert control.why, (framework.framework, control.id)
            assert set(control.claims) <= DEFAULT_CLAIMS, (framework.framework, control.id)
    mapped = {claim for f in frameworks for c in f.controls for claim in c.claims}
    assert mapped == DEFAULT_CLAIMS, "every claim of the default suite is mapped somewhere"
    ai_act = next(f for f in frameworks if f.framework == "eu-ai-act")
    assert all(c.id.startswith("Art. 10(") for c in ai_act.controls), "Article 10 only"


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mapped")
    result = invoke(
        "run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(out),
        "--format", "json,html,sarif,junit",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    return out


def test_report_json_carries_the_mapping(mapped_run: Path) -> None:
    report = json.loads((mapped_run / "report.json").read_text())
    assert {f["framework"] for f in report["compliance"]} == EXPECTED
    soc2 = next(f for f in report["compliance"] if f["framework"] == "soc2")
    consent = next(c for c in soc2["controls"] if c["id"] == "P2.1")
    assert consent["claims"] == ["C3"]
    assert consent["cite"].startswith("TSP 100")


def test_the_html_shows_controls_per_claim_and_per_framework_with_verdicts(mapped_run: Path) -> None:
    html = (mapped_run / "report.html").read_text()
    report = json.loads((mapped_run / "report.json").read_text())
    verdict = {c["id"]: c["verdict"] for c in report["claims"]}
    assert verdict["C3"] == "contradicted"
    scope = html[html.index('<section id="scope">') : html.index('<section id="observe">')]
    row = scope[scope.index("<td>C3</td>") :]
    row = " ".join(" ".join(parse(row[: row.index("</tr>")]).text).split())
    assert "SOC 2 CC6.7 , P2.1 , P4.1" in row
    assert "GDPR Art. 5(1)(b) , Art. 7" in row
    section = html[html.index('<section id="compliance">') : html.index('<section id="scope">')]
    for framework in report["compliance"]:
        assert f'id="framework-{framework["framework"]}"' in section
    control = section[section.index('id="control-soc2-P2.1"') :]
    control = control[: control.index("</tr>")]
    assert "v-contradicted" in control
    assert "C3" in control
    assert "TSP 100" in control


def test_sarif_and_junit_carry_the_controls(mapped_run: Path) -> None:
    sarif = json.loads((mapped_run / "report.sarif").read_text())
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run = sarif["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "ISO-004")
    assert "soc2:P2.1" in result["properties"]["tags"]
    assert result["properties"]["controls"]["gdpr"] == ["Art. 5(1)(b)", "Art. 7"]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "ISO-004")
    assert "iso27001:A.8.11" in rule["properties"]["tags"]
    junit = ElementTree.parse(mapped_run / "report.junit.xml")
    case = next(
        c for c in junit.iter("testcase") if c.get("name", "").startswith("ISO-004") and "C3" in c.get("classname", "")
    )
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["control.soc2"] == "CC6.7, P2.1, P4.1"


def test_a_users_mapping_adds_a_framework_narrowed_to_the_suite(tmp_path: Path, write_yaml: WriteYaml) -> None:
    own = write_yaml(OWN, "policy.yaml")
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--mapping", str(own)).exit_code == 0
    report = json.loads((out / "report.json").read_text())
    internal = next(f for f in report["compliance"] if f["framework"] == "internal")
    assert [c["id"] for c in internal["controls"]] == ["DUP-4.1"], "a control of no claim in the suite is left out"
    assert {f["framework"] for f in report["compliance"]} == EXPECTED | {"internal"}


def test_a_users_mapping_replaces_the_shipped_one_of_the_same_framework(tmp_path: Path, write_yaml: WriteYaml) -> None:
    own = write_yaml(OWN.replace("framework: internal", "framework: soc2"), "soc2-reviewed.yaml")
    frameworks = load_frameworks(MAPPINGS_DIR, [own])
    soc2 = [f for f in frameworks if f.framework == "soc2"]
    assert len(soc2) == 1
    assert soc2[0].name == "Example Lab data-use policy"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("framework: x\nname: X\nsource: S\ncontrols: []\n", "controls"),
        ("framework: x\nname: X\nsource: S\ncontrols:\n  - {id: A, title: T, cite: C}\n", "claims"),
        (
            "framework: x\nname: X\nsource: S\ncontrols:\n  - {id: A, title: T, cite: C, claims: [C1]}\n"
            "  - {id: A, title: T, cite: C, claims: [C2]}\n",
            "A is listed twice",
        ),
        ("- just a list\n", "a mapping file is a YAML mapping"),
        (
            "framework: Has Spaces\nname: X\nsource: S\ncontrols:\n  - {id: A, title: T, cite: C, claims: [C1]}\n",
            "framework",
        ),
    ],
)
def test_a_bad_mapping_file_is_an_input_error(tmp_path: Path, write_yaml: WriteYaml, body: str, message: str) -> None:
    bad = write_yaml(body, "bad-mapping.yaml")
    out = tmp_path / "out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--mapping", str(bad))
    assert result.exit_code == 2
    assert "bad-mapping.yaml" in result.stderr
    assert message in result.stderr
    assert not out.exists()


def test_narrowing_keeps_only_the_claims_asked_for() -> None:
    framework = Framework.model_validate(yaml.safe_load(OWN))
    narrowed = framework.for_claims(["C2"])
    assert [(c.id, c.claims) for c in narrowed.controls] == [("DUP-4.1", ["C2"])]
    assert framework.for_claims(["C12"]).controls == []
