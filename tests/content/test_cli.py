"""The content options of ``run``: clear errors before anything runs, values on request."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, invoke


def test_bundled_content_org_passes(tmp_path: Path) -> None:
    result = invoke("run", str(REPO / "fixtures/content-org"), "--suite", "content", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {c["verdict"] for c in report["claims"]} == {"no-evidence-contradicting"}
    assert {d["store"] for d in report["content"]["datasets"]} >= {"api-logs", "sft-chats", "pretrain-mix"}


def test_spark_without_pyspark_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    out = tmp_path / "out"
    result = invoke(
        "run", str(REPO / "fixtures/content-org"), "--suite", "content", "--engine", "spark", "--out", str(out)
    )
    assert result.exit_code == 2
    assert "--engine spark needs PySpark" in result.stderr
    assert "pip install 'tenant-audit[spark]'" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("rate", ["0", "1.5", "half"])
def test_sample_must_be_a_share(tmp_path: Path, rate: str) -> None:
    result = invoke(
        "run", str(REPO / "fixtures/content-org"), "--suite", "content", "--sample", rate, "--out", str(tmp_path)
    )
    assert result.exit_code == 2
    assert "--sample" in result.stderr


def test_checks_lists_the_content_checks() -> None:
    result = invoke("checks")
    for check in ("DAT-001", "DAT-002", "DAT-003", "DAT-004", "DAT-005"):
        assert check in result.stdout
