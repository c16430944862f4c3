"""Someone trying the demo reads their sign-in email in the demo mailbox and signs in with
it, without JavaScript, and no page breaks the Content-Security-Policy."""

from __future__ import annotations

import re

import pytest

from membership.extensions import db
from tests.browser.conftest import HOW_TO_ENABLE
from tests.factories import make_member

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser

EMAIL = "mailbox.browser@example.org"


def test_from_check_your_email_to_the_mailbox_to_signed_in(no_js_page, live_server):
    page = no_js_page
    with live_server.app.app_context():
        make_member(email=EMAIL)
        db.session.remove()
    page.goto(f"{live_server.url}/account/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.get_by_role("link", name="Read it in the demo mailbox").click()
    expect(page.get_by_role("heading", name="Demo mailbox")).to_be_visible()
    expect(page.get_by_role("cell", name=EMAIL)).to_be_visible()
    page.get_by_role("link", name=re.compile("Your sign-in link")).click()
    page.locator(".mailbox-text a", has_text="sign-in").click()  # the link in the email
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account/home$"))


def test_the_test_mode_notice_leads_to_the_mailbox(page, live_server):
    page.goto(f"{live_server.url}/")
    page.locator(".demo-notice").get_by_role("link", name="Emails go to the demo mailbox.").click()
    expect(page.get_by_role("heading", name="Demo mailbox")).to_be_visible()
    expect(page.get_by_text("No emails yet.")).to_be_visible()
