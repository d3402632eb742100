"""The inventory model, format v1: what an organisation holds, who can touch it, how it flows.

Every source (a described YAML/JSON inventory, the AWS collector, a Terraform plan,
OpenLineage events) produces these objects. Each entity keeps its provenance so a
finding can cite the line, the API call or the plan address it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from audit.labels import fold, folded

Zone = Literal["serving", "training", "corporate", "external", "unknown"]
Tier = Literal["commercial-api", "enterprise", "consumer", "gov", "education"]
StoreKind = Literal["s3-bucket", "s3-prefix", "table", "dataset"]
Encryption = Literal["none", "AES256", "aws:kms", "unknown"]
DataFormat = Literal["parquet", "jsonl", "csv"]
JobKind = Literal["etl", "training", "inference", "export", "analytics", "sync", "erasure"]
PrincipalKind = Literal["role", "user", "group", "service"]


def _account_id(value: object) -> object:
    # YAML reads an unquoted account id as an int and would drop leading zeros.
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:012d}"
    return value


AccountId = Annotated[str, BeforeValidator(_account_id), Field(pattern=r"^\d{12}$")]
Identifier = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\s]+$")]
PolicyDocument = dict[str, Any]


_NO_SCOPES: Mapping[str, str] = MappingProxyType({})  # shared: almost no entity names part of a store


@dataclass(slots=True)
class Provenance:
    """Where a fact came from: ``source`` names the collector, ``location`` the exact place.

    ``fields`` locates individual list entries, e.g. ``{"reads[1]": "inv.yaml:42"}``, so an
    edge derived from one entry cites that entry's line rather than the entity's. (A plain
    dataclass, not frozen: every entity of an estate carries one, and a frozen one costs
    five times as much to make. Treat it as a value; replace it rather than change it.)
    """

    source: str
    location: str
    fields: Mapping[str, str] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # where other sources stated the same entity
    notes: Mapping[str, str] = field(default_factory=dict)  # context for a field (a lineage run: id, state, time)
    # for a list entry that names part of a store (``reads[0]`` resolved from s3://lake/logs/
    # to the bucket lake): that part, so what it moves is known not to be the whole store
    scopes: Mapping[str, str] = field(default_factory=lambda: _NO_SCOPES)

    def at(self, field: str) -> str:
        """Where a field was stated: its line, or (JSON) its JSON pointer, else the entity's."""
        found = self.fields.get(field)
        if found is not None:
            return found
        if "#/" in self.location:  # a JSON document: a pointer names the field exactly
            return f"{self.location}/{_pointer(field)}"
        return self.location


NOTHING: Mapping[str, str] = MappingProxyType({})  # shared by the million provenances that locate no field


def _pointer(field: str) -> str:
    """``policies[0].Statement[2]`` -> ``policies/0/Statement/2``."""
    return field.replace("].", "/").replace("[", "/").replace("]", "").replace(".", "/")


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    provenance: Provenance | None = Field(default=None, exclude=True)


class ScpLevel(BaseModel):
    """The service control policies attached at one level (root, OU, account)."""

    model_config = ConfigDict(extra="forbid")

    target: str
    policies: list[PolicyDocument] = Field(default_factory=list)


class Account(Entity):
    id: AccountId
    name: Identifier
    zone: Zone = "unknown"
    # None: unknown (not collected); []: known to have none (no organisation).
    scps: list[ScpLevel] | None = None


class KmsKey(Entity):
    arn: str = Field(pattern=r"^arn:aws[\w-]*:kms:")
    account: str | None = None
    policy: PolicyDocument | None = None  # None: the key policy could not be read
    rotation_enabled: bool | None = None
    description: str = ""


class DataClass(Entity):
    """A class of data and the commitments attached to it."""

    description: str = ""
    protected: bool = False
    max_retention_days: int | None = Field(default=None, ge=0)
    training_sink: bool = False
    # the gates whose output no longer holds this class (the consent filter drops opted-out
    # records); data of the class that passes any other node keeps it
    removed_by: list[Identifier] = Field(default_factory=list)
    # May hold personal data: it may reach training only through a pii-scrub gate (C6).
    personal_data: bool = False


class Tenant(Entity):
    id: Identifier
    tier: Tier
    name: str = ""
    # How the tenant appears in data (customer ids, org ids, domains): content checks look
    # for these in training data.
    identifiers: list[str] = Field(default_factory=list)


