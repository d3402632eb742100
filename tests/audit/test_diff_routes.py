"""The CI gate judges path rules by their routes (issue 18): a new route from a source that
already has a finding fails, to a new sink or to the same one, behind an existing cut edge
too; a permitted route put into use fails; a cut that merely moved does not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from audit.diff import diff_reports
from audit.report import Report
from tests.conftest import WriteYaml, audit_sources, invoke

CLEAN = {
    "encryption": "AES256",
    "public_access_blocked": True,
    "tls_only": True,
    "access_logging": True,
    "versioning": False,
    "retention_days": 30,
    "policy": "none",
}


def store(store_id: str, account: str = "serving", **extra: Any) -> dict[str, Any]:
    return {
        "id": store_id,
        "kind": "s3-bucket",
        "account": account,
        "arn": f"arn:aws:s3:::{store_id}",
        **CLEAN,
        **extra,
    }


def job(job_id: str, reads: list[str], writes: list[str], role: str | None = None) -> dict[str, Any]:
    return {"id": job_id, "runs_as": role or f"{job_id}-role", "reads": reads, "writes": writes}


def role(role_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": role_id,
        "arn": f"arn:aws:iam::222222222222:role/{role_id}",
        "trusts": ["glue.amazonaws.com"],
        **extra,
    }


BASE_STORES = [
    store("api-logs", classes=["commercial-api"]),
    store("copy-a", "training"),
    store("mix-a", "training", classes=["training"]),
]
BASE_JOBS = [job("export-a", ["api-logs"], ["copy-a"]), job("stage-a", ["copy-a"], ["mix-a"])]


def report(
    write_yaml: WriteYaml,
    name: str,
    stores: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    principals: list[dict[str, Any]] | None = None,
) -> Path:
    roles = principals if principals is not None else [role(j["runs_as"]) for j in jobs]
    document = {
        "version": 1,
        "organisation": "Gate Lab",
        "accounts": [
            {"id": "111111111111", "name": "serving", "zone": "serving"},
            {"id": "222222222222", "name": "training", "zone": "training"},
        ],
        "stores": stores,
        "principals": roles,
        "jobs": jobs,
    }
    result = audit_sources(write_yaml(yaml.safe_dump(document, sort_keys=False), f"{name}/inventory.yaml"))
    path = write_yaml(result.to_json(), f"{name}/report.json")
    return path


def load(path: Path) -> Report:
    return Report.model_validate_json(path.read_text())


def test_a_second_unrelated_route_to_a_new_sink_fails_the_gate(write_yaml: WriteYaml) -> None:
    base = report(write_yaml, "base", BASE_STORES, BASE_JOBS)
    stores = [
        *BASE_STORES,
        store("copy-b", "training"),
        store("staging", "training"),
        store("mix-b", "training", classes=["training"]),
    ]
    jobs = [
        *BASE_JOBS,
        job("export-b", ["api-logs"], ["copy-b"]),
        job("to-staging", ["copy-b"], ["staging"]),
        job("stage-b", ["staging"], ["mix-b"]),
    ]
    head = report(write_yaml, "head", stores, jobs)
    result = diff_reports(load(base), load(head))
    assert result.fails("high")
    reasons = {(r.what, r.route) for r in result.failing_routes("high")}
    assert ("new route", "api-logs => mix-b") in reasons
    assert ("new edge", "api-logs -reads-> export-b") in reasons
    shown = invoke("diff", str(base), str(head))
    assert shown.exit_code == 1
    assert "ISO-001: new route api-logs => mix-b (critical)" in shown.stdout


def test_a_second_pipeline_into_the_same_sink_fails_the_gate(write_yaml: WriteYaml) -> None:
    base = report(write_yaml, "base", BASE_STORES, BASE_JOBS)
    stores = [*BASE_STORES, store("copy-b", "training")]
    jobs = [*BASE_JOBS, job("export-b", ["api-logs"], ["copy-b"]), job("stage-b", ["copy-b"], ["mix-a"])]
    head = report(write_yaml, "head", stores, jobs)
    result = diff_reports(load(base), load(head))
    assert result.fails("high")
    assert not [r for r in result.routes if r.what == "new route"]  # same (source, sink) pair as base
    assert ("new edge", "copy-b -reads-> stage-b") in {(r.what, r.route) for r in result.routes}
    assert invoke("diff", str(base), str(head)).exit_code == 1


def test_a_permitted_route_put_into_use_fails_the_gate(write_yaml: WriteYaml) -> None:
    """Base: a role may read the API logs and write the mix, no job uses it. Head: a job
    runs as it and does. The route was potential and is now declared."""
    grant = role("eval-role", can_read=["api-logs"], can_write=["mix-a"])
    stores = BASE_STORES
    base = report(write_yaml, "base", stores, [], [grant])
    head = report(write_yaml, "head", stores, [job("eval", ["api-logs"], ["mix-a"], role="eval-role")], [grant])
    result = diff_reports(load(base), load(head))
    assert ("now declared", "api-logs => mix-a") in {(r.what, r.route) for r in result.routes}
    assert result.fails("high")
    assert invoke("diff", str(base), str(head)).exit_code == 1
    # and the clean twin: the same report against itself passes
    assert invoke("diff", str(head), str(head)).exit_code == 0


def test_a_cut_that_moved_is_reported_and_does_not_fail(write_yaml: WriteYaml) -> None:
    """Base has two routes from the API logs into the mix, one root cause at their first
    edges (one finding, named by export-a's read); head removes that route: the finding
    that remains is named by export-b's read, a new id, yet no route is new."""
    stores = [*BASE_STORES, store("copy-b", "training")]
    route_b = [job("export-b", ["api-logs"], ["copy-b"]), job("stage-b", ["copy-b"], ["mix-a"])]
    base = report(write_yaml, "base", stores, [*BASE_JOBS, *route_b])
    head = report(write_yaml, "head", stores, route_b)
    result = diff_reports(load(base), load(head))
    assert [f.check for f in result.moved] == ["ISO-001"]
    assert result.new == []
    assert result.failing_routes("high") == []
    assert not result.fails("high")
    shown = invoke("diff", str(base), str(head))
    assert shown.exit_code == 0
    assert "moved (routes all in base)" in shown.stdout


def test_run_with_a_base_marks_what_is_new_since_base_in_the_html(write_yaml: WriteYaml, tmp_path: Path) -> None:
    base = report(write_yaml, "base", BASE_STORES, BASE_JOBS)
    stores = [
        *BASE_STORES,
        store("copy-b", "training"),
        store("mix-b", "training", classes=["training"]),
        store("api-2", classes=["commercial-api"]),
    ]
    jobs = [
        *BASE_JOBS,
        job("export-b", ["copy-a"], ["copy-b"]),
        job("stage-b", ["copy-b"], ["mix-b"]),
        job("export-2", ["api-2"], ["mix-b"]),  # an independent new leak: a finding of its own
    ]
    roles = [role(j["runs_as"]) for j in jobs]
    document = {
        "version": 1,
        "accounts": [
            {"id": "111111111111", "name": "serving", "zone": "serving"},
            {"id": "222222222222", "name": "training", "zone": "training"},
        ],
        "stores": stores,
        "principals": roles,
        "jobs": jobs,
    }
    head_inventory = write_yaml(yaml.safe_dump(document), "head-run/inventory.yaml")
    out = tmp_path / "out"
    result = invoke("run", str(head_inventory), "--base", str(base), "--out", str(out), "--format", "html,json")
    assert result.exit_code == 1
    produced = json.loads((out / "report.json").read_text())
    since = produced["since_base"]
    assert ("new route", "api-logs => mix-b") in {(r["what"], r["route"]) for r in since["routes"]}
    assert since["fails"] is True
    html = (out / "report.html").read_text()
    # the finding's card says which sources cross its cut edge, and whether it is new since base
    cards = {}
    for finding in produced["findings"]:
        if finding["check"] != "ISO-001":
            continue
        card = html[html.index(f'id="{finding["id"]}"') :]
        cards[finding["id"]] = card[: card.index("</article>")]
    assert len(cards) == 2
    (new,) = [fid for fid in since["new"] if fid.startswith("ISO-001")]
    for fid, card in cards.items():
        assert " cross it, into " in card
        assert ("new since base" in card) == (fid == new)
    assert '<code class="id">api-2</code>' in cards[new]
