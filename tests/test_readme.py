"""What the README shows works: its example waiver names a finding its tour produces."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import EXAMPLE_ORG, LEAKS, REPO, invoke


def test_the_readme_waiver_example_names_a_finding_of_the_tour(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    assert "tenant-audit run fixtures/example-org fixtures/leaks/debug-export --out audit-out" in readme
    (example,) = re.findall(r"- finding: (\S+)\s+# a finding id", readme)
    result = invoke("run", str(EXAMPLE_ORG), str(LEAKS / "debug-export"), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    ids = {f["id"] for f in json.loads((tmp_path / "report.json").read_text())["findings"]}
    assert example in ids