class LifecycleRule(BaseModel):
    """One lifecycle expiration rule: objects under ``prefix`` expire after ``expiration_days``;
    their noncurrent versions (under versioning) after ``noncurrent_days``."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = ""
    expiration_days: int | None = Field(default=None, ge=0)
    noncurrent_days: int | None = Field(default=None, ge=0)


Label = str | bool | int


class ProvenanceVocabulary(BaseModel):
    """How a dataset names where its records came from: its column, and its own labels mapped
    to data classes (labels compare case-folded, with ``-``, ``_`` and spaces alike)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = Field(default=None, min_length=1)
    values: dict[str, Identifier] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_meaning_per_label(self) -> ProvenanceVocabulary:
        meant: dict[str, tuple[str, str]] = {}
        for label, target in self.values.items():
            key = fold(label)
            if not key:
                raise ValueError(f"label {label!r} is empty once folded: name a label the dataset uses")
            if key in meant and meant[key][1] != target:
                raise ValueError(
                    f"labels {meant[key][0]!r} and {label!r} are the same label once case and separators are "
                    f"folded, but map to {meant[key][1]!r} and {target!r}: keep one"
                )
            meant[key] = (label, target)
        return self


class ConsentVocabulary(BaseModel):
    """How a dataset records consumer consent: its column, and which of its values mean opted in
    and opted out (added to the suite's; compared like provenance labels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = Field(default=None, min_length=1)
    opted_in: list[Label] = Field(default_factory=list)
    opted_out: list[Label] = Field(default_factory=list)

    @model_validator(mode="after")
    def _in_or_out(self) -> ConsentVocabulary:
        both = sorted(folded(self.opted_in) & folded(self.opted_out))
        if both:
            raise ValueError(f"{', '.join(both)} cannot mean both opted in and opted out: keep it in one list")
        return self


class Vocabulary(BaseModel):
    """A dataset's own vocabulary for the content checks (DAT-002, DAT-005)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provenance: ProvenanceVocabulary | None = None
    consent: ConsentVocabulary | None = None


class Store(Entity):
    id: Identifier
    kind: StoreKind | None = None  # inferred from the ARN or location when not given
    account: str | None = None
    arn: str | None = None
    classes: list[Identifier] = Field(default_factory=list)
    tenant: Identifier | None = None
    encryption: Encryption | None = None
    kms_key: str | None = None
    public_access_blocked: bool | None = None
    public_acl: bool | None = None
    tls_only: bool | None = None
    access_logging: bool | None = None
    versioning: bool | None = None
    retention_days: int | None = Field(default=None, ge=0)
    noncurrent_retention_days: int | None = Field(default=None, ge=0)
    lifecycle: list[LifecycleRule] = Field(default_factory=list)
    # the bucket policy: a document, "none" (there is none), or None (not stated: unknown)
    policy: PolicyDocument | Literal["none"] | None = None
    location: str | None = None
    format: DataFormat | None = None
    canaries: list[str] = Field(default_factory=list)
    vocabulary: Vocabulary | None = None  # how its records name provenance and consent
    passed_gates: list[Identifier] = Field(default_factory=list)
    replicates_to: list[Identifier] = Field(default_factory=list)
    description: str = ""


class Principal(Entity):
    id: Identifier
    kind: PrincipalKind = "role"
    arn: str | None = None
    account: str | None = None
    trusts: list[str] = Field(default_factory=list)
    trust_policy: PolicyDocument | None = None
    policies: list[PolicyDocument] = Field(default_factory=list)
    permission_boundary: PolicyDocument | None = None
    can_read: list[Identifier] = Field(default_factory=list)
    can_write: list[Identifier] = Field(default_factory=list)
    tenant: Identifier | None = None
    gate: list[Identifier] = Field(default_factory=list)
    last_used: date | None = None  # when the principal last acted (IAM RoleLastUsed)
    description: str = ""


class Job(Entity):
    id: Identifier
    kind: JobKind = "etl"
    runs_as: Identifier | None = None
    account: str | None = None
    reads: list[Identifier] = Field(default_factory=list)
    writes: list[Identifier] = Field(default_factory=list)
    gate: list[Identifier] = Field(default_factory=list)
    description: str = ""


class Flow(Entity):
    source: Identifier = Field(alias="from")
    to: Identifier
    note: str = ""


class InventoryDocument(BaseModel):
    """One inventory file as written by an auditor (or produced by a collector)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    organisation: str | None = None
    accounts: list[Account] = Field(default_factory=list)
    data_classes: dict[Identifier, DataClass] = Field(default_factory=dict)
    gate_kinds: list[Identifier] = Field(default_factory=list)
    kms_keys: list[KmsKey] = Field(default_factory=list)
    tenants: list[Tenant] = Field(default_factory=list)
    stores: list[Store] = Field(default_factory=list)
    principals: list[Principal] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
