"""Generated datasets for the content checks: a small AI lab whose client data, consumer
data and training data are real files (JSON Lines, gzip, CSV, Parquet), clean or with
planted leaks.

    python -m tests.support.datasets fixtures/content-org      # the bundled clean example

Every value comes from a seeded generator, so the same call writes the same records.
Leaks (``build(root, leaks={...})``) are planted into the training data:

- ``api-copy``       an API prompt copied verbatim into sft-chats
- ``acme-recased``   an Acme document re-cased and re-spaced into pretrain-mix
- ``opt-out-record`` an opted-out consumer conversation into sft-chats
- ``canary``         the canary planted in api-logs, inside a pretrain-mix document
- ``pii``            an email address and a Luhn-valid card number in sft-chats
- ``identifier``     Acme's customer id in a pretrain-mix document
- ``provenance``     a pretrain-mix record sourced from commercial-api, and one with no source
- ``consent``        consumer records in sft-chats with opt-out and with no consent flag
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LEAKS = frozenset(
    {"api-copy", "acme-recased", "opt-out-record", "canary", "pii", "identifier", "provenance", "consent"}
)
CANARY = "CANARY-7f3a9c21"
ACME_CUSTOMER_ID = "ACME-4471"
NEAR_MISS_CARD = "4111 1111 1111 1112"  # 16 digits, wrong check digit: not a card number

WORDS = [
    "model",
    "token",
    "request",
    "latency",
    "cluster",
    "region",
    "invoice",
    "quarterly",
    "forecast",
    "shipment",
    "warehouse",
    "contract",
    "renewal",
    "migration",
    "schema",
    "pipeline",
    "dashboard",
    "budget",
    "hiring",
    "roadmap",
    "incident",
    "review",
    "customer",
    "onboarding",
    "retention",
    "pricing",
    "margin",
    "supplier",
    "audit",
    "compliance",
    "policy",
    "encryption",
    "backup",
    "replica",
    "archive",
    "vendor",
    "partner",
    "release",
    "sprint",
    "feature",
    "rollout",
    "experiment",
    "metric",
]

INVENTORY = """\
# A small AI lab whose data is on disk: the content checks read it.
# Run: tenant-audit run fixtures/content-org --suite content --out audit-out
version: 1
organisation: Content Lab
accounts:
  - {id: "111111111111", name: serving, zone: serving}
  - {id: "222222222222", name: training, zone: training}
data_classes:
  commercial-api: {protected: true, max_retention_days: 30}
  consumer-opt-out: {protected: true, max_retention_days: 30}
tenants:
  - {id: acme-corp, tier: enterprise, name: Acme Corporation, identifiers: [ACME-4471]}
  - {id: globex, tier: enterprise, name: Globex Health, identifiers: [GLX-20931]}
  - {id: initech, tier: commercial-api, identifiers: [cust-initech-0042]}
stores:
  - id: api-logs
    kind: dataset
    account: serving
    classes: [commercial-api]
    location: data/api-logs/
    canaries: [CANARY-7f3a9c21]
  - id: acme-workspace
    kind: dataset
    account: serving
    classes: [enterprise]
    tenant: acme-corp
    location: data/acme-workspace/documents.csv
  - id: globex-workspace
    kind: dataset
    account: serving
    classes: [enterprise]
    tenant: globex
    location: data/globex-workspace/notes.parquet
  - id: consumer-chats-opt-out
    kind: dataset
    account: serving
    classes: [consumer-opt-out]
    location: data/consumer-chats-opt-out.jsonl
  - id: sft-chats
    kind: dataset
    account: training
    classes: [training]
    location: data/sft-chats/
  - id: pretrain-mix
    kind: dataset
    account: training
    classes: [training]
    location: data/pretrain-mix/
jobs:
  - {id: mix-builder, account: training, reads: [], writes: [pretrain-mix]}
  - {id: sft-builder, account: training, reads: [], writes: [sft-chats]}
