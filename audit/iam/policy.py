"""IAM policy documents parsed into statements we can evaluate.

Parsing is strict about structure (a malformed policy is a coverage gap, never ignored)
and lenient where AWS is (a single string where a list is allowed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal
from urllib.parse import unquote

from audit.iam.glob import covers, intersects, matches, shape, substitute_variables

Effect = Literal["Allow", "Deny"]


class PolicyError(ValueError):
    """A policy document that cannot be read as IAM JSON."""


@dataclass(frozen=True)
class PrincipalSpec:
    """The Principal / NotPrincipal element of a resource-based or trust policy."""

    everyone: bool = False  # "*" or {"AWS": "*"}
    aws: frozenset[str] = frozenset()  # ARNs and bare account ids
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()


# Identity semantics: the same statement is cited once. Not frozen, only by convention
# immutable: a frozen dataclass's __init__ costs three times as much, for 10^5 statements.
@dataclass(eq=False)
class Statement:
    effect: Effect
    actions: tuple[str, ...] | None  # None when NotAction is used
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    condition: Mapping[str, Any] | None
    raw: Mapping[str, Any]
    location: str
    sid: str = ""

    @property
    def conditional(self) -> bool:
        return bool(self.condition)

    # Patterns with policy variables substituted, and answers per action: computed once per
    # statement, since one statement is evaluated against many stores.
    @property
    def _wide(self) -> tuple[str, ...]:
        # cached by hand: functools.cached_property takes a lock on every first use, and a
        # large estate has 10^5 statements each used once or twice
        found: tuple[str, ...] | None = self.__dict__.get("_wide_patterns")
        if found is None:
            resources = self.resources or ()
            if "$" in "".join(resources):
                found = tuple(substitute_variables(p, widen=True) for p in resources)
            else:  # no policy variable (the usual statement): the patterns as they are
                found = resources
            self.__dict__["_wide_patterns"] = found
        return found

    @property
    def wide_resources(self) -> tuple[str, ...]:
        """The Resource patterns with policy variables widened to ``*``."""
        return self._wide

    @cached_property
    def _narrow(self) -> tuple[str, ...]:
        return tuple(substitute_variables(p, widen=False) for p in self.resources or ())

    @cached_property
    def _not_wide(self) -> tuple[str, ...]:
        return tuple(substitute_variables(p, widen=True) for p in self.not_resources or ())

    @cached_property
    def _not_narrow(self) -> tuple[str, ...]:
        return tuple(substitute_variables(p, widen=False) for p in self.not_resources or ())

    _actions_seen: dict[str | tuple[str, ...], bool] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def applies_to_action(self, action: str) -> bool:
        known = self._actions_seen.get(action)
        if known is None:
            known = self._actions_seen[action] = _applies(self.actions, self.not_actions, action)
        return known

    def applies_to_any(self, actions: tuple[str, ...]) -> bool:
        """Does the statement apply to at least one of these actions? (answered once)"""
        known = self._actions_seen.get(actions)
        if known is None:
            known = self._actions_seen[actions] = any(self.applies_to_action(a) for a in actions)
        return known

    def may_apply_to(self, resource: Resource) -> bool:
        """Could this statement apply to some part of the resource? (used for Allow)"""
        if self.resources is not None:
            return any(resource.intersects(p) for p in self._wide)
        # NotResource: applies unless the excluded patterns certainly cover the resource
        return not any(resource.covered_by(p) for p in self._not_narrow)

    def surely_applies_to(self, resource: Resource) -> bool:
        """Does this statement apply to all of the resource? (used for Deny)"""
        if self.resources is not None:
            return any(resource.covered_by(p) for p in self._narrow)
        return not any(resource.intersects(p) for p in self._not_wide)


@lru_cache(maxsize=65536)
def _applies(actions: tuple[str, ...] | None, not_actions: tuple[str, ...] | None, action: str) -> bool:
    """Does an Action (or NotAction) list apply to the action? Shared by every statement
    with the same list: an estate's policies repeat a few action lists 10^5 times."""
    if actions is not None:
        return any(matches(p, action, ignore_case=True) for p in actions)
    return not any(matches(p, action, ignore_case=True) for p in not_actions or ())


