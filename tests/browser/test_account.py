"""A donor signs in from the emailed link and changes their monthly gift, in a real browser."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import sqlalchemy as sa

from membership import sandbox as sandbox_module
from membership import stripe_api
from membership.extensions import db
from membership.models import Frequency, OutboxEmail, RecurringDonation
from tests.browser.conftest import HOW_TO_ENABLE
from tests.factories import make_checkout_attempt

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser

EMAIL = "browser.donor@example.org"


def monthly_donor(app) -> None:
    """A paid 10 USD monthly checkout in the live app's sandbox (its webhooks included)."""
    with app.app_context():
        attempt = make_checkout_attempt(frequency=Frequency.MONTH, amount=1000, currency="USD")
        price: dict[str, Any] = {
            "currency": "usd",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Support independent reporting"},
        }
        params: dict[str, Any] = {
            "mode": "subscription",
            "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            "client_reference_id": attempt.reference,
            "metadata": {"attempt": attempt.reference},
            "subscription_data": {"metadata": {"attempt": attempt.reference}},
            "line_items": [{"quantity": 1, "price_data": price}],
        }
        session = stripe_api.client().v1.checkout.sessions.create(params=params)
        sandbox_module.of(app).pay(session.id, email=EMAIL)
        db.session.remove()


def emailed_link(server) -> str:
    server.settled()  # the link is made once the answer has gone out
    with server.app.app_context():
        email = db.session.scalar(
            sa.select(OutboxEmail).where(OutboxEmail.template == "magic_link")
        )
        assert email is not None
        link = email.context["link"]
        db.session.remove()
    return link


def test_sign_in_from_the_email_and_change_the_amount(page, live_server):
    monthly_donor(live_server.app)
    page.goto(f"{live_server.url}/account/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(emailed_link(live_server))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account/home$"))
    expect(page.locator(".recurring")).to_contain_text("$10.00 every month")
    page.emulate_media(media="print")  # printed for the donor's records: no header, no forms
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form").first).to_be_hidden()
    expect(page.locator(".recurring")).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Change, pause or cancel this gift").click()
    page.get_by_label("Amount").fill("15")
    page.get_by_role("button", name="Save change").click()
    expect(page.locator("#current-gift")).to_contain_text("$15.00 every month")
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(RecurringDonation.amount)) == 1500
        db.session.remove()


def test_over_https_with_csrf_on_a_donor_signs_in_and_out(https_page, live_https_server):
    """As deployed: HTTPS and CSRF checks, which on HTTPS refuse a form posted without a
    same-origin Referer. The donor pages must let the browser send one to our own origin
    (and none elsewhere), or no donor could ask for a link, sign in or sign out."""
    page, server = https_page, live_https_server
    monthly_donor(server.app)
    page.goto(server.url + "/account")
    page.get_by_label("Email").fill(EMAIL)
    with page.expect_response(lambda r: r.request.method == "POST") as asked:
        page.get_by_role("button", name="Email me a sign-in link").click()
    assert asked.value.status == 200
    link = emailed_link(server)
    assert link.startswith(server.url)
    page.goto(link)
    with page.expect_response(lambda r: r.request.method == "POST") as signed_in:
        page.get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()
    assert signed_in.value.status in (302, 303)
    expect(page.get_by_text("$10.00 every month")).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST") as signed_out:
        page.get_by_role("button", name=re.compile("Sign out", re.IGNORECASE)).click()
    assert signed_out.value.status in (302, 303)


def test_every_donor_page_renders_under_the_page_policy(page, live_server):
    """Home, the gift, a receipt, a statement, the data page and the card update on Stripe's
    portal (the sandbox's in demo mode), each reached as a donor would: none blocked by the
    Content-Security-Policy (the page fixture fails on any violation)."""
    monthly_donor(live_server.app)
    page.goto(f"{live_server.url}/account/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(emailed_link(live_server))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account/home$"))
    for link in (
        "Change, pause or cancel this gift",
        "Receipt",
        re.compile("Giving statement"),
        "Download or erase your data",
    ):
        page.get_by_role("link", name=link).first.click()
        expect(page.locator("main h1").first).to_be_visible()
        page.go_back()
    # The form posts to us and is redirected (303) to Stripe's portal: form-action allows it.
    page.get_by_role("button", name="Update your card").click()
    page.wait_for_url(re.compile(r".*/sandbox/portal/.*"))
    expect(page.get_by_role("heading", name=re.compile("Your gifts"))).to_be_visible()


axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason=HOW_TO_ENABLE)
# Where to keep screenshots of the pages this file walks, when SCREENSHOTS names a directory.
SCREENSHOTS = os.environ.get("SCREENSHOTS")


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [
        (lang, size)
        for lang in ("en", "ru")
        for size in ({"width": 1366, "height": 900}, {"width": 390, "height": 844})
    ],
    ids=["en-desktop", "en-phone", "ru-desktop", "ru-phone"],
)
def test_switching_to_annual_shows_the_date_and_the_equivalent_then_the_pending_change(
    browser, live_server, lang, viewport
):
    monthly_donor(live_server.app)
    context = browser.new_context(locale=lang, viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/account/?lang={lang}")
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("form button[type=submit]").first.click()
        page.goto(emailed_link(live_server))
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/account/home$"))
        with live_server.app.app_context():
            gift_id = db.session.scalar(sa.select(RecurringDonation.id))
            db.session.remove()
        page.goto(f"{live_server.url}/account/gifts/{gift_id}")
        page.locator("input[name=interval][value=year]").check()
        page.locator("form[action$='/change'] button[type=submit]").click()
        proposal = page.locator("#proposal")
        expect(proposal).to_contain_text("$120" if lang == "en" else "120")
        expect(page.locator("input[name=amount]")).to_have_value("120")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > document.documentElement.clientWidth).map(e => e.tagName + '.' + e.className"
            " + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))"
        )
        violations = axe_module.Axe().run(page).response["violations"]
        assert (overflow, [v["id"] for v in violations]) == (0, []), wide
        if SCREENSHOTS:
            shot = f"{SCREENSHOTS}/gift-proposal-{lang}-{viewport['width']}.png"
            page.screenshot(path=shot, full_page=True)
        page.locator("form[action$='/change'] button[type=submit]").click()
        expect(page.locator("#scheduled-change")).to_be_visible()
        if SCREENSHOTS:
            shot = f"{SCREENSHOTS}/gift-scheduled-{lang}-{viewport['width']}.png"
            page.screenshot(path=shot, full_page=True)
    finally:
        context.close()
