"""axe-core finds no violation on the pages a reader, a donor or a staff member meets first,
at a desktop width and a phone's, in English and in Russian."""

from __future__ import annotations

import os

import pytest

from membership.extensions import db
from membership.mail import outbox
from tests.browser.conftest import HOW_TO_ENABLE
from tests.factories import make_member

pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason=HOW_TO_ENABLE)
pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/give",
    "/account/",
    "/sandbox/mailbox",
    "/no-such-page",
    "/staff/login",
    "/embed/banner",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_first_pages_have_no_axe_violations(browser, live_server, viewport, lang):
    context = browser.new_context(locale=lang, viewport=VIEWPORTS[viewport])
    page = context.new_page()
    axe = axe_module.Axe()
    # An email in the demo mailbox, to a long address: the list must still fit a phone.
    address = "a.rather.long.address.for.a.phone@newsroom-readers.example.org"
    with live_server.app.app_context():
        member = make_member(email=address, locale=lang)
        outbox.enqueue(
            member, "receipt", f"receipt:a11y:{lang}", {"amount": 500, "currency": "USD"}
        )
        db.session.commit()
    found = {}
    try:
        for path in PAGES:
            page.goto(f"{live_server.url}{path}?lang={lang}")
            # Nothing wider than the screen: a phone never scrolls the page sideways.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            results = axe.run(page)
            violations = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                for v in results.response["violations"]
            ]
            if violations or overflow > 0:
                found[path] = {"violations": violations, "overflow_px": overflow}
    finally:
        context.close()
    assert found == {}


def staff_pages(live_server) -> list[str]:
    """A member with gifts, a campaign, an email and an event, so no page is an empty list;
    returns the pages beyond the menu's: a member, a campaign's forms, an email."""
    from datetime import UTC, datetime

    from membership.models import DonationKind, OutboxEmail
    from tests.factories import make_campaign, make_donation, make_event, make_recurring

    with live_server.app.app_context():
        reader = make_member(email="zoya.reader@example.org", display_name="Zoya Reader")
        make_donation(reader, amount=4200, currency="EUR", kind=DonationKind.ONE_OFF)
        make_recurring(reader, amount=500, currency="GBP")
        campaign = make_campaign(
            slug="year-end", headline="Keep the lights on", goal_amount=10000, goal_currency="EUR"
        )
        make_event(processed_at=datetime.now(UTC), attempts=1)
        email = OutboxEmail(
            member_id=reader.id,
            to_address=reader.email,
            template="receipt",
            dedupe_key="a11y-preview",
            context={"donation_id": 1, "amount": 4200, "currency": "EUR"},
        )
        db.session.add(email)
        db.session.commit()
        return [
            f"/staff/members/{reader.public_id}",
            "/staff/campaigns/new",
            f"/staff/campaigns/{campaign.id}/edit",
            f"/staff/emails/{email.id}",
        ]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_staff_page_has_no_axe_violations(browser, live_server, viewport):
    """Each page in the staff menu, a member, a campaign's forms and an email preview: no
    axe violation, and nothing wider than the screen (a wide table scrolls in its own box)."""
    from membership.models import StaffRole
    from tests.dashboard.conftest import PASSWORD, make_account

    with live_server.app.app_context():
        admin_email = make_account(StaffRole.ADMIN, email="editor@newsroom.example").email
    extra = staff_pages(live_server)
    context = browser.new_context(locale="en", viewport=VIEWPORTS[viewport])
    page = context.new_page()
    axe = axe_module.Axe()
    found = {}
    wider: dict[str, int] = {}
    try:
        page.goto(f"{live_server.url}/staff/login")
        page.get_by_label("Email").fill(admin_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/staff/")
        menu = page.locator("nav.dashboard-nav a")
        paths = [menu.nth(i).get_attribute("href") for i in range(menu.count())] + extra
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            results = axe.run(page).response
            # axe leaves a 1:1 contrast "incomplete" (text hidden on purpose?); here it was a
            # white-on-white button. Those it measured count; those it could not measure do not.
            unsure = [
                v | {"nodes": measured}
                for v in results["incomplete"]
                if v["id"] == "color-contrast"
                and (
                    measured := [n for n in v["nodes"] if n["any"][0]["data"].get("contrastRatio")]
                )
            ]
            violations = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                for v in results["violations"] + unsure
            ]
            if violations:
                found[path] = violations
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                wider[path] = overflow
            if os.environ.get("SCREENSHOTS"):  # a directory to keep a picture of each page in
                name = path.strip("/").replace("/", "-") or "overview"
                shot = f"{os.environ['SCREENSHOTS']}/{name}-{viewport}.png"
                page.screenshot(path=shot, full_page=True)
    finally:
        context.close()
    assert len(paths) == 12  # the seven menu pages, the password form, and those above
    assert found == {}
    assert wider == {}


@pytest.mark.parametrize(
    ("lang", "label"), [("en", "Skip to content"), ("ru", "Перейти к содержанию")]
)
def test_the_first_tab_shows_a_skip_link_to_main(browser, live_server, lang, label):
    """Hidden until a keyboard reaches it; then on screen, and it leads to <main>."""
    from tests.browser.conftest import policed

    with policed(browser.new_context(locale=lang)) as context:
        page = context.new_page()
        for path in ("/", "/account/", "/sandbox/mailbox"):
            page.goto(f"{live_server.url}{path}?lang={lang}")
            link = page.locator("a.skip-link")
            assert link.bounding_box()["y"] + link.bounding_box()["height"] <= 0, "hidden at rest"
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "[document.activeElement.className, document.activeElement.textContent]"
            )
            assert focused == ["skip-link", label], path
            box = link.bounding_box()
            assert box["y"] >= 0 and box["height"] > 10, "on screen once focused"
            page.keyboard.press("Enter")
            assert page.evaluate("location.hash") == "#main"
            assert page.evaluate("document.querySelector(':target').tagName") == "MAIN"