@dataclass(frozen=True)
class Resource:
    """What a request touches: one ARN, or every ARN under a prefix (a store's objects).

    ``carved_out`` lists prefixes inside this one that are stores of their own (a tenant's
    prefix in a shared bucket): a grant confined to one of them does not reach the rest.
    """

    arn: str
    is_prefix: bool = False
    carved_out: tuple[str, ...] = ()

    def intersects(self, pattern: str) -> bool:
        if not self.is_prefix:
            return matches(pattern, self.arn)
        if self.carved_out and shape(pattern)[0].startswith(self.carved_out):
            return False  # every match of the pattern lies inside a carved-out store
        return intersects(pattern, self.arn)

    def covered_by(self, pattern: str) -> bool:
        return covers(pattern, self.arn) if self.is_prefix else matches(pattern, self.arn)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    location: str
    name: str = ""


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{where} must be a string or a list of strings")


_SPECS: dict[tuple[tuple[str, str | tuple[str, ...]], ...], PrincipalSpec] = {}  # shared: they are frozen


def _principal(value: Any, where: str) -> PrincipalSpec:
    """The Principal element read; each distinct one is read once (an estate's trust
    policies name the same few services and accounts 10^5 times)."""
    if isinstance(value, dict):
        try:
            key = tuple((k, v if isinstance(v, str) else tuple(v)) for k, v in value.items())
            found = _SPECS.get(key)
        except TypeError:  # an unhashable value (a list in a list): read it, to say what is wrong
            return _read_principal(value, where)
        if found is None:
            found = _read_principal(value, where)
            if len(_SPECS) < 65536:
                _SPECS[key] = found
        return found
    return _read_principal(value, where)


def _read_principal(value: Any, where: str) -> PrincipalSpec:
    if value == "*":
        return PrincipalSpec(everyone=True)
    if not isinstance(value, Mapping):
        raise PolicyError(f'{where} must be "*" or a mapping of AWS/Service/Federated')
    unknown = set(value) - {"AWS", "Service", "Federated", "CanonicalUser"}
    if unknown:
        raise PolicyError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    aws = _strings(value.get("AWS", []), f"{where}.AWS")
    return PrincipalSpec(
        everyone="*" in aws,
        aws=frozenset(a for a in aws if a != "*"),
        services=frozenset(_strings(value.get("Service", []), f"{where}.Service")),
        federated=frozenset(_strings(value.get("Federated", []), f"{where}.Federated")),
    )


def parse_statement(raw: Any, location: str) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError("a statement must be a mapping")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Effect must be Allow or Deny, not {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError("a statement needs exactly one of Action and NotAction")
    has_resource = "Resource" in raw or "NotResource" in raw
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError("a statement cannot have both Resource and NotResource")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError("a statement cannot have both Principal and NotPrincipal")
    condition = raw.get("Condition")
    if condition is not None and not isinstance(condition, Mapping):
        raise PolicyError("Condition must be a mapping")
    return Statement(
        effect=effect,
        actions=_strings(raw["Action"], "Action") if "Action" in raw else None,
        not_actions=_strings(raw["NotAction"], "NotAction") if "NotAction" in raw else None,
        # Trust policies have no Resource: the role itself is the resource.
        resources=_strings(raw["Resource"], "Resource") if "Resource" in raw else (None if has_resource else ("*",)),
        not_resources=_strings(raw["NotResource"], "NotResource") if "NotResource" in raw else None,
        principal=_principal(raw["Principal"], "Principal") if "Principal" in raw else None,
        not_principal=_principal(raw["NotPrincipal"], "NotPrincipal") if "NotPrincipal" in raw else None,
        condition=condition or None,
        raw=dict(raw),
        location=location,
        sid=str(raw.get("Sid", "")),
    )


def parse_policy(
    document: Any, location: str, name: str = "", statement_location: Callable[[int], str] | None = None
) -> Policy:
    """Parse one policy document; raise PolicyError with what is wrong.

    ``statement_location(i)`` says where statement i was stated (a file line, an API call);
    by default it is the document's location with the statement's index.
    """
    if isinstance(document, str):
        try:
            document = json.loads(unquote(document) if document.lstrip().startswith("%7B") else document)
        except ValueError as exc:
            raise PolicyError(f"not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise PolicyError("a policy document must be a mapping")
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("Statement must be a list or a mapping")
    parsed = []
    for index, raw in enumerate(statements):
        try:
            where = statement_location(index) if statement_location else f"{location} Statement[{index}]"
            parsed.append(parse_statement(raw, where))
        except PolicyError as exc:
            raise PolicyError(f"Statement[{index}]: {exc}") from None
    return Policy(tuple(parsed), location, name)
