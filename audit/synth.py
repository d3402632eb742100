"""Synthetic estates for scale tests and benchmarks: realistic, clean, with planted leaks.

``tenant-audit synth`` writes an inventory (JSON, one entity per line) shaped like an AI
lab's estate: per-tenant pipelines in the serving account (buckets chained by jobs, with
the odd two-way sync), roles with IAM policies scoped to a tenant's buckets by wildcard,
a training account whose mix jobs read licensed and public-web data into training sinks,
consumer data flowing through the consent-filter and pii-scrub gates, feedback through
de-link (which also scrubs personal data). Every setting the configuration checks read is
set, so the base estate is clean: a full audit finds exactly the violations planted in it,
which ``planted.json`` lists as (check, source store, sink). The same seed gives the same
estate.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVING, TRAINING, CORPORATE = "111111111111", "222222222222", "333333333333"
PLANTED = "planted.json"
CHECKPOINTS = "model-checkpoints"  # where every training job writes
TIERS = ("enterprise", "commercial-api", "enterprise", "commercial-api", "gov", "education")
TIER_CLASS = {"enterprise": "enterprise", "commercial-api": "commercial-api", "gov": "gov", "education": "education"}
SETTINGS = {
    "encryption": "AES256",
    "public_access_blocked": True,
    "tls_only": True,
    "access_logging": True,
    "versioning": False,
    "retention_days": 30,
    "policy": "none",  # the generator writes every bucket policy there is
}


@dataclass
class Estate:
    """The entities of a synthetic estate and the leaks planted in it."""

    stores: list[dict[str, Any]] = field(default_factory=list)
    principals: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    tenants: list[dict[str, Any]] = field(default_factory=list)
    planted: list[dict[str, str]] = field(default_factory=list)

    def store(self, store_id: str, classes: list[str], account: str, **extra: Any) -> str:
        bucket = store_id
        self.stores.append(
            {
                "id": store_id,
                "kind": "s3-bucket",
                "account": account,
                "arn": f"arn:aws:s3:::{bucket}",
                "classes": classes,
                **SETTINGS,
                **extra,
            }
        )
        return store_id

    def role(self, role_id: str, account: str, reads: list[str], writes: list[str], **extra: Any) -> str:
        statements = []
        if reads:
            statements.append({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": reads})
        if writes:
            statements.append({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": writes})
        self.principals.append(
            {
                "id": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role_id}",
                "trust_policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                },
                "policies": [{"Version": "2012-10-17", "Statement": statements}],
                **extra,
            }
        )
        return role_id

    def job(self, job_id: str, role: str, reads: list[str], writes: list[str], **extra: Any) -> str:
        self.jobs.append({"id": job_id, "runs_as": role, "reads": reads, "writes": writes, **extra})
        return job_id

    def plant(self, check: str, source: str, sink: str, via: str, description: str) -> None:
        self.planted.append({"check": check, "source": source, "sink": sink, "via": via, "description": description})


def _objects(store: str) -> str:
    return f"arn:aws:s3:::{store}/*"


def generate(
    stores: int, roles: int, jobs: int, tenants: int, seed: int = 7, leaks: bool = True, fanout: int = 1
) -> Estate:
    """An estate of about ``stores`` stores, ``roles`` roles and ``jobs`` jobs over ``tenants``
    tenants. Each tenant job reads one or two of its tenant's buckets, and ``fanout - 1``
    more upstream ones (a denser graph: about 3 edges per node at 1, 5 at 4)."""
    rng = random.Random(seed)
    estate = Estate()
    tenants = max(2, tenants)
    sinks = max(2, stores // 2000)
    feeds = max(2, stores // 200)
    # --- training account: sources, mix jobs, sinks --------------------------------------
    trainer = estate.role(
        "trainer",
        TRAINING,
        [_objects(f"train-mix-{i:05d}") for i in range(sinks)] + [_objects("sft-chats")],
        [_objects(CHECKPOINTS)],
    )
    estate.store(CHECKPOINTS, ["model-artifact"], TRAINING, retention_days=365)
    sink_ids = [
        estate.store(f"train-mix-{i:05d}", ["training"], TRAINING, retention_days=365) for i in range(sinks)
    ] + [estate.store("sft-chats", ["training"], TRAINING, retention_days=365)]
    for i, sink in enumerate(sink_ids):
        estate.job(f"train-{i:05d}", trainer, [sink], [CHECKPOINTS], kind="training")
    feed_ids = [
        estate.store(f"feed-{i:05d}", [("public-web", "licensed", "synthetic")[i % 3]], TRAINING, retention_days=365)
        for i in range(feeds)
    ]
    for i, sink in enumerate(sink_ids[:-1]):
        mine = [f for k, f in enumerate(feed_ids) if k % len(sink_ids[:-1]) == i] or [feed_ids[0]]
        role = estate.role(f"mix-{i:05d}-role", TRAINING, [_objects(f) for f in mine], [_objects(sink)])
        estate.job(f"mix-{i:05d}", role, mine, [sink])
    # --- consumer data through the gates, feedback through de-link ----------------------
    opt_in = estate.store("consumer-opt-in", ["consumer-opt-in"], SERVING, retention_days=1825)
    opt_out = estate.store("consumer-opt-out", ["consumer-opt-out"], SERVING)
    consented = estate.store(
        "consented-chats", ["consumer-opt-in"], TRAINING, passed_gates=["consent-filter"], retention_days=1825
    )
    consent = estate.role("consent-filter-role", TRAINING, [_objects(opt_in)], [_objects(consented)])
    estate.job("consent-filter", consent, [opt_in], [consented], gate=["consent-filter"])
    scrub = estate.role("pii-scrub-role", TRAINING, [_objects(consented)], [_objects("sft-chats")])
    estate.job("pii-scrub", scrub, [consented], ["sft-chats"], gate=["pii-scrub"])
    feedback = estate.store("feedback-raw", ["feedback"], SERVING, retention_days=90)
    delinked = estate.store(
        "feedback-delinked", ["feedback"], TRAINING, passed_gates=["de-link", "pii-scrub"], retention_days=90
    )
    delink = estate.role("de-link-role", TRAINING, [_objects(feedback)], [_objects(delinked)])
    estate.job("de-link", delink, [feedback], [delinked], gate=["de-link", "pii-scrub"])  # it scrubs too (C6)
    mix_role = estate.role("feedback-mix-role", TRAINING, [_objects(delinked)], [_objects(sink_ids[0])])
    estate.job("feedback-mix", mix_role, [delinked], [sink_ids[0]])
    tenant_stores = _tenants(estate, rng, stores, roles, jobs, tenants, fanout)
    if leaks:
        _plant(estate, rng, tenant_stores, sink_ids, opt_in, opt_out, feedback)
    return estate


def _tenants(
    estate: Estate, rng: random.Random, stores: int, roles: int, jobs: int, tenants: int, fanout: int = 1
) -> dict[str, list[str]]:
    # --- tenants: pipelines of buckets in the serving account ---------------------------
    # Each tenant's buckets are chained by its jobs; each job role may read and write exactly
    # the buckets of the jobs that run as it, and one read-only analytics role per tenant
    # reads every bucket of the tenant by wildcard (tnNNNNNN-*).
    remaining = max(tenants, stores - len(estate.stores))
    per_tenant = max(2, remaining // tenants)
    jobs_per_tenant = max(1, (jobs - len(estate.jobs)) // tenants)
    roles_per_tenant = max(1, (roles - len(estate.principals)) // tenants - 1)
    tenant_stores: dict[str, list[str]] = {}
    for t in range(tenants):
        tier = TIERS[t % len(TIERS)]
        tenant = f"tn{t:06d}"
        estate.tenants.append({"id": tenant, "tier": tier})
        names = [
            estate.store(f"{tenant}-b{k:04d}", [TIER_CLASS[tier]], SERVING, tenant=tenant) for k in range(per_tenant)
        ]
        tenant_stores[tenant] = names
        grants: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in range(roles_per_tenant)]
        planned_jobs: list[tuple[str, int, list[str], list[str]]] = []
        for j in range(jobs_per_tenant):
            k = rng.randrange(len(names) - 1)
            sources = {names[k]} | ({names[rng.randrange(k + 1)]} if rng.random() < 0.5 else set())
            sources |= {names[rng.randrange(k + 1)] for _ in range(fanout - 1)}  # upstream only: no new cycle
            role_index = j % roles_per_tenant
            grants[role_index][0].update(sources)
            grants[role_index][1].add(names[k + 1])
            planned_jobs.append((f"{tenant}-job-{j:05d}", role_index, sorted(sources), [names[k + 1]]))
        role_ids = [
            estate.role(
                f"{tenant}-etl-{r:03d}",
                SERVING,
                [_objects(b) for b in sorted(readable)],
                [_objects(b) for b in sorted(writable)],
                tenant=tenant,
            )
            for r, (readable, writable) in enumerate(grants)
        ]
        estate.role(f"{tenant}-analytics", SERVING, [f"arn:aws:s3:::{tenant}-*"], [], tenant=tenant)
        for job_id, role_index, job_reads, job_writes in planned_jobs:
            estate.job(job_id, role_ids[role_index], job_reads, job_writes, account=SERVING)
        if len(names) >= 3 and rng.random() < 0.2:  # a two-way sync: a cycle inside a tenant
            estate.flows.append({"from": names[-1], "to": names[-2], "note": "bidirectional sync"})
    return tenant_stores


def _plant(
    estate: Estate,
    rng: random.Random,
    tenant_stores: dict[str, list[str]],
    sinks: list[str],
    opt_in: str,
    opt_out: str,
    feedback: str,
) -> None:
    """One leak per graph rule, each to a training sink of its own (so the nearest sink of
    its source is the planted one)."""
    tier_of = {t["id"]: t["tier"] for t in estate.tenants}
    by_tier: dict[str, list[str]] = {}
    for tenant in sorted(tenant_stores):
        by_tier.setdefault(tier_of[tenant], []).append(tenant)

    def leak_sink(name: str) -> str:
        sink = estate.store(f"leak-sink-{name}", ["training"], TRAINING, retention_days=365)
        estate.job(f"train-{name}", "trainer", [sink], [CHECKPOINTS], kind="training")
        trainer = next(p for p in estate.principals if p["id"] == "trainer")
        trainer["policies"][0]["Statement"][0]["Resource"].append(_objects(sink))
        return sink

    def export(name: str, source: str, sink: str, account: str = TRAINING) -> None:
        role = estate.role(f"{name}-role", account, [_objects(source)], [_objects(sink)])
        estate.job(name, role, [source], [sink], account=account)

    api = rng.choice(tenant_stores[by_tier["commercial-api"][0]])
    sink = leak_sink("api")
    export("api-debug-export", api, sink)
    estate.plant("ISO-001", api, sink, "api-debug-export", "commercial API data exported straight into a training set")
    enterprise = rng.choice(tenant_stores[by_tier["enterprise"][-1]])
    sink = leak_sink("enterprise")
    export("enterprise-eval-copy", enterprise, sink)
    estate.plant(
        "ISO-002", enterprise, sink, "enterprise-eval-copy", "enterprise tenant data copied into an eval training set"
    )
    sink = leak_sink("opt-out")
    export("opt-out-backfill", opt_out, sink)
    estate.plant("ISO-003", opt_out, sink, "opt-out-backfill", "opted-out conversations backfilled into training")
    sink = leak_sink("opt-in")
    export("opt-in-shortcut", opt_in, sink)
    estate.plant(
        "ISO-004",
        opt_in,
        sink,
        "opt-in-shortcut",
        "opt-in conversations reach training without consent-filter and pii-scrub",
    )
    sink = leak_sink("feedback")
    export("feedback-shortcut", feedback, sink)
    estate.plant("ISO-005", feedback, sink, "feedback-shortcut", "raw feedback reaches training without de-link")
    scratch = estate.store("scratch-uploads", [], SERVING)
    sink = leak_sink("unclassified")
    export("scratch-import", scratch, sink)
    estate.plant("ISO-007", scratch, sink, "scratch-import", "an unclassified upload bucket feeds a training set")
    first, second = sorted(tenant_stores)[:2]
    source, target = tenant_stores[first][0], tenant_stores[second][-1]
    role = estate.role("cross-tenant-sync-role", SERVING, [_objects(source)], [_objects(target)])
    estate.job("cross-tenant-sync", role, [source], [target], account=SERVING)
    estate.plant(
        "ISO-006", source, target, "cross-tenant-sync", f"a sync job copies {first}'s data into {second}'s bucket"
    )


def _document(scalars: dict[str, Any], lists: dict[str, list[dict[str, Any]]]) -> bytes:
    """A JSON inventory document with one entity per line (readable, diffable, greppable)."""
    parts = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in {"version": 1, **scalars}.items()]
    for key, items in lists.items():
        rows = ",\n".join("    " + json.dumps(item, separators=(", ", ": ")) for item in items)
        parts.append(f"  {json.dumps(key)}: [\n{rows}\n  ]" if items else f"  {json.dumps(key)}: []")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def documents(estate: Estate, organisation: str = "Synthetic Lab") -> dict[str, bytes]:
    """The estate's inventory files (JSON, one entity per line) by name, and ``planted.json``."""
    accounts = [
        {"id": SERVING, "name": "serving", "zone": "serving"},
        {"id": TRAINING, "name": "training", "zone": "training"},
        {"id": CORPORATE, "name": "corporate", "zone": "corporate"},
    ]
    return {
        "org.json": _document({"organisation": organisation}, {"accounts": accounts, "tenants": estate.tenants}),
        "stores.json": _document({}, {"stores": estate.stores}),
        "principals.json": _document({}, {"principals": estate.principals}),
        "jobs.json": _document({}, {"jobs": estate.jobs, "flows": estate.flows}),
        PLANTED: (json.dumps(estate.planted, indent=2) + "\n").encode(),
    }


