"""The cover and the attestation: an automated assessment unless an auditor is named, the
audit period, a sign-off block, the report id and how to verify it, the basis and limits of
the conclusions, and no absolute machine path in any format."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ORG, LEAKS, REPO, WriteYaml, invoke
from tests.reports.test_html import parse

AUDIT_INFO = """
audit:
  auditor: {name: Jane Roe, role: Lead auditor, organisation: Roe & Partners LLP}
  preparer: {name: Sam Lee, role: Privacy engineer}
  contact: privacy@example.com
  period: {start: 2026-10-01, end: 2026-12-31}
  scope: Production AWS accounts of the serving and training zones
"""


def _cover_and_text(out: Path) -> tuple[str, str]:
    parsed = parse((out / "report.html").read_text())
    text = " ".join(" ".join(parsed.text).split())
    html = (out / "report.html").read_text()
    cover = html[html.index('<header class="cover"') : html.index("</header>")]
    return " ".join(" ".join(parse(cover).text).split()), text


def test_without_a_named_auditor_the_report_is_an_automated_assessment(tmp_path: Path) -> None:
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path)).exit_code == 0
    cover, text = _cover_and_text(tmp_path)
    assert cover.startswith("Automated tenant data isolation assessment")
    assert "Independent tenant data isolation audit" not in text
    assert "not an independent audit" in cover
    # a run without lineage or a stated period is a point in time, not "from T to T"
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"point in time: the estate as configured at {report['run']['finished_at']}" in cover
    assert report["audit"] is None


def test_a_named_auditor_makes_it_an_audit_with_period_scope_and_sign_off(
    tmp_path: Path, write_yaml: WriteYaml
) -> None:
    info = write_yaml(AUDIT_INFO, "engagement.yaml")
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--audit-info", str(info)).exit_code == 0
    cover, _ = _cover_and_text(out)
    assert cover.startswith("Independent tenant data isolation audit")
    assert "Jane Roe, Lead auditor, Roe & Partners LLP" in cover
    assert "Sam Lee, Privacy engineer" in cover
    assert "privacy@example.com" in cover
    assert "2026-10-01 to 2026-12-31" in cover
    assert "Production AWS accounts of the serving and training zones" in cover
    html = (out / "report.html").read_text()
    signoff = html[html.index('<table class="signoff">') :]
    signoff = " ".join(" ".join(parse(signoff[: signoff.index("</table>")]).text).split())
    assert "Lead auditor Jane Roe" in signoff
    assert "Privacy engineer Sam Lee" in signoff
    assert "For the organisation" in signoff
    report = json.loads((out / "report.json").read_text())
    assert report["audit"]["auditor"]["name"] == "Jane Roe"
    assert report["audit"]["period"] == {"start": "2026-10-01", "end": "2026-12-31"}


def test_lineage_since_starts_the_period(tmp_path: Path) -> None:
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path), "--since", "2026-09-15").exit_code == 0
    cover, _ = _cover_and_text(tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"Audit period 2026-09-15 to {report['run']['finished_at'][:10]}" in cover


def test_the_report_id_is_report_json_s_sha256_as_the_manifest_lists_it(tmp_path: Path) -> None:
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path)).exit_code == 0
    digest = hashlib.sha256((tmp_path / "report.json").read_bytes()).hexdigest()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {"path": "report.json", "sha256": digest} in [
        {k: o[k] for k in ("path", "sha256")} for o in manifest["outputs"]
    ]
    _, text = _cover_and_text(tmp_path)
    assert f"Report id {digest[:12]}" in text
    assert digest in text  # in full in the attestation
    assert "tenant-audit verify OUT_DIR --inputs" in text
    assert "it was not signed" in text


def test_a_signed_run_says_how_to_check_the_signature(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = tmp_path / "key.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--sign-key", str(key)).exit_code == 0
    _, text = _cover_and_text(out)
    assert "manifest.sig , its Ed25519 signature" in text
    assert "--public-key KEY.pub.pem" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("audit:\n  period: {start: 2026-12-31, end: 2026-10-01}\n", "ends (2026-10-01) before it starts"),
        ("audit:\n  auditor: {name: Jane, title: boss}\n", "title"),
        ("auditor: Jane\n", "an audit-info file is a YAML mapping with one key, 'audit'"),
        ("audit:\n  period: {start: not-a-date}\n", "period.start"),
    ],
)
def test_a_bad_audit_info_file_is_an_input_error_naming_it(
    tmp_path: Path, write_yaml: WriteYaml, body: str, message: str
) -> None:
    info = write_yaml(body, "engagement.yaml")
    out = tmp_path / "out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--audit-info", str(info))
    assert result.exit_code == 2
    assert "engagement.yaml" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "nothing is half-written"


def test_the_limitations_follow_from_the_sources_and_the_gaps(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sources = [str(EXAMPLE_ORG), str(LEAKS / "unclassified-scratch")]
    assert invoke("run", *sources, "--out", str(out), "--fail-on", "none", "--fail-on-claims", "none").exit_code == 0
    report = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    section = html[html.index('<section id="limitations">') : html.index('<section id="scope">')]
    text = " ".join(" ".join(parse(section).text).split())
    assert "No live AWS account was read" in text
    assert "No lineage events were read" in text
    assert "The content of the data was not scanned" in text
    assert report["coverage"]["gaps"]
    for gap in report["coverage"]["gaps"]:
        assert " ".join(gap["reason"].split()) in text


def test_with_lineage_the_report_does_not_say_none_was_read(tmp_path: Path) -> None:
    lineage = sorted((REPO / "fixtures").rglob("*.ndjson"))
    assert lineage, "a lineage fixture is needed"
    gates = ("--fail-on", "none", "--fail-on-claims", "none")
    assert invoke("run", str(EXAMPLE_ORG), str(lineage[0]), "--out", str(tmp_path), *gates).exit_code == 0
    html = (tmp_path / "report.html").read_text()
    assert "No lineage events were read" not in html
    assert "No live AWS account was read" in html


def test_no_format_carries_an_absolute_machine_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "workdir"
    org = work / "estates" / "org"
    shutil.copytree(EXAMPLE_ORG, org)
    shutil.copytree(LEAKS / "debug-export", work / "estates" / "leak")
    suite = work / "suites" / "mine.yaml"
    suite.parent.mkdir()
    shutil.copy(REPO / "checks" / "suites" / "default.yaml", suite)
    monkeypatch.chdir(work)
    out = tmp_path / "elsewhere" / "out"
    result = invoke(
        "run",
        str(org),
        str(work / "estates" / "leak"),
        "--suite",
        str(suite),
        "--out",
        str(out),
        "--format",
        "html,json,md,sarif,junit",
        "--fail-on",
        "none",
        "--fail-on-claims",
        "none",
    )
    assert result.exit_code == 0, result.stderr
    for produced in sorted(out.iterdir()):
        text = produced.read_text()
        for absolute in (str(tmp_path), str(REPO), str(Path.home())):
            assert absolute not in text, f"{produced.name} holds {absolute}"
    report = json.loads((out / "report.json").read_text())
    assert {i["path_or_uri"] for i in report["run"]["inputs"]} >= {"estates/org/stores.yaml", "estates/leak/leak.yaml"}
    assert report["run"]["suite_path"] == "suites/mine.yaml"
    assert report["run"]["suite_sha256"] == hashlib.sha256(suite.read_bytes()).hexdigest()
    assert "--out ../elsewhere/out" in report["run"]["command"]
    locations = [e["location"] for f in report["findings"] for hop in f["path"] for e in hop["evidence"]]
    assert any(re.match(r"estates/leak/leak\.yaml:\d+", loc) for loc in locations)


def test_a_built_in_suite_is_named_with_its_digest(tmp_path: Path) -> None:
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path)).exit_code == 0
    run = json.loads((tmp_path / "report.json").read_text())["run"]
    assert run["suite_path"] == "built-in: default.yaml"
    assert run["suite_sha256"] == hashlib.sha256((REPO / "checks/suites/default.yaml").read_bytes()).hexdigest()
