"""Drive a report in headless Chromium (Debian's ``chromium`` package) through Playwright.

Every request the page makes and every console message is recorded, so a test can prove
the report made no network request and raised no error (a CSP violation is a console error).

    python -m tests.support.browser OUT.png SOURCE...   # screenshot the report of SOURCES
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, Route, sync_playwright

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "the browser tests need Debian's chromium package: run the README's test command, "
        "which installs it ('apt-get install -y chromium')"
    )


@dataclass
class Session:
    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")] + self.page_errors

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if url != self.url]


@contextmanager
def open_report(path: Path, width: int = 1280, height: int = 900) -> Iterator[Session]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            session = Session(page=page, url=path.resolve().as_uri())

            def on_route(route: Route) -> None:
                # belt and braces: even if the CSP failed, nothing may leave the machine
                if route.request.url == session.url:
                    route.continue_()
                else:
                    session.blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", on_route)

            def on_request(request: Request) -> None:
                session.requests.append(request.url)

            def on_console(message: ConsoleMessage) -> None:
                session.console.append((message.type, message.text))

            page.on("request", on_request)
            page.on("console", on_console)
            page.on("pageerror", lambda error: session.page_errors.append(str(error)))
            page.goto(session.url, wait_until="load")
            yield session
        finally:
            browser.close()


def screenshot(out: Path, sources: list[str], selector: str | None = None) -> None:
    """Audit SOURCES, render the HTML report and save a screenshot of it (or of SELECTOR)."""
    from reports.html import render
    from tests.conftest import audit_sources

    report = audit_sources(*sources)
    with tempfile.TemporaryDirectory() as work:
        page_file = Path(work) / "report.html"
        page_file.write_bytes(render(report))
        with open_report(page_file) as session:
            if selector:
                session.page.locator(selector).first.screenshot(path=str(out))
            else:
                session.page.screenshot(path=str(out))


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), sys.argv[2:])
