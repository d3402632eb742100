"""Typed errors that carry a user-facing message, a hint and an exit code.

The library raises these; only the CLI turns them into output and an exit status.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_INCOMPLETE = 3
# An unexpected internal error (a bug): EX_SOFTWARE from sysexits.h, so that CI can tell it
# from findings (1) and from bad input (2).
EXIT_INTERNAL = 70


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class AuditError(Exception):
    """Base class: a message for the user, a hint on what to do, and the exit code."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(AuditError):
    """The command line asks for something that cannot be done."""


class InputError(AuditError):
    """One or more inputs are invalid; every problem found is reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in the input", "fix them and run the command again")
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))
