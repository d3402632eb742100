"""Calling AWS without ever crashing the audit or passing silently: every failure of a
call becomes a coverage gap with its reason; "not configured" answers are facts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit.coverage import CoverageGap
from audit.sources.aws.session import ReadOnlyViolation

log = logging.getLogger(__name__)


class _Missing:
    """The thing asked for is not configured (no bucket policy, no lifecycle...)."""

    def __repr__(self) -> str:
        return "MISSING"


class _Failed:
    """The call failed; a coverage gap was recorded."""

    def __repr__(self) -> str:
        return "FAILED"


MISSING = _Missing()
FAILED = _Failed()


@dataclass
class Fetcher:
    account: str
    gaps: list[CoverageGap] = field(default_factory=list)
    calls: int = 0

    def call(
        self,
        scope: str,
        what: str,
        function: Callable[..., Any],
        *args: Any,
        missing: Iterable[str] = (),
        checks: tuple[str, ...] = ("*",),
        **kwargs: Any,
    ) -> Any:
        """``function(*args, **kwargs)``, or MISSING / FAILED (with a gap) instead of raising."""
        self.calls += 1
        try:
            return function(*args, **kwargs)
        except ReadOnlyViolation:
            raise
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            if code in set(missing):
                return MISSING
            message = str(error.get("Message", "")).strip()
            reason = f"{what} failed in account {self.account}: {code}" + (f" ({message})" if message else "")
        except BotoCoreError as exc:
            reason = f"{what} failed in account {self.account}: {type(exc).__name__}: {exc}"
        log.debug("%s: %s", scope, reason, exc_info=True)
        self.gaps.append(CoverageGap(scope=scope, reason=reason, checks=checks))
        return FAILED

    def pages(
        self, scope: str, what: str, paginator: Any, key: str, checks: tuple[str, ...] = ("*",), **kwargs: Any
    ) -> Any:
        """Every item of a paginated listing, or FAILED (with a gap)."""

        def collect() -> list[Any]:
            items: list[Any] = []
            for page in paginator.paginate(**kwargs):
                items.extend(page.get(key, []))
            return items

        return self.call(scope, what, collect, checks=checks)
