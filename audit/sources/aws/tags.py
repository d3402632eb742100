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
    place (a string, a list of strings, a nested value) raises TypeError saying so, for the
    source to report as a malformed part rather than read as "no tags".
    """
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        if not all(isinstance(v, str | int | float | bool) for v in tags.values()):
            raise TypeError("tags: a tag value that is not a plain value")
        return {str(k): str(v) for k, v in tags.items()}
    if not isinstance(tags, list | tuple):
        raise TypeError(f"tags: expected a mapping or a list of {{Key, Value}}, got {type(tags).__name__}")
    result = {}
    for tag in tags:
        if not isinstance(tag, Mapping):
            raise TypeError(f"tags: an entry that is not a {{Key, Value}} mapping ({type(tag).__name__})")
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value", ""))
        if key is not None:
            if not isinstance(key, str | int) or not isinstance(value, str | int | float | bool):
                raise TypeError("tags: a Key or Value that is not a plain value")
            result[str(key)] = str(value)
    return result


def values(tags: Mapping[str, str], key: str) -> list[str]:
    return [v for v in _SPLIT.split(tags.get(key, "")) if v]