"""


def sentence(rng: random.Random, words: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _parquet(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), path, compression="snappy")


def _csv(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode("utf-8")


def records(rows: int = 200, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """The clean records of every store."""
    rng = random.Random(seed)
    api = [
        {
            "request_id": f"req-{i:05d}",
            "customer_id": rng.choice(["cust-initech-0042", "cust-hooli-0007", "cust-umbrella-0913"]),
            "prompt": sentence(rng, 16),
            "completion": sentence(rng, 20),
            "latency_ms": rng.randint(80, 900),
        }
        for i in range(rows)
    ]
    api[17]["prompt"] = f"Summarise the quarterly forecast for {CANARY} and the renewal pipeline."
    acme = [{"doc_id": f"acme-{i:04d}", "title": sentence(rng, 4), "body": sentence(rng, 18)} for i in range(rows // 2)]
    globex = [{"record_id": i, "note": sentence(rng, 15), "flagged": i % 7 == 0} for i in range(rows // 2)]
    opt_out = [
        {"user_id": f"u-{i:05d}", "text": sentence(rng, 15), "source": "consumer-opt-out"} for i in range(rows // 2)
    ]
    sft = [
        {"text": sentence(rng, 16), "source": "consumer-opt-in", "consent": "opt-in", "turns": rng.randint(1, 9)}
        for i in range(rows)
    ]
    sft[5]["text"] = f"Order reference {NEAR_MISS_CARD} was delayed; the shipment moved to the next sprint."
    pretrain = [
        {"text": sentence(rng, 24), "source": rng.choice(["public-web", "licensed", "synthetic"]), "quality": 0.5}
        for i in range(rows * 2)
    ]
    return {
        "api-logs": api,
        "acme-workspace": acme,
        "globex-workspace": globex,
        "consumer-chats-opt-out": opt_out,
        "sft-chats": sft,
        "pretrain-mix": pretrain,
    }


def plant(data: dict[str, list[dict[str, Any]]], leaks: Iterable[str]) -> None:
    """Put the chosen leaks into the training records (in place)."""
    sft, pretrain = data["sft-chats"], data["pretrain-mix"]
    chosen = set(leaks)
    unknown = chosen - LEAKS
    if unknown:
        raise ValueError(f"unknown leaks: {sorted(unknown)}")
    if "api-copy" in chosen:
        sft[40]["text"] = data["api-logs"][3]["prompt"]
    if "acme-recased" in chosen:
        body = data["acme-workspace"][9]["body"]
        pretrain[123]["text"] = "  " + body.upper().replace(" ", "   \t") + "\n"
    if "opt-out-record" in chosen:
        sft[77]["text"] = data["consumer-chats-opt-out"][12]["text"]
    if "canary" in chosen:
        pretrain[301]["text"] = f"Notes from the review: {CANARY.lower()} appears in the renewal summary."
    if "pii" in chosen:
        sft[60]["text"] = "Please contact jane.doe@example.com about the invoice before the audit."
        sft[61]["text"] = "Card 4539 1488 0343 6467 was charged twice for the quarterly invoice."
    if "identifier" in chosen:
        pretrain[222]["text"] = f"Escalation for customer {ACME_CUSTOMER_ID}: the migration slipped a quarter."
    if "provenance" in chosen:
        pretrain[10]["source"] = "commercial-api"
        pretrain[11]["source"] = None
    if "consent" in chosen:
        sft[90]["consent"] = "opt-out"
        sft[91]["consent"] = None


def build(
    root: Path,
    leaks: Iterable[str] = (),
    rows: int = 200,
    edit: Callable[[dict[str, list[dict[str, Any]]]], None] | None = None,
) -> Path:
    """Write the inventory and the data under ``root``; returns the inventory file. ``edit``
    changes the records (in place) before they are written."""
    data = records(rows)
    plant(data, leaks)
    if edit is not None:
        edit(data)
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    api = data["api-logs"]
    half = len(api) // 2
    _write(root / "data/api-logs/2026-11-01.jsonl.gz", gzip.compress(_jsonl(api[:half]), mtime=0))
    _write(root / "data/api-logs/2026-11-02.jsonl.gz", gzip.compress(_jsonl(api[half:]), mtime=0))
    _write(root / "data/acme-workspace/documents.csv", _csv(data["acme-workspace"]))
    _parquet(root / "data/globex-workspace/notes.parquet", data["globex-workspace"])
    _write(root / "data/consumer-chats-opt-out.jsonl", _jsonl(data["consumer-chats-opt-out"]))
    _write(root / "data/sft-chats/part-0000.jsonl", _jsonl(data["sft-chats"]))
    pretrain = data["pretrain-mix"]
    middle = len(pretrain) // 2
    _parquet(root / "data/pretrain-mix/part-0000.parquet", pretrain[:middle])
    _parquet(root / "data/pretrain-mix/part-0001.parquet", pretrain[middle:])
    return root / "inventory.yaml"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures/content-org")
    print(build(target))
