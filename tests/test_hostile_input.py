"""Hostile and messy input: every malformed input is exit 2 naming the file, a malformed part of
a source is a named coverage gap, an internal error is exit 70 with one line, and nothing is
half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from audit.errors import EXIT_INTERNAL
from audit.sources import load_inventory
from audit.sources.terraform import transform
from tests.conftest import EXAMPLE_ORG, FIXTURES, MINIMAL_ORG, WriteYaml, invoke

TF = FIXTURES / "terraform"
LINEAGE = FIXTURES / "lineage" / "example-org.ndjson"


def _plan() -> dict:  # type: ignore[type-arg]
    return json.loads((TF / "base.tfplan.json").read_text())


# -- exit codes -------------------------------------------------------------------------------


def test_an_internal_error_is_exit_70_with_one_line_and_the_traceback_only_under_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("something the code did not expect\nsecond line")

    monkeypatch.setattr("audit.engine.run_audit", broken)
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path / "out"))
    assert result.exit_code == EXIT_INTERNAL == 70
    assert "internal error: TypeError: something the code did not expect" in result.stderr
    assert "second line" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "--debug" in result.stderr
    assert not (tmp_path / "out").exists()
    debug = invoke("--debug", "run", str(EXAMPLE_ORG), "--out", str(tmp_path / "out"))
    assert debug.exit_code == 70
    assert "Traceback (most recent call last)" in debug.stderr
    assert "internal error: TypeError" in debug.stderr


def test_user_text_in_an_error_is_never_read_as_markup(tmp_path: Path) -> None:
    result = invoke("explain", str(tmp_path / "[/x]"), "[/x]")
    assert result.exit_code == 2
    assert "[/x]" in result.stderr
    assert "MarkupError" not in result.stderr


def test_a_clean_twin_still_exits_0_and_findings_still_exit_1(tmp_path: Path) -> None:
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path / "a")).exit_code == 0
    leak = FIXTURES / "leaks" / "debug-export"
    assert invoke("run", str(EXAMPLE_ORG), str(leak), "--out", str(tmp_path / "b")).exit_code == 1


# -- Terraform: a malformed resource is a named gap, the rest is used --------------------------


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: r.update(values="not a mapping"),
        lambda r: r.pop("address"),
        lambda r: r.update(address=12),
        lambda r: r.pop("type"),
        lambda r: r["values"].update(tags="data-class=commercial-api"),
        lambda r: r["values"].update(tags=["a", 1, None]),
        lambda r: r["values"].update(server_side_encryption_configuration="AES256"),
        lambda r: r["values"].update(versioning={"enabled": True}),
    ],
)
def test_a_plan_resource_of_the_wrong_shape_is_a_gap_and_the_rest_is_used(spoil: object) -> None:
    plan = _plan()
    resources = plan["planned_values"]["root_module"]["child_modules"][0]["resources"]
    target = next(r for r in resources if r["type"] == "aws_s3_bucket")
    spoil(target)  # type: ignore[operator]
    loaded = transform(plan, "plan.json", "0" * 64)
    clean = transform(_plan(), "plan.json", "0" * 64)
    assert loaded.document.principals == clean.document.principals or len(loaded.document.principals) == len(
        clean.document.principals
    )
    assert len(loaded.document.stores) >= len(clean.document.stores) - 1
    gaps = [g for g in loaded.gaps if "left out" in g.reason]
    assert gaps, [g.reason for g in loaded.gaps]
    assert all(g.checks == ("*",) for g in gaps)
    assert not [g for g in clean.gaps if "left out" in g.reason]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: p.update(planned_values="x"),
        lambda p: p["planned_values"].update(root_module=[]),
        lambda p: p.update(resource_changes={"a": 1}),
        lambda p: p["resource_changes"].append("x"),
        lambda p: p["resource_changes"].append({"address": "a.b", "type": "aws_s3_bucket", "change": "x"}),
        lambda p: p.update(configuration={"root_module": {"module_calls": {"a": "b"}, "resources": "x"}}),
    ],
)
def test_a_plan_of_the_wrong_shape_is_never_a_crash(spoil: object, tmp_path: Path) -> None:
    plan = _plan()
    spoil(plan)  # type: ignore[operator]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = invoke("validate", str(path))
    assert result.exit_code in (0, 2), result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr


# -- OpenLineage --------------------------------------------------------------------------------


def _events() -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in LINEAGE.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: (
            e["outputs"][0].update(name="x" * 600)
            if e.get("outputs")
            else e.update(inputs=[{"namespace": "s3://b", "name": "y" * 600}])
        ),
        lambda e: e.setdefault("outputs", [{"namespace": "s3://b", "name": "k"}])[0].update(
            facets={"columnLineage": "x"}
        ),
        lambda e: e["job"].update(facets={"documentation": ["not", "a", "mapping"]}),
        lambda e: e.update(eventTime="yesterday"),
        lambda e: e["job"].update(name="\ud800"),
    ],
)
def test_a_lineage_event_that_cannot_be_used_is_a_bad_line_and_the_rest_is_used(spoil: object, tmp_path: Path) -> None:
    events = _events()
    spoil(events[0])  # type: ignore[operator]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    inventory = load_inventory([str(path)])
    gap = next(g for g in inventory.gaps if g.scope == f"lineage:{path}")
    assert "line 1:" in gap.reason
    assert inventory.jobs  # the other events still give their jobs


def test_since_with_a_malformed_event_time_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    events = _events()
    events[0]["eventTime"] = "2026-13-45T99:99:99Z"
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    result = invoke("validate", str(path), "--since", "2026-01-01")
    assert result.exit_code == 0, result.stderr


# -- anywhere: numbers, nesting, surrogates, tags, merge keys ------------------------------------


def test_an_integer_beyond_4300_digits_is_an_input_error(write_yaml: WriteYaml) -> None:
    for name, text in (
        ("big.yaml", MINIMAL_ORG + "stores:\n  - {id: a, kind: s3-bucket, retention_days: " + "9" * 5000 + "}\n"),
        (
            "big.json",
            '{"version": 1, "stores": [{"id": "a", "kind": "s3-bucket", "retention_days": ' + "9" * 5000 + "}]}",
        ),
    ):
        result = invoke("validate", str(write_yaml(text, name)))
        assert result.exit_code == 2, result.stderr
        assert "retention_days" in result.stderr


@pytest.mark.parametrize("verb", ["validate", "explain", "verify"])
def test_json_nested_100000_deep_is_an_input_error(tmp_path: Path, verb: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    if verb == "verify":
        (tmp_path / "manifest.json").write_text(deep)
        result = invoke("verify", str(tmp_path))
        assert result.exit_code == 1
        assert "not a valid manifest (nested too deeply)" in result.stdout
        return
    path = tmp_path / "deep.json"
    path.write_text(deep)
    result = invoke(verb, str(path), *(["F"] if verb == "explain" else []))
    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr


def test_yaml_nested_by_compact_sequences_is_an_input_error_not_a_crash(write_yaml: WriteYaml) -> None:
    result = invoke("validate", str(write_yaml("- " * 100_000 + "a\n")))
    assert result.exit_code == 2
    assert "nested more than" in result.stderr


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("s.json", '{"version": 1, "organisation": "\\ud800"}', "organisation"),
        ("s.yaml", 'version: 1\norganisation: "\\ud800"\n', ""),
        ("k.json", '{"version": 1, "stores": [{"id": "\\udfff", "kind": "s3-bucket"}]}', "stores[0].id"),
    ],
)
def test_a_lone_surrogate_is_an_input_error_before_any_renderer(
    write_yaml: WriteYaml, tmp_path: Path, name: str, text: str, field: str
) -> None:
    out = tmp_path / "out"
    result = invoke("run", str(write_yaml(text, name)), "--out", str(out), "--format", "json,html,md,sarif,junit")
    assert result.exit_code == 2, result.stderr
    assert field in result.stderr
    assert not out.exists()


def test_a_complete_surrogate_pair_is_a_character(write_yaml: WriteYaml) -> None:
    path = write_yaml('{"version": 1, "organisation": "Lab \\ud83d\\ude00"}', "ok.json")
    assert invoke("validate", str(path)).exit_code == 0


def test_a_yaml_tagged_key_is_an_input_error(write_yaml: WriteYaml) -> None:
    result = invoke("validate", str(write_yaml("!!map a: 1\n")))
    assert result.exit_code == 2
    assert ":1:" in result.stderr


def test_yaml_merge_keys_with_overrides_load_as_yaml_defines(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        version: 1
        organisation: Lab
        accounts:
          - &base {id: "111111111111", name: serving, zone: serving}
          - {<<: *base, id: "222222222222", name: training, zone: training}
        """
    )
    inventory = load_inventory([str(path)])
    assert {(a.id, a.name, a.zone) for a in inventory.accounts.values()} == {
        ("111111111111", "serving", "serving"),
        ("222222222222", "training", "training"),
    }


