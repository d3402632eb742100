"""Resolving references to stores: by id (or a merged-away id), or by S3 location, to the
most specific store holding it; a location no source describes becomes a stub store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from audit.inventory import Inventory
from audit.locations import s3_identity
from audit.model import Entity, Provenance, Store


class StoreReferences:
    """Resolves references to stores: by id (or a merged-away id), or by S3 location.

    ``s3://bucket/path/file`` resolves to the most specific store holding that path. A
    location no store holds becomes a stub store for its bucket: unclassified, so a path
    from it to training is reported (ISO-007) rather than lost.
    """

    def __init__(self, inventory: Inventory, aliases: dict[str, str]) -> None:
        self.inventory = inventory
        self.aliases = aliases
        self.by_location: dict[str, str] = {}
        for store in inventory.stores.values():
            location = s3_identity(store.arn, store.location)
            if location is not None:
                self.by_location.setdefault(location, store.id)

    def resolve_all(self, references: Iterable[str], referrer: Entity, field_name: str = "") -> list[str]:
        """Every reference resolved; two that name one store become one entry (the first
        keeps its cited location)."""
        aliases = self.aliases
        resolved = references if isinstance(references, list) else list(references)
        for reference in resolved:
            if aliases.get(reference) != reference:
                given = resolved
                resolved = [self.resolve(r, referrer) for r in resolved]
                self._record_scopes(given, resolved, referrer, field_name)
                break
        else:  # the usual case: merged ids already, each once (the list itself is kept)
            if len(resolved) < 2 or len(set(resolved)) == len(resolved):
                return resolved
        unique = list(dict.fromkeys(resolved))
        if len(unique) < len(resolved) and field_name and referrer.provenance is not None:
            first = {store: resolved.index(store) for store in unique}
            provenance = referrer.provenance
            moved = {f"{field_name}[{new}]": f"{field_name}[{first[store]}]" for new, store in enumerate(unique)}
            fields = {k: v for k, v in provenance.fields.items() if not k.startswith(f"{field_name}[")}
            notes = {k: v for k, v in provenance.notes.items() if not k.startswith(f"{field_name}[")}
            for new, old in moved.items():
                if old in provenance.fields:
                    fields[new] = provenance.fields[old]
                if old in provenance.notes:
                    notes[new] = provenance.notes[old]
            referrer.provenance = replace(provenance, fields=fields, notes=notes)
        return unique

    def scope(self, reference: str, store_id: str) -> str | None:
        """Where inside the store a reference points, when that is only part of it
        (``s3://lake/logs/`` resolved to the bucket ``lake``); None for the whole store."""
        if not reference.startswith(("s3://", "s3a://", "s3n://", "arn:aws:s3")):
            return None
        location = s3_identity(reference if reference.startswith("arn:") else None, reference)
        store = self.inventory.stores.get(store_id)
        own = s3_identity(store.arn, store.location) if store is not None else None
        if location is None or own is None or location == own or not location.startswith(own):
            return None
        return location

    def _record_scopes(self, given: list[str], resolved: list[str], referrer: Entity, field_name: str) -> None:
        """Note on the referrer's provenance the part of each store its entries name
        (``scopes``: by the entry of the resolved, deduplicated list). Two entries naming
        one store keep a part only if both name that same part."""
        if not field_name or referrer.provenance is None:
            return
        known = referrer.provenance.scopes  # a source may have named the part itself (a filtered rule)
        parts: dict[str, set[str | None]] = {}
        for index, (reference, store_id) in enumerate(zip(given, resolved, strict=True)):
            part = self.scope(reference, store_id) or known.get(f"{field_name}[{index}]")
            parts.setdefault(store_id, set()).add(part)
        unique = list(dict.fromkeys(resolved))
        scopes = {k: v for k, v in known.items() if not k.startswith(f"{field_name}[")}
        for index, store_id in enumerate(unique):
            (part, *more) = parts[store_id]
            if part is not None and not more:
                scopes[f"{field_name}[{index}]"] = part
        referrer.provenance = replace(referrer.provenance, scopes=scopes)

    def resolve(self, reference: str, referrer: Entity) -> str:
        if reference in self.aliases:
            return self.aliases[reference]
        if reference in self.inventory.stores or not reference.startswith(("s3://", "s3a://", "s3n://", "arn:aws:s3")):
            return reference
        location = s3_identity(reference if reference.startswith("arn:") else None, reference)
        if location is None:
            return reference
        probe = location
        while probe.count("/") >= 3:
            if probe in self.by_location:
                return self.by_location[probe]
            probe = probe.rstrip("/").rsplit("/", 1)[0] + "/"
        return self._stub(location.split("/")[2], referrer)

    def _stub(self, bucket: str, referrer: Entity) -> str:
        store_id = bucket if bucket not in self.inventory.stores else f"s3://{bucket}/"
        source = referrer.provenance.source if referrer.provenance else "inventory"
        where = referrer.provenance.location if referrer.provenance else "(input)"
        stub = Store(
            id=store_id,
            kind="s3-bucket",
            arn=f"arn:aws:s3:::{bucket}",
            description=f"not described by any source; referenced at {where}",
        )
        stub.provenance = Provenance(source=source, location=where)
        self.inventory.stores[store_id] = stub
        self.by_location[f"s3://{bucket}/"] = store_id
        return store_id
