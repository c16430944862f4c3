"""After a monthly gift: the thanks page, the donor's receipt and the staff's view of that
donor, each axe-clean, one visible h1 and no sideways scroll, on a desktop and a phone, in
English and in Russian. SCREENSHOTS names a directory to keep a picture of each in."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.models import Member, StaffRole
from tests.browser.conftest import HOW_TO_ENABLE, policed
from tests.dashboard.conftest import PASSWORD, make_account

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason=HOW_TO_ENABLE)
pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("SCREENSHOTS")
EMAIL = "after.giving@example.org"
CHECKOUT = re.compile(r".*/sandbox/checkout/cs_test_\w+$")
THANKS = re.compile(r".*/thanks\?session_id=cs_test_\w+$")
# One paid gift per test, seen at each size in each language: a checkout costs seconds.
VIEWS = [
    (lang, viewport)
    for lang in ("en", "ru")
    for viewport in ({"width": 1366, "height": 900}, {"width": 390, "height": 844})
]


def give_monthly(page, url: str) -> str:
    """Give $10 a month through the stand-in's hosted checkout; the thanks page's URL."""
    page.goto(f"{url}/give?frequency=month&amount=10&currency=USD&lang=en")
    page.get_by_role("button", name="Give $10 a month").click()
    page.wait_for_url(CHECKOUT)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^(Pay|Donate) ")).click()
    page.wait_for_url(THANKS)
    return page.url


def sign_in_from_the_thanks_page(page) -> None:
    """Follow "Manage your gift" (the address already there), then the demo mailbox's link."""
    page.get_by_role("link", name="Manage your gift").click()
    expect(page.get_by_label("Email address")).to_have_value(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("link", name="Read it in the demo mailbox").click()
    page.get_by_role("link", name=re.compile("Your sign-in link")).first.click()
    page.locator(".mailbox-text a", has_text="sign-in").click()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/account/home$"))


def in_language(url: str, lang: str) -> str:
    query = urlsplit(url).query
    return f"{url}{'&' if query else '?'}lang={lang}"


def problems(page, name: str, lang: str, width: int) -> dict:
    """What is wrong with the page as shown: axe's violations, sideways scroll, the h1s."""
    violations = axe_module.Axe().run(page).response["violations"]
    found = {
        "violations": [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations],
        "overflow_px": page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
        "visible_h1s": page.locator("h1:visible").count(),
    }
    if found["overflow_px"] > 0:
        found["wider"] = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
            ".right > window.innerWidth).map(e => e.tagName + '.' + e.className)"
        )
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{lang}-{width}.png", full_page=True)
    ok = not found["violations"] and found["overflow_px"] <= 0 and found["visible_h1s"] == 1
    return {} if ok else {f"{name}-{lang}-{width}": found}


def walk(page, name: str, url: str) -> dict:
    """The page at each size in each language, and whatever is wrong with it."""
    found: dict = {}
    for lang, viewport in VIEWS:
        page.set_viewport_size(viewport)
        page.goto(in_language(url, lang))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        found |= problems(page, name, lang, viewport["width"])
    return found


def test_the_thanks_page_after_a_monthly_gift(browser, live_server):
    with policed(browser.new_context(locale="en-US")) as context:
        page = context.new_page()
        thanks = give_monthly(page, live_server.url)
        found = walk(page, "thanks", thanks)
        expect(page.locator(".lead")).to_contain_text("10,00\u00a0$")  # the last view: Russian
        page.goto(in_language(thanks, "en"))
        expect(page.locator(".lead")).to_have_text("You give $10.00 a month to The Test Gazette.")
        page.get_by_role("link", name="Manage your gift").click()
        expect(page.get_by_label("Email address")).to_have_value(EMAIL)
    assert found == {}


def test_the_donors_receipt(browser, live_server):
    with policed(browser.new_context(locale="en-US")) as context:
        page = context.new_page()
        give_monthly(page, live_server.url)
        sign_in_from_the_thanks_page(page)
        page.get_by_role("link", name="Receipt").first.click()
        expect(page.get_by_role("heading", name="Receipt", level=1)).to_be_visible()
        found = walk(page, "receipt", page.url)
    assert found == {}


def test_the_staff_page_of_that_donor(browser, live_server):
    with policed(browser.new_context(locale="en-US")) as context:
        give_monthly(context.new_page(), live_server.url)
    with live_server.app.app_context():
        admin_email = make_account(StaffRole.ADMIN, email="editor@newsroom.example").email
        public_id = db.session.scalar(sa.select(Member.public_id).where(Member.email == EMAIL))
        db.session.remove()
    assert public_id is not None
    with policed(browser.new_context(locale="en-US")) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("Email").fill(admin_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        page.get_by_role("link", name="Members").first.click()
        page.get_by_label("Email or name").fill(EMAIL)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name=EMAIL).click()
        expect(page).to_have_url(f"{live_server.url}/staff/members/{public_id}")
        found = walk(page, "member", page.url)
    assert found == {}
