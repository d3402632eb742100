"""Developer sessions: tests, spark, lint, typecheck, benchmarks. Run `nox -l` to list them.

CI runs the README's test command (`.ci/run`), which is the `tests` session plus the Spark
extra: every test, Spark ones included. Here `tests` leaves Spark out for a fast loop and
`spark` runs only the Spark tests, in local mode.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "spark", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite without the Spark tests (`-m spark` selects them)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not spark", *session.posargs)


@nox.session(python=PYTHON)
def spark(session: nox.Session) -> None:
    """The content checks on Apache Spark, local mode (needs Java 17 or newer)."""
    session.install("-e", ".[test,spark]")
    session.run("pytest", "-m", "spark", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff>=0.6,<1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over audit/, checks/ and reports/."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Speed and memory against baselines measured in the same run (pass arguments after --,
    e.g. `nox -s benchmarks -- content --training 1000000` or `nox -s benchmarks -- graph
    --sizes 1000,10000`)."""
    session.install("-e", ".[test,spark]")
    which = session.posargs[0] if session.posargs else "all"
    rest = session.posargs[1:]
    if which in ("all", "graph"):
        session.run("python", "-m", "benchmarks.graph_scale", *(rest or ["--iam"]))
    if which in ("all", "content"):
        session.run("python", "-m", "benchmarks.content_scan", "--spark", *rest)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """The fuzz suite at depth: 2,000 fresh random cases per input family (the default test
    suite runs 200, derandomised). More with `nox -s fuzz -- 5000`."""
    session.install("-e", ".[test]")
    examples = session.posargs[0] if session.posargs else "2000"
    session.run(
        "pytest",
        "tests/fuzz",
        "-q",
        env={"TENANT_AUDIT_FUZZ_EXAMPLES": examples, "TENANT_AUDIT_FUZZ_RANDOM": "1"},
    )