def test_a_key_written_twice_is_still_a_duplicate_next_to_a_merge_key(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        """
        version: 1
        organisation: Lab
        accounts:
          - &base {id: "111111111111", name: serving, zone: serving}
          - {<<: *base, id: "222222222222", id: "333333333333"}
        """
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "accounts[1].id: duplicate key" in result.stderr


# -- files and directories -------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--waivers", "--sign-key", "--audit-info", "--mapping"])
def test_a_fifo_or_a_device_as_an_option_file_is_an_input_error_not_a_hang(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for special in (str(fifo), "/dev/zero"):
        result = invoke("run", str(EXAMPLE_ORG), "--out", str(tmp_path / "out"), option, special)
        assert result.exit_code == 2, result.stderr
        assert "not a regular file" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("verb", ["explain", "diff"])
def test_a_fifo_as_a_report_is_an_input_error_not_a_hang(tmp_path: Path, verb: str) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    result = invoke(verb, str(fifo), str(fifo) if verb == "diff" else "F")
    assert result.exit_code == 2
    assert "not a regular file (a FIFO)" in result.stderr


def test_verify_with_a_fifo_public_key_is_an_input_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out)).exit_code == 0
    os.mkfifo(tmp_path / "key.pem")
    result = invoke("verify", str(out), "--public-key", str(tmp_path / "key.pem"))
    assert result.exit_code == 2
    assert "FIFO" in result.stderr


