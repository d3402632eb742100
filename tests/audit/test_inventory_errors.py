"""Bad inventories: one clear message per problem naming file, line and field; exit 2;
no traceback; every problem reported in the same run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_ORG, WriteYaml, invoke

STORE = """
stores:
  - {id: logs, kind: s3-bucket, account: serving, classes: [commercial-api]}
"""

# (case id, inventory text, expected line, field fragment, message fragment)
CASES = [
    ("top-level-list", "- a\n- b\n", 1, "", "must be a mapping"),
    ("empty-file", "", 1, "", "must be a mapping"),
    ("missing-version", "organisation: X\n", 1, "version", "'version' is missing"),
    ("version-2", "version: 2\n", 1, "version", "'2' is not allowed"),
    ("unknown-section", "version: 1\nstore:\n  - {id: a}\n", 2, "store", "did you mean 'stores'"),
    ("store-missing-kind", "version: 1\nstores:\n  - id: a\n", 3, "stores (id a)", "the kind of store is unknown"),
    (
        "store-kind-typo",
        "version: 1\nstores:\n  - id: a\n    kind: s3bucket\n",
        4,
        "stores (id a).kind",
        "did you mean 's3-bucket'",
    ),
    (
        "store-field-typo",
        "version: 1\nstores:\n  - id: a\n    kind: table\n    clases: [x]\n",
        5,
        "stores (id a).clases",
        "did you mean 'classes'",
    ),
    (
        "short-account-id",
        "version: 1\naccounts:\n  - {id: '12', name: s, zone: serving}\n",
        3,
        "accounts (id 12).id",
        "12-digit",
    ),
    (
        "zone-typo",
        "version: 1\naccounts:\n  - id: '111111111111'\n    name: s\n    zone: trainning\n",
        5,
        "zone",
        "did you mean 'training'",
    ),
    (
        "id-with-space",
        "version: 1\nstores:\n  - {id: 'api logs', kind: table}\n",
        3,
        "stores (id api logs).id",
        "no spaces",
    ),
    (
        "negative-retention",
        "version: 1\nstores:\n  - id: a\n    kind: table\n    retention_days: -5\n",
        5,
        "retention_days",
        "greater than or equal to 0",
    ),
    (
        "encryption-typo",
        "version: 1\nstores:\n  - id: a\n    kind: table\n    encryption: kms\n",
        5,
        "encryption",
        "expected one of",
    ),
    (
        "classes-not-list",
        "version: 1\nstores:\n  - id: a\n    kind: table\n    classes: 5\n",
        5,
        "classes",
        "expected a list",
    ),
    ("store-not-mapping", "version: 1\nstores:\n  - just-a-string\n", 3, "stores[0]", "expected a mapping"),
    (
        "job-reads-unknown",
        MINIMAL_ORG + STORE + "jobs:\n  - id: j\n    reads: [logs, lgos]\n",
        11,
        "jobs (id j).reads[1]",
        "unknown store 'lgos'",
    ),
    (
        "job-runs-as-unknown",
        MINIMAL_ORG + STORE + "jobs:\n  - {id: j, runs_as: ghost}\n",
        10,
        "runs_as",
        "unknown principal 'ghost'",
    ),
    (
        "principal-writes-unknown",
        MINIMAL_ORG + STORE + "principals:\n  - id: p\n    account: serving\n    can_write: [nope]\n",
        12,
        "can_write[0]",
        "unknown store 'nope'",
    ),
    (
        "class-typo",
        MINIMAL_ORG + "stores:\n  - {id: a, kind: table, account: serving, classes: [comercial-api]}\n",
        7,
        "classes[0]",
        "did you mean 'commercial-api'",
    ),
    (
        "tenant-unknown",
        MINIMAL_ORG + "stores:\n  - {id: a, kind: table, account: serving, tenant: acme}\n",
        7,
        "tenant",
        "unknown tenant 'acme'",
    ),
    (
        "gate-typo",
        MINIMAL_ORG + STORE + "jobs:\n  - {id: j, gate: [consent_filter]}\n",
        10,
        "gate[0]",
        "did you mean 'consent-filter'",
    ),
    (
        "account-unknown",
        MINIMAL_ORG + "stores:\n  - {id: a, kind: table, account: prod}\n",
        7,
        "account",
        "unknown account 'prod'",
    ),
    (
        "flow-unknown",
        MINIMAL_ORG + STORE + "flows:\n  - {from: logs, to: archive}\n",
        10,
        "flows.to",
        "unknown store 'archive'",
    ),
    (
        "trust-unknown",
        MINIMAL_ORG + "principals:\n  - {id: p, account: serving, trusts: [trainer]}\n",
        7,
        "trusts[0]",
        "unknown principal 'trainer'",
    ),
    ("principal-no-account", MINIMAL_ORG + "principals:\n  - {id: p}\n", 7, "principals (id p)", "no account"),
    (
        "replicates-unknown",
        MINIMAL_ORG + "stores:\n  - {id: a, kind: table, account: serving, replicates_to: [b]}\n",
        7,
        "replicates_to[0]",
        "unknown store 'b'",
    ),
    ("duplicate-key", "version: 1\nstores: []\nstores: []\n", 3, "stores", "duplicate key"),
    ("syntax-error", "version: 1\nstores:\n  - id: a\n   kind: table\n", 4, "", "cannot parse"),
    (
        "unknown-field-in-class",
        "version: 1\ndata_classes:\n  mine: {protect: true}\n",
        3,
        "data_classes.mine.protect",
        "did you mean 'protected'",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_inventory_is_reported_precisely(
    write_yaml: WriteYaml, text: str, line: int, field: str, message: str
) -> None:
    path = write_yaml(text) if text else _empty(write_yaml)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    expected_prefix = f"{path}:{line}: "
    lines = [ln.strip() for ln in result.stderr.splitlines()]
    matching = [ln for ln in lines if ln.startswith(expected_prefix) and field in ln and message in ln]
    assert matching, f"wanted '{expected_prefix}{field} ... {message}' in:\n{result.stderr}"


def _empty(write_yaml: WriteYaml) -> Path:
    path = write_yaml("placeholder: 1\n")
    path.write_text("")
    return path


def test_every_problem_is_reported_in_one_run(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        version: 1
        accounts:
          - {id: "111111111111", name: serving, zone: serving}
        stores:
          - {id: a, kind: s3bucket}
          - {id: b, kind: table, account: serving, classes: [nope]}
        jobs:
          - {id: j, reads: [a, b, c]}
        """
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(f"  {path}:")]
    # the bad kind, the unknown class, the unknown store 'c'; 'a' was reported once, as invalid
    assert len(problems) == 3, result.stderr
    assert "3 problems" in result.stderr


