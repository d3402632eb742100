"""Every leaky variant is caught by exactly the intended check, with the intended path;
the clean example organisation has no findings at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from audit.report import Report
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources, verdicts

EXPECTATIONS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "leak_expectations.yaml").read_text())
VARIANTS = sorted(p.name for p in LEAKS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def clean() -> Report:
    return audit_sources(EXAMPLE_ORG)


def test_every_variant_has_expectations() -> None:
    assert set(VARIANTS) == set(EXPECTATIONS), "add the new variant to leak_expectations.yaml"


def test_clean_org_has_no_findings_and_no_contradicted_claim(clean: Report) -> None:
    assert clean.findings == []
    assert {c.verdict for c in clean.claims} <= {"no-evidence-contradicting", "insufficient-evidence"}
    proven = {c.id for c in clean.claims if c.verdict == "no-evidence-contradicting"}
    assert {"C1", "C2", "C3", "C5", "C6", "C11"} <= proven


@pytest.mark.parametrize("variant", VARIANTS)
def test_leaky_variant_is_caught_exactly(variant: str, clean: Report) -> None:
    expected = EXPECTATIONS[variant]
    report = audit_sources(EXAMPLE_ORG, LEAKS / variant)

    got = {(f.check, f.kind, tuple(h.node for h in f.path)) for f in report.findings}
    want = {(e["check"], e["kind"], tuple(e["path"])) for e in expected["findings"]}
    assert got == want

    changed = {cid: v for cid, v in verdicts(report).items() if verdicts(clean)[cid] != v}
    assert changed == expected["verdicts"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_hop_of_every_finding_cites_its_evidence(variant: str) -> None:
    report = audit_sources(EXAMPLE_ORG, LEAKS / variant)
    for finding in report.findings:
        assert finding.path[0].edge is None
        assert finding.evidence, f"{finding.id} cites no evidence"
        for before, hop in zip(finding.path, finding.path[1:], strict=False):
            assert hop.edge is not None
            assert hop.evidence, f"{finding.id}: hop to {hop.node} has no evidence"
            for item in hop.evidence:
                if item.kind in ("iam-layers", "iam-assumption"):  # not stated in any file
                    continue
                file, _, line = item.location.rpartition(":")
                text = Path(file).read_text().splitlines()[int(line) - 1]
                if item.kind == "iam-statement":  # the statement itself starts on the cited line
                    assert text.lstrip().startswith("- "), (item.location, text)
                else:  # the very entry that creates the edge
                    names = (before.node, hop.node, '"*"' if "public" in (before.node, hop.node) else before.node)
                    assert any(name in text for name in names), (item.location, text)
        assert finding.kind == ("declared" if all(h.declared for h in finding.path[1:]) else "potential")
