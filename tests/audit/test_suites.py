"""Suites: claims, the checks behind them, parameters; bad suites are input errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.errors import InputError
from audit.suites import load_suite
from checks import SUITES_DIR, load_registry
from tests.conftest import EXAMPLE_ORG, WriteYaml, invoke

CHECKS = load_registry(plugins=False).checks


def test_default_suite_states_the_eleven_claims_of_the_register_and_erasure() -> None:
    suite = load_suite("default", SUITES_DIR, CHECKS)
    assert [c.id for c in suite.claims] == [f"C{i}" for i in range(1, 13)]
    assert all(suite.claim_checks(c.id) for c in suite.claims), "every claim has a real check behind it"
    assert set(suite.selected) >= {f"ISO-00{i}" for i in range(1, 8)}
    assert suite.selected["ISO-004"].claim_ids == ("C3", "C6")


def test_a_claim_whose_checks_are_not_installed_is_a_gap(write_yaml: WriteYaml) -> None:
    path = write_yaml("name: s\nclaims:\n  - {id: C4, text: retention, checks: [XYZ-*]}\n", "suite.yaml")
    suite = load_suite(str(path), SUITES_DIR, CHECKS)
    (gap,) = suite.gaps
    assert gap.claims == ("C4",)
    assert "XYZ-*" in gap.reason


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("name: s\nclaims:\n  - {id: X1, text: t}\n", 3, "not a valid value"),
        (
            "name: s\nclaims:\n  - {id: C1, text: t, checks: [ISO-001]}\nparams:\n  ISO-002: {}\n",
            5,
            "parameters for a check this suite does not run",
        ),
        (
            "name: s\nclaims:\n  - {id: C1, text: t, checks: [ISO-001]}\nparams:\n  ISO-001:\n    from_class: [x]\n",
            6,
            "unknown field 'from_class'",
        ),
        ("name: s\nclaims:\n  - {id: C1, text: t}\n  - {id: C1, text: u}\n", 4, "stated twice"),
        ("name: s\nclaim: []\n", 2, "did you mean 'claims'"),
    ],
)
def test_bad_suites_are_reported_with_their_line(write_yaml: WriteYaml, text: str, line: int, message: str) -> None:
    path = write_yaml(text, "suite.yaml")
    with pytest.raises(InputError) as caught:
        load_suite(str(path), SUITES_DIR, CHECKS)
    assert any(p.line == line and message in f"{p.message} {p.hint}" for p in caught.value.problems), (
        caught.value.problems
    )


def test_unknown_suite_name_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("run", str(EXAMPLE_ORG), "--suite", "defualt", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "did you mean 'default'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_custom_suite_narrows_the_claims(write_yaml: WriteYaml, tmp_path: Path) -> None:
    path = write_yaml(
        "name: api-only\nclaims:\n  - {id: C1, text: API data never trains, checks: [ISO-001]}\n", "suite.yaml"
    )
    result = invoke("run", str(EXAMPLE_ORG), "--suite", str(path), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "no-evidence-contradicting" in result.stdout
    assert "C2" not in result.stdout