def write(estate: Estate, out: Path, organisation: str = "Synthetic Lab") -> list[Path]:
    """The estate as inventory files under ``out/inventory`` and ``out/planted.json``."""
    (out / "inventory").mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in documents(estate, organisation).items():
        path = out / name if name == PLANTED else out / "inventory" / name
        path.write_bytes(content)
        written.append(path)
    return written


def emulator_files(out: Path, session_for: Any, endpoint: str) -> dict[str, bytes]:
    """Build the estate written under ``out/inventory`` in the AWS emulator at ``endpoint``
    (buckets, roles and their policies, training jobs: see :mod:`audit.estate`) and return
    what AWS cannot hold: ``overlay.json`` (account zones, tenants, ETL jobs, flows, which id
    names which bucket or role) and ``accounts.json`` (the accounts to audit)."""
    from audit.estate import EstateBuilder
    from audit.sources import load_inventory

    inventory = load_inventory([str(out / "inventory")])
    overlay = EstateBuilder(inventory, session_for, endpoint).build()
    return {
        "overlay.json": (json.dumps(overlay, indent=1) + "\n").encode(),
        "accounts.json": (json.dumps({"accounts": sorted(inventory.accounts)}, indent=2) + "\n").encode(),
    }


def missed(planted: list[dict[str, str]], findings: list[Any]) -> list[dict[str, str]]:
    """The planted violations no finding reports (empty: every one was found)."""
    found = {(f.check, f.path[0].node, f.path[-1].node) for f in findings if f.path}
    return [p for p in planted if (p["check"], p["source"], p["sink"]) not in found]


def found_in_report(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(check, first node, last node) of every finding with a path in a written report.json."""
    return {(f["check"], f["path"][0]["node"], f["path"][-1]["node"]) for f in report["findings"] if f["path"]}


def missed_in_report(planted: list[dict[str, str]], report: dict[str, Any]) -> list[dict[str, str]]:
    """:func:`missed`, from a written report.json."""
    found = found_in_report(report)
    return [p for p in planted if (p["check"], p["source"], p["sink"]) not in found]