def test_duplicate_ids_within_one_file_name_both_places(write_yaml: WriteYaml) -> None:
    path = write_yaml(MINIMAL_ORG + STORE + "  - {id: logs, kind: table}\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:9: stores (id logs): 'logs' is defined twice in this file (also at {path}:8)" in result.stderr


def test_one_id_for_two_different_buckets_is_an_error(write_yaml: WriteYaml) -> None:
    first = write_yaml(MINIMAL_ORG + "stores:\n  - {id: logs, arn: 'arn:aws:s3:::a'}\n", "one.yaml")
    second = write_yaml("version: 1\nstores:\n  - {id: logs, arn: 'arn:aws:s3:::b'}\n", "two.yaml")
    result = invoke("validate", str(first), str(second))
    assert result.exit_code == 2
    assert "different identities for one id: s3:s3://a/, s3:s3://b/" in result.stderr


def test_conflicting_organisations_are_an_error(write_yaml: WriteYaml) -> None:
    first = write_yaml("version: 1\norganisation: A\n", "one.yaml")
    second = write_yaml("version: 1\norganisation: B\n", "two.yaml")
    result = invoke("validate", str(first), str(second))
    assert result.exit_code == 2
    assert "different organisations" in result.stderr


def test_missing_source_path(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_directory_without_inventories(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "holds no inventory files" in result.stderr


def test_valid_inventory_validates(write_yaml: WriteYaml) -> None:
    path = write_yaml(MINIMAL_ORG + STORE)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert "1 stores" in result.stdout


def test_json_inventory_errors_carry_lines(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(
        textwrap.dedent("""\
        {
          "version": 1,
          "stores": [
            {"id": "a", "kind": "bucket"}
          ]
        }
        """)
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:4: stores (id a).kind" in result.stderr
