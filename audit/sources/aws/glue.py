"""Glue Data Catalog tables: each table with an S3 location is a store."""

from __future__ import annotations

from typing import Any

from audit.model import Provenance, Store
from audit.sources.aws.fetch import FAILED, Fetcher
from audit.sources.aws.tags import TagMapping, values


def get_tables(fetcher: Fetcher, glue: Any) -> list[dict[str, Any]] | Any:
    scope = f"account:{fetcher.account}"
    databases = fetcher.pages(scope, "glue:GetDatabases", glue.get_paginator("get_databases"), "DatabaseList")
    if databases is FAILED:
        return FAILED
    tables: list[dict[str, Any]] = []
    for database in databases:
        found = fetcher.pages(
            scope,
            f"glue:GetTables {database['Name']}",
            glue.get_paginator("get_tables"),
            "TableList",
            DatabaseName=database["Name"],
        )
        if found is not FAILED:
            tables.extend(found)
    return tables


def transform_table(raw: dict[str, Any], account: str, region: str, mapping: TagMapping) -> Store | None:
    location = raw.get("StorageDescriptor", {}).get("Location")
    if not location:
        return None
    database, name = raw.get("DatabaseName", "default"), raw["Name"]
    parameters = {str(k): str(v) for k, v in (raw.get("Parameters") or {}).items()}
    fields: dict[str, Any] = {
        "id": f"{database}.{name}",
        "kind": "table",
        "arn": f"arn:aws:glue:{region}:{account}:table/{database}/{name}",
        "location": location if location.endswith("/") else location + "/",
        "account": account,
    }
    if values(parameters, mapping.data_class):
        fields["classes"] = values(parameters, mapping.data_class)
    if values(parameters, mapping.tenant):
        fields["tenant"] = values(parameters, mapping.tenant)[0]
    store = Store(**fields)
    store.provenance = Provenance(source="aws", location=f"aws:{account}:glue:GetTables {database}.{name}")
    return store
