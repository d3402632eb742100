"""The PDF report: the HTML report, every block expanded, printed by headless Chromium.

The page furniture is the HTML's print stylesheet (CSS paged media): the paper size (A4
unless ``--paper letter``), a running header with the organisation and the kind of
document, a running footer with the short report id, the date and "Page x of y", and
headings kept with what follows them. Any Chromium-based browser printing report.html
gives the same pages.

Chromium is found on PATH (Debian's ``chromium``, or Chrome); without one, asking for a PDF
is a usage error raised before the audit runs, with the command that installs it. The
browser runs with a throw-away profile and no network beyond the file it prints (the
report's Content-Security-Policy forbids any fetch anyway).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from audit.errors import UsageError
from audit.report import Report
from reports import html

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT_SECONDS = 180
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: 'apt-get install -y chromium'; macOS: 'brew install --cask chromium') "
    "or set TENANT_AUDIT_CHROMIUM to a Chrome/Chromium binary; or print report.html from any browser: "
    "its print stylesheet gives the same PDF"
)


def find_browser() -> str:
    """The Chromium binary to print with, or a UsageError that says how to get one."""
    configured = os.environ.get("TENANT_AUDIT_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found:
            return found
        raise UsageError(f"TENANT_AUDIT_CHROMIUM={configured} is not an executable", INSTALL_HINT)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise UsageError("--format pdf needs headless Chromium, and none was found on PATH", INSTALL_HINT)


def render(report: Report, paper: str = "a4") -> bytes:
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="tenant-audit-pdf-") as work:
        source = Path(work) / "report.html"
        target = Path(work) / "report.pdf"
        source.write_bytes(html.render(report, expanded=True, paper=paper))
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"{browser} did not finish printing the PDF within {TIMEOUT_SECONDS} s",
                "print report.html from a browser instead",
            ) from None
        if not target.is_file() or target.stat().st_size == 0:
            detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise UsageError(f"{browser} could not print the PDF (exit {result.returncode}: {detail[0]})", INSTALL_HINT)
        return target.read_bytes()
