"""Browser fixtures: the app served over real HTTP, and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium or the playwright package these tests skip, saying how to get them.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from membership import create_app
from membership.extensions import db
from tests.conftest import BACKENDS, Database, migrated_database, self_signed_certificate

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
# Never a downloaded browser: the distribution's Chromium, headless, quiet on the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_ENABLE = (
    "browser tests need Chromium and Playwright: `apt-get install -y chromium`, "
    "then `make test` (which installs playwright from requirements-dev.txt)"
)


def browser_missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found; {HOW_TO_ENABLE}"
    if importlib.util.find_spec("playwright") is None:
        return f"playwright is not installed; {HOW_TO_ENABLE}"
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after pytest's own summaries
def pytest_terminal_summary(terminalreporter: Any) -> Iterator[None]:
    """Last in `make test`'s output: the browser tests did not run, and how to make them."""
    yield
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if report.nodeid.startswith("tests/browser/")
    ]
    reason = browser_missing()
    if skipped and reason:
        terminalreporter.section("browser tests skipped", yellow=True)
        tests = f"{len(skipped)} browser test{'' if len(skipped) == 1 else 's'}"
        terminalreporter.write_line(f"{tests} did not run: {reason}.")


class OneAtATime:
    """Requests run one after another, each to the end of its body before the next starts.

    Work a view leaves for after its page (the sign-in link a donor asks for is made then:
    account/views.py, after_response) is done before the browser's next page, or the test's
    own look at the database (settled), sees the app: as a person, slower than a server, would.
    The wait is on a condition, never a sleep; the timeout only keeps a stuck test from hanging.
    """

    TIMEOUT = 30

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app, self.busy, self.done = app, False, threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.done:
            self.done.wait_for(lambda: not self.busy, self.TIMEOUT)
            self.busy = True
        try:
            return Body(self.app(environ, start_response), self.release)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        with self.done:
            self.busy = False
            self.done.notify_all()

    def settled(self) -> None:
        with self.done:
            self.done.wait_for(lambda: not self.busy, self.TIMEOUT)


class Body:
    """A response body that lets the next request in once read to its end (or closed: werkzeug
    closes a body only after the client has closed the connection, seconds later at times)."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self.body, self.chunks, self.release, self.released = body, iter(body), release, False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self.chunks)
        except BaseException:  # StopIteration at the end, or the body's own error
            self.let_go()
            raise

    def close(self) -> None:
        try:
            if close := getattr(self.body, "close", None):
                close()
        finally:
            self.let_go()

    def let_go(self) -> None:
        if not self.released:
            self.released = True
            self.release()


@dataclass
class LiveServer:
    url: str
    app: Flask
    requests: OneAtATime

    def settled(self) -> None:
        """Once the last request, and what it left for after its response, is done."""
        self.requests.settled()


@pytest.fixture(scope="session", params=BACKENDS[-1:])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Browser tests run once, on the production database: PostgreSQL when TEST_DATABASE_URL
    is set, else SQLite. They check what a reader and staff see in Chromium (layout, axe,
    scripts, the page policy, the flows through the stand-in's checkout); what those flows
    write is tested on both databases by the rest of the suite. Run on both, they took four
    of the suite's ten minutes and caught nothing the other half did not."""
    with migrated_database(request.param, tmp_path_factory) as found:
        yield found


@pytest.fixture
def live_server(database: Database) -> Iterator[LiveServer]:
    """A fresh app (fresh rate limits, fresh sandbox) on a free port, in a server thread."""
    with serving(database) as server:
        yield server


@pytest.fixture
def live_https_server(database: Database, tmp_path: Path) -> Iterator[LiveServer]:
    """The same over HTTPS (a self-signed certificate), with CSRF protection on, as deployed:
    on HTTPS Flask-WTF also wants a same-origin Referer on every form it checks."""
    with serving(database, self_signed_certificate(tmp_path), WTF_CSRF_ENABLED=True) as server:
        yield server


@contextmanager
def serving(
    database: Database, ssl_context: tuple[str, str] | None = None, **config: Any
) -> Iterator[LiveServer]:
    holder: dict[str, Flask] = {}

    def forward(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return holder["app"](environ, start_response)

    requests = OneAtATime(forward)
    # Port 0 picks a free port; the app is built after, as BASE_URL must name that port.
    server = make_server("127.0.0.1", 0, requests, threaded=True, ssl_context=ssl_context)
    url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}"
    app = holder["app"] = create_app(database.config(BASE_URL=url, **config))
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url, app, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def policed(context: BrowserContext) -> Iterator[BrowserContext]:
    """The context, failing the test if any page broke its Content-Security-Policy: a style,
    script, frame or form our policy blocked is a page that no longer works as built."""
    refused: list[str] = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield context
    context.close()
    assert not refused, f"the page broke its Content-Security-Policy: {refused}"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    with policed(
        browser.new_context(locale="en-US", viewport={"width": 1000, "height": 900})
    ) as context:
        yield context


@pytest.fixture
def https_page(browser: Browser) -> Iterator[Page]:
    """A page that accepts the test server's self-signed certificate."""
    with policed(browser.new_context(locale="en-US", ignore_https_errors=True)) as context:
        yield context.new_page()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:
    with policed(browser.new_context(locale="en-US", java_script_enabled=False)) as context:
        yield context.new_page()
