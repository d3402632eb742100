"""Classification from tags: which tag keys carry data classes, tenants and gates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SPLIT = re.compile(r"[,\s;]+")


@dataclass(frozen=True)
class TagMapping:
    data_class: str = "data-class"
    tenant: str = "tenant"
    gate: str = "gate"
    zone: str = "zone"

    @classmethod
    def parse(cls, text: str) -> TagMapping:
        """``data-class=classification,tenant=customer`` overrides the default keys."""
        values = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            name, _, key = item.partition("=")
            field_name = name.strip().replace("-", "_")
            if field_name not in cls.__dataclass_fields__ or not key.strip():
                raise ValueError(f"'{item}': expected one of data-class=KEY, tenant=KEY, gate=KEY, zone=KEY")
            values[field_name] = key.strip()
        return cls(**values)


def tag_dict(tags: object) -> dict[str, str]:
    """AWS spells tags as [{Key, Value}] (or {key, value}); this gives {key: value}.

    Tags come from sources a user hands us (plans, API responses): anything else in their
    place (a string, a list of strings, a nested mapping) carries no tag and is ignored here.
    """
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items() if isinstance(v, str | int | float | bool)}
    if not isinstance(tags, list | tuple):
        return {}
    result = {}
    for tag in tags:
        if not isinstance(tag, Mapping):
            continue
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value", ""))
        if isinstance(key, str | int) and isinstance(value, str | int | float | bool):
            result[str(key)] = str(value)
    return result


def values(tags: Mapping[str, str], key: str) -> list[str]:
    return [v for v in _SPLIT.split(tags.get(key, "")) if v]
