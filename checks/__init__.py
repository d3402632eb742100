"""The built-in checks and the registry that also admits third-party checks.

Third-party packages expose a sequence of :class:`audit.checkapi.Check` under the entry
point group ``tenant_audit.checks``; a built-in check wins an id clash, with a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from audit.checkapi import Check, matching
from checks import (
    access,
    content,
    encryption,
    erasure,
    exposure,
    isolation,
    personal,
    provenance,
    retention,
    separation,
)

ENTRY_POINT_GROUP = "tenant_audit.checks"
SUITES_DIR = Path(__file__).parent / "suites"
MAPPINGS_DIR = Path(__file__).parent / "mappings"  # claims to framework controls (audit.compliance)
BUILTIN_MODULES = (
    isolation,
    personal,
    retention,
    encryption,
    exposure,
    separation,
    access,
    erasure,
    content,
    provenance,
)


@dataclass
class Registry:
    checks: dict[str, Check] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def register(self, check: Check, origin: str) -> None:
        if check.id in self.checks:
            self.warnings.append(f"check {check.id} from {origin} ignored: {self.origins[check.id]} already defines it")
            return
        self.checks[check.id] = check
        self.origins[check.id] = origin

    def matching(self, pattern: str) -> list[Check]:
        return matching(self.checks, pattern)


def builtin_checks() -> Sequence[Check]:
    return tuple(check for module in BUILTIN_MODULES for check in module.CHECKS)


def load_registry(*, plugins: bool = True, extra: Iterable[Check] = ()) -> Registry:
    registry = Registry()
    for check in builtin_checks():
        registry.register(check, "built-in")
    for check in extra:
        registry.register(check, "caller")
    if plugins:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
                for check in loaded:
                    if not isinstance(check, Check):
                        raise TypeError(f"{check!r} is not an audit.checkapi.Check")
                    registry.register(check, f"plugin {point.name} ({point.value})")
            except Exception as exc:  # a broken plugin must not stop the audit
                registry.warnings.append(f"plugin {point.name} ({point.value}) not loaded: {exc}")
    return registry
