"""Contract tests over the whole registry: every check is complete, fires on some fixture
and stays quiet on the clean organisation; registration rules hold."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import yaml

from audit.checkapi import Check, NoParams
from checks import builtin_checks, load_registry
from tests.conftest import EXAMPLE_ORG, LEAKS, audit_sources

EXPECTATIONS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "leak_expectations.yaml").read_text())
FIRING = {f["check"] for case in EXPECTATIONS.values() for f in case["findings"]}
REGISTRY = load_registry(plugins=False)


@pytest.mark.parametrize("check", builtin_checks(), ids=lambda c: c.id)
def test_check_metadata_is_complete(check: Check) -> None:
    assert check.title
    assert check.rationale
    assert check.remediation
    assert check.claim_ids
    assert all(c.startswith("C") for c in check.claim_ids)
    assert check.evaluate.__doc__, f"{check.id}: the evaluate function's docstring is its user documentation"
    assert ("Example row" if check.informational else "Example finding") in check.evaluate.__doc__


JUDGING = sorted(i for i, c in REGISTRY.checks.items() if not c.informational and c.content is None)
INFORMATIONAL = sorted(i for i, c in REGISTRY.checks.items() if c.informational)
CONTENT = sorted(i for i, c in REGISTRY.checks.items() if c.content is not None)


@pytest.mark.parametrize("check_id", CONTENT)
def test_every_content_check_fires_on_planted_data(check_id: str) -> None:
    # the content checks read data, not the example inventory: tests/content plants a leak
    # for each and audits clean data that yields none (test_scan.EXPECTED)
    from tests.content.test_scan import EXPECTED

    assert check_id in {check for check, _, _ in EXPECTED}, f"{check_id}: plant a leak that makes it fire"
    assert REGISTRY.checks[check_id].severity in ("critical", "high")


@pytest.mark.parametrize("check_id", INFORMATIONAL)
def test_informational_checks_report_observations_and_never_findings(check_id: str) -> None:
    report = audit_sources(EXAMPLE_ORG)
    (observation,) = [o for o in report.observations if o.check == check_id]
    assert observation.rows
    assert observation.total == len(observation.rows)
    assert all(len(row) == len(observation.columns) for row in observation.rows)
    for variant in EXPECTATIONS:
        assert not [f for f in audit_sources(EXAMPLE_ORG, LEAKS / variant).findings if f.check == check_id]


@pytest.mark.parametrize("check_id", JUDGING)
def test_every_check_fires_on_a_fixture_and_is_quiet_on_the_clean_org(check_id: str) -> None:
    assert check_id in FIRING, f"{check_id}: add a leaky fixture that makes it fire"
    clean = audit_sources(EXAMPLE_ORG)
    assert not [f for f in clean.findings if f.check == check_id]
    variant = next(name for name, case in EXPECTATIONS.items() if any(f["check"] == check_id for f in case["findings"]))
    fired = audit_sources(EXAMPLE_ORG, LEAKS / variant)
    assert [f for f in fired.findings if f.check == check_id]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "iso-1"}, "must look like ABC-123"),
        ({"title": " "}, "title is empty"),
        ({"claim_ids": ()}, "must name at least one claim"),
        ({"claim_ids": ("X1",)}, "must name at least one claim"),
        ({"remediation": ""}, "remediation is empty"),
        ({"rationale": ""}, "rationale is empty"),
        ({"severity": "urgent"}, "severity 'urgent'"),
        ({"defaults": {"nope": 1}}, "defaults do not fit"),
    ],
)
def test_malformed_checks_are_refused_with_a_fix(changes: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "id": "ABC-001",
        "title": "t",
        "severity": "low",
        "claim_ids": ("C1",),
        "rationale": "r",
        "remediation": "r",
        "evaluate": lambda ctx: [],
        "params": NoParams,
    }
    with pytest.raises(ValueError, match=message):
        Check(**{**fields, **changes})


def test_a_plugin_cannot_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = Check(
        id="ISO-001",
        title="fake",
        severity="low",
        claim_ids=("C1",),
        rationale="r",
        remediation="r",
        evaluate=lambda ctx: [],
    )
    extra = Check(
        id="ABC-001",
        title="extra",
        severity="low",
        claim_ids=("C8",),
        rationale="r",
        remediation="r",
        evaluate=lambda ctx: [],
    )
    module = type("module", (), {"CHECKS": [impostor, extra]})
    monkeypatch.setitem(__import__("sys").modules, "fake_plugin", module)
    point = EntryPoint(name="fake", value="fake_plugin:CHECKS", group="tenant_audit.checks")
    monkeypatch.setattr("checks.entry_points", lambda group: [point])
    registry = load_registry()
    assert registry.checks["ISO-001"].title != "fake"
    assert registry.checks["ABC-001"] is extra
    assert any("ISO-001" in w and "already defines it" in w for w in registry.warnings)


def test_a_broken_plugin_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="broken", value="no_such_module_anywhere:CHECKS", group="tenant_audit.checks")
    monkeypatch.setattr("checks.entry_points", lambda group: [point])
    registry = load_registry()
    assert "ISO-001" in registry.checks
    assert any("broken" in w and "not loaded" in w for w in registry.warnings)
