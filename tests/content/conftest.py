"""Content orgs built once per session: clean, and with every leak planted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from audit.content.requests import ContentOptions
from audit.engine import AuditConfig, run_audit
from audit.report import Report
from checks import SUITES_DIR, load_registry
from tests.support.datasets import LEAKS, build

Audit = Callable[..., Report]


def audit_content(*sources: Path | str, suite: str = "content", **options: object) -> Report:
    config = AuditConfig(
        sources=tuple(str(s) for s in sources),
        suite=suite,
        suites_dir=SUITES_DIR,
        content=ContentOptions(**options),  # type: ignore[arg-type]
    )
    return run_audit(config, load_registry(plugins=False).checks)


@pytest.fixture(scope="session")
def clean_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("clean-org")).parent


@pytest.fixture(scope="session")
def leaky_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("leaky-org"), leaks=LEAKS).parent
