"""The demo as a newcomer runs it: a real server process, stopped and started again between
two gifts, then the donor signs in through the demo mailbox and sees both. Once with the
development server (`make run`), once under gunicorn with two worker processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.browser.conftest import HOW_TO_ENABLE
from tests.test_production_server import free_port

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
EMAIL = "restart.reader@example.org"
THANKS = re.compile(r".*/thanks\?session_id=cs_test_\w+$")
SERVERS = {
    "flask run": ["-m", "flask", "--app", "app", "run", "--host", "127.0.0.1", "--port"],
    "gunicorn, 2 workers": ["-m", "gunicorn", "--workers", "2", "--threads", "4", "-b"],
}


def demo_env(tmp_path: Path, port: int) -> dict[str, str]:
    """Demo mode as `make run` has it, with its files in tmp_path instead of instance/."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "APP_", "FLASK", "SECRET", "MAIL_", "DATABASE_"))
        and k not in ("BASE_URL", "SANDBOX_STATE", "RATELIMIT_STORAGE_URI", "TEST_DATABASE_URL")
    }
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'membership.db'}",
        "SANDBOX_STATE": str(tmp_path / "stripe-sandbox.db"),
        "BASE_URL": f"http://127.0.0.1:{port}",
    }


def ready(url: str, process: subprocess.Popen) -> None:
    """Wait until the server answers (readiness, not timing)."""
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)
    raise AssertionError(f"{url} never answered")


@contextmanager
def server(kind: str, tmp_path: Path, port: int) -> Iterator[str]:
    env = demo_env(tmp_path, port)
    address = f"127.0.0.1:{port}" if kind.startswith("gunicorn") else str(port)
    command = [PYTHON, *SERVERS[kind], address] + (["app:app"] if "gunicorn" in kind else [])
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def give(page, url: str, amount: str) -> None:
    page.goto(f"{url}/give?frequency=one_off&currency=USD")
    page.get_by_label("One-off").check()
    page.locator("#amount-other").check()
    page.locator("#custom_amount").fill(amount)
    page.get_by_role("button", name=f"Give ${amount}").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^(Pay|Donate) ")).click()
    page.wait_for_url(THANKS)
    expect(page.locator(".lead")).to_contain_text(f"${amount}.00")


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_gifts_survive_a_restart_and_the_donor_signs_in_through_the_mailbox(
    browser, tmp_path, kind
):
    env = demo_env(tmp_path, 0)
    migrate = [PYTHON, "-m", "flask", "--app", "app", "db", "upgrade"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    page = browser.new_page()
    try:
        with server(kind, tmp_path, port) as url:
            give(page, url, "25")
        with server(kind, tmp_path, port) as url:  # the same files, a new process
            give(page, url, "17")
            page.goto(f"{url}/account/")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_role("button").filter(has_text=re.compile("link", re.I)).click()
            page.locator("a[href*='/sandbox/mailbox']").first.click()
            page.locator("a[href*='/sandbox/mailbox/']").first.click()
            page.locator("a[href*='/account/sign-in/']").first.click()
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r".*/account/home$"))
            expect(page.locator("main")).to_contain_text("$25.00")
            expect(page.locator("main")).to_contain_text("$17.00")
    finally:
        page.close()
