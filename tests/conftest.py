"""Shared helpers: paths to the fixtures, an in-process CLI, and a one-call audit."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from audit.cli import main
from audit.engine import AuditConfig, run_audit
from audit.report import Report
from checks import SUITES_DIR, load_registry

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
EXAMPLE_ORG = FIXTURES / "example-org"
LEAKS = FIXTURES / "leaks"
SHARED = REPO.parent / "shared"


def audit_sources(*sources: Path | str, suite: str = "default") -> Report:
    registry = load_registry(plugins=False)
    config = AuditConfig(sources=tuple(str(s) for s in sources), suite=suite, suites_dir=SUITES_DIR)
    return run_audit(config, registry.checks)


def invoke(*args: str) -> Result:
    """Run the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


WriteYaml = Callable[..., Path]


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Write dedented YAML text to a file under tmp_path and return its path."""

    def write(text: str, name: str = "inventory.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


MINIMAL_ORG = """
version: 1
organisation: Tiny Lab
accounts:
  - {id: "111111111111", name: serving, zone: serving}
  - {id: "222222222222", name: training, zone: training}
"""


def findings_of(report: Report, check: str) -> list[tuple[str, str, str]]:
    """(kind, source entity, last node entity) of each finding of a check."""
    return sorted((f.kind, f.path[0].node, f.path[-1].node) for f in report.findings if f.check == check)


def verdicts(report: Report, claims: Sequence[str] | None = None) -> dict[str, str]:
    return {c.id: c.verdict for c in report.claims if claims is None or c.id in claims}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, with fake credentials and nothing of the real environment's AWS set-up."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield
