"""What every verb shares: consoles, error handling, the command group, live-source
options, atomic writing of outputs."""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import os
import shlex
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.text import Text

import audit
from audit.errors import EXIT_INTERNAL, AuditError, UsageError

if TYPE_CHECKING:
    from audit.sources import SourceOptions
    from audit.waivers import Waiver

P = ParamSpec("P")
R = TypeVar("R")

FAIL_ON = ("critical", "high", "medium", "low", "none")
# The report formats, named here so that help text needs no renderer imported (a test holds it to reports.RENDERERS).
FORMATS = ("html", "json", "md", "sarif", "junit", "pdf")


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def fail(error: AuditError) -> NoReturn:
    console = stderr()
    console.print(Text.assemble(("error:", "bold red"), " ", error.message))  # the message is never markup
    for problem in getattr(error, "problems", []):
        console.print(f"  {problem}", markup=False)
    if error.hint:
        console.print(f"  hint: {error.hint}", markup=False)
    sys.exit(error.exit_code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Library errors become a message and an exit code; never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AuditError as error:
            fail(error)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:  # a bug: its own exit code, the traceback only under --debug
            internal_error(error)

    return wrapper


def internal_error(error: BaseException) -> NoReturn:
    """An unexpected error: one line and exit code 70; the traceback only under ``--debug``."""
    console = stderr()
    context = click.get_current_context(silent=True)
    debug = bool(context and context.find_root().params.get("debug"))
    if debug:
        console.print("".join(traceback.format_exception(error)), markup=False, highlight=False)
    detail = (str(error).strip().splitlines() or [""])[0][:300]
    console.print(
        Text.assemble(
            ("internal error:", "bold red"),
            f" {type(error).__name__}{': ' + detail if detail else ''}"
            + ("" if debug else " (a bug in tenant-audit: run again with --debug for the traceback and report it)"),
        )
    )
    sys.exit(EXIT_INTERNAL)


class AuditGroup(click.Group):
    """The command group; it keeps the arguments it was invoked with, for the evidence record."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        context = super().make_context(info_name, list(args), parent=parent, **extra)
        context.meta["tenant_audit.argv"] = list(args)
        return context


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(audit.__version__, prog_name="tenant-audit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail (tracebacks of failed checks) to stderr.")
@click.option("--debug", is_flag=True, help="On an internal error (exit 70), print its traceback.")
def main(verbose: bool, debug: bool) -> None:
    """Audit tenant data isolation: prove client data never reaches training, or find the path that does."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


def program() -> NoReturn:
    """The ``tenant-audit`` command: :func:`main`, then a hard exit.

    The command is one short-lived process, so it runs without cyclic garbage collection:
    once an audit has built millions of objects, every collection (while the reports are
    rendered too) would scan them all again, for garbage reference counting already frees.
    And once the verb has written its outputs and chosen its exit code, what is left is
    freeing those objects one by one: seconds for nothing. So the exit handlers run (logging
    is flushed, temporary directories removed), the standard streams are flushed, and the
    process ends without that teardown.
    """
    from audit.engine import keep_until_exit

    gc.disable()
    keep_until_exit()
    try:
        main.main(prog_name="tenant-audit")
        code: int = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:  # sys.exit("message"), as Python prints it
            print(stop.code, file=sys.stderr)
            code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe: nothing left to tell
            stream.flush()
    os._exit(code)


def source_options(command: Callable[P, R]) -> Callable[P, R]:
    """Options for live sources (``aws``, ``aws:PROFILE``), shared by every verb that loads."""
    decorators = [
        click.option(
            "--assume-role",
            metavar="ROLE_NAME",
            help="Enter each account of --accounts through this role (read-only calls only).",
        ),
        click.option(
            "--accounts",
            "accounts_file",
            type=click.Path(dir_okay=False),
            help="YAML list of account ids to audit with --assume-role.",
        ),
        click.option(
            "--tag-keys",
            default="",
            metavar="data-class=KEY,tenant=KEY,gate=KEY,zone=KEY",
            help="Tag keys that carry classification (defaults: data-class, tenant, gate, zone).",
        ),
        click.option("--region", help="AWS region for regional APIs (default: the profile's, else us-east-1)."),
        click.option(
            "--since", metavar="DATE", help="Use lineage events from this date or time on (ISO 8601): the audit period."
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def build_source_options(
    assume_role: str | None,
    accounts_file: str | None,
    tag_keys: str,
    region: str | None,
    progress: RichProgress | None = None,
    since: str | None = None,
) -> SourceOptions:
    from audit.sources import SourceOptions
    from audit.sources.aws import AwsOptions
    from audit.sources.aws.tags import TagMapping
    from audit.sources.aws.targets import load_targets

    try:
        tags = TagMapping.parse(tag_keys)
    except ValueError as exc:
        raise UsageError(f"--tag-keys {exc}") from None
    if accounts_file and not assume_role:
        raise UsageError("--accounts needs --assume-role", "name the read-only role to enter in each account")
    targets = load_targets(Path(accounts_file)) if accounts_file else ()
    options = AwsOptions(region=region, accounts=targets, assume_role=assume_role, tags=tags)
    return SourceOptions(aws=options, progress=progress, since=parse_since(since))


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {value!r} is not a date or time", "write it as 2026-10-01 or 2026-10-01T00:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RichProgress:
    """Progress on stderr: a bar for live collection, and the stage an audit is in. Silent
    when stderr is not a terminal; a stage shows only once the run has taken ``delay``
    seconds, so a quick run prints nothing but its result."""

    def __init__(self, console: Console | None = None, delay: float = 2.0) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = console or stderr()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: Any = None
        self._stage: Any = None
        self._delay = delay
        self._started = 0.0
        self._timer: threading.Timer | None = None

    def __enter__(self) -> RichProgress:
        self._started = time.monotonic()
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._progress.stop()

    def begin(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def stage(self, description: str) -> None:
        """The audit entered ``description`` (shown once the run is past its delay)."""
        waited = time.monotonic() - self._started
        if self._stage is None:
            self._stage = self._progress.add_task(description, total=None, visible=waited >= self._delay)
            if waited < self._delay:
                self._timer = threading.Timer(self._delay - waited, self._show_stage)
                self._timer.daemon = True
                self._timer.start()
        else:
            self._progress.update(self._stage, description=description)

    def _show_stage(self) -> None:
        self._progress.update(self._stage, visible=True)


def parse_formats(value: str) -> list[str]:
    from reports import RENDERERS

    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in RENDERERS]
    if unknown or not names:
        raise UsageError(
            f"unknown report format: {', '.join(unknown) or '(none)'}", f"choose from {', '.join(sorted(RENDERERS))}"
        )
    if "pdf" in names:
        from reports.pdf import find_browser

        find_browser()  # no browser: say so before the audit runs, not after
    return list(dict.fromkeys(names))


def command_line() -> str:
    """The command as the user gave it (recorded in the report and the manifest)."""
    context = click.get_current_context(silent=True)
    argv = context.meta.get("tenant_audit.argv") if context else None
    from audit.paths import relative_command

    arguments = relative_command(argv if argv is not None else sys.argv[1:], Path.cwd())
    return " ".join(shlex.quote(a) for a in ["tenant-audit", *arguments])


def write_all(out_dir: Path, outputs: dict[str, bytes], owned: frozenset[str] = frozenset()) -> list[Path]:
    """Write every output or none (see :func:`audit.files.write_set`)."""
    from audit.files import write_set

    try:
        return write_set(out_dir, outputs, owned)
    except OSError as exc:
        raise UsageError(
            f"cannot write reports to {out_dir}: {exc.strerror or exc}", "choose a writable --out directory"
        ) from None


def waiver_options(command: Callable[P, R]) -> Callable[P, R]:
    """--waivers FILE and --ignore-waivers, shared by run and diff."""
    command = click.option("--ignore-waivers", is_flag=True, help="Apply no waiver: see the estate as it is.")(command)
    return click.option(
        "--waivers",
        "waivers_file",
        type=click.Path(dir_okay=False),
        help="YAML list of accepted risks: finding (id or glob), reason, owner, expires.",
    )(command)


def load_waiver_option(waivers_file: str | None, ignore: bool) -> tuple[Waiver, ...]:
    from audit.waivers import load_waivers

    if waivers_file is None or ignore:
        return ()
    return tuple(load_waivers(Path(waivers_file)))


def warn_expired(expired: Sequence[Any]) -> None:
    for waiver in expired:
        stderr().print(
            f"warning: waiver for {waiver.finding} expired on {waiver.expires} (owner {waiver.owner}); "
            "it was not applied",
            markup=False,
        )