def _org_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "org"
    copy.mkdir()
    for member in EXAMPLE_ORG.iterdir():
        (copy / member.name).write_bytes(member.read_bytes())
    return copy


@pytest.mark.parametrize("kind", ["dangling", "loop", "fifo"])
def test_an_unreadable_entry_of_a_directory_source_is_an_input_error_naming_it(tmp_path: Path, kind: str) -> None:
    org = _org_dir(tmp_path)
    entry = org / "leak.yaml"
    if kind == "dangling":
        entry.symlink_to(tmp_path / "moved-away.yaml")
    elif kind == "loop":
        entry.symlink_to(entry)
    else:
        os.mkfifo(entry)
    result = invoke("run", str(org), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.stdout
    assert str(entry) in result.stderr
    assert not (tmp_path / "out").exists()
    entry.unlink()
    assert invoke("run", str(org), "--out", str(tmp_path / "out")).exit_code == 0  # the clean twin


def test_a_file_over_the_size_cap_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("audit.files.MAX_SOURCE_BYTES", 1000)
    big = tmp_path / "big.yaml"
    big.write_text(MINIMAL_ORG + "#" * 2000 + "\n")
    result = invoke("validate", str(big))
    assert result.exit_code == 2
    assert "larger than the 1000 bytes" in result.stderr


def test_a_symlink_planted_at_a_temporary_name_is_never_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for name in ("report.html", "report.json", "manifest.json"):
        (out / f".{name}.tmp").symlink_to(victim)
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out)).exit_code == 0
    assert victim.read_text() == "keep me"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    real = os.replace
    calls = []

    def full_disk(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr("audit.files.os.replace", full_disk)
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "json,md")
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_run_replaces_the_report_set_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "html,md,sarif,json").exit_code == 0
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "json").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.json"]
    assert invoke("verify", str(out)).exit_code == 0


def test_verify_fails_on_an_unlisted_report_file_and_notes_other_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "json").exit_code == 0
    (out / "README.txt").write_text("notes of the auditor")
    assert invoke("verify", str(out)).exit_code == 0  # a note, not a failure
    (out / "report.md").write_text("# stale\n")
    result = invoke("verify", str(out))
    assert result.exit_code == 1
    assert "report.md: a report file the manifest does not list" in result.stdout


def test_verify_inputs_fails_on_a_missing_input(tmp_path: Path) -> None:
    org = _org_dir(tmp_path)
    out = tmp_path / "out"
    assert invoke("run", str(org), "--out", str(out), "--format", "json").exit_code == 0
    assert invoke("verify", str(out), "--inputs").exit_code == 0
    (org / "access.yaml").unlink()
    result = invoke("verify", str(out), "--inputs")
    assert result.exit_code == 1
    assert "access.yaml" in result.stdout
    assert "does not exist" in result.stdout


def test_verify_with_an_over_long_file_name_in_the_manifest_fails_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--format", "json").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["outputs"].append({"path": "r" * 5000, "sha256": "0" * 64, "bytes": 1})
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = invoke("verify", str(out))
    assert result.exit_code == 1
    assert "name too long" in result.stdout


def test_markup_in_an_organisation_name_or_a_suite_is_printed_as_written(tmp_path: Path) -> None:
    org = _org_dir(tmp_path)
    text = (org / "org.yaml").read_text()
    (org / "org.yaml").write_text(text.replace("organisation: Example AI Lab", "organisation: '[/x] Lab [bold]'"))
    result = invoke("run", str(org), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert "[/x] Lab [bold]" in result.stdout
