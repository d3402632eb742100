"""Paths in a report are relative to the working directory; a root is replaced only where it
is a whole path, never inside a longer one."""

from __future__ import annotations

from pathlib import Path

from audit.paths import did_you_mean, relative, relative_command, rewrite

BASE = Path("/home/auditor/work")


def test_relative_inside_and_outside_the_base() -> None:
    assert relative("/home/auditor/work/estate/org.yaml", BASE) == "estate/org.yaml"
    assert relative("/tmp/out", BASE) == "../../../tmp/out"
    assert relative("estate/org.yaml", BASE) == "estate/org.yaml"
    assert relative("s3://bucket/key", BASE) == "s3://bucket/key"


def test_command_arguments_that_are_absolute_paths_become_relative() -> None:
    args = ["run", "/home/auditor/work/estate", "--out", "/home/auditor/work/out", "--suite=/home/auditor/s.yaml"]
    assert relative_command(args, BASE) == ["run", "estate", "--out", "out", "--suite=../s.yaml"]
    assert relative_command(["run", "aws:prod", "--format", "html"], BASE) == ["run", "aws:prod", "--format", "html"]


def test_rewrite_replaces_whole_paths_only() -> None:
    document = {
        "location": "/home/auditor/work/estate/org.yaml:12",
        "command": "tenant-audit run estate/org.yaml",
        "longer": "/home/auditor/work/estate-2/org.yaml",
        "inside": "see /x/home/auditor/work/estate/org.yaml",
        "list": ["(/home/auditor/work/estate)", 3, None],
    }
    out = rewrite(document, ["/home/auditor/work/estate"], BASE)
    assert out == {
        "location": "estate/org.yaml:12",
        "command": "tenant-audit run estate/org.yaml",
        "longer": "/home/auditor/work/estate-2/org.yaml",
        "inside": "see /x/home/auditor/work/estate/org.yaml",
        "list": ["(estate)", 3, None],
    }
    assert rewrite(document, ["relative/only"], BASE) == document


def test_did_you_mean_walks_the_path_part_by_part(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "leaks" / "debug-export").mkdir(parents=True)
    assert did_you_mean(str(tmp_path / "fixtures" / "lekas" / "debug-exprt")) == (
        f"did you mean {(tmp_path / 'fixtures' / 'leaks' / 'debug-export').as_posix()}?"
    )
    assert did_you_mean(str(tmp_path / "fixtures" / "zzzzzz")) == ""
    assert did_you_mean(str(tmp_path / "fixtures")) == "", "an existing path needs no suggestion"
