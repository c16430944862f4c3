"""A staff admin signs in, reads the overview, finds a member and exports, in a real browser."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from membership.models import DonationKind, StaffRole
from tests.browser.conftest import HOW_TO_ENABLE
from tests.dashboard.conftest import PASSWORD, make_account
from tests.factories import make_donation, make_member

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser


def test_admin_signs_in_sees_the_overview_searches_and_exports(live_server, page):
    from datetime import UTC, datetime

    with live_server.app.app_context():
        admin = make_account(StaffRole.ADMIN, email="editor@newsroom.example")
        reader = make_member(email="zoya.reader@example.org", display_name="Zoya Reader")
        make_donation(
            reader,
            amount=4200,
            currency="EUR",
            kind=DonationKind.ONE_OFF,
            paid_at=datetime.now(UTC),
        )
        make_member(email="other.person@example.org")
        admin_email = admin.email

    page.goto(live_server.url + "/staff/")
    expect(page).to_have_url(live_server.url + "/staff/login?next=%2Fstaff%2F")
    page.get_by_label("Email").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("€42.00")
    expect(page.locator("svg").first).to_be_visible()  # charts are drawn on the server

    page.get_by_role("link", name="Members").first.click()
    page.get_by_label("Email or name").fill("zoya")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.members tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("zoya.reader@example.org")  # admins see the address

    with page.expect_download() as download_info:
        page.get_by_role("link", name="members CSV").click()
    exported = download_info.value
    text = Path(exported.path()).read_text(encoding="utf-8")
    emails = [row.get("email") for row in csv.DictReader(io.StringIO(text))]
    assert emails == ["zoya.reader@example.org"], "the export keeps the search filter"


def test_over_https_with_csrf_on_staff_sign_in_and_out(live_https_server, https_page):
    """As deployed: on HTTPS the CSRF check also wants a same-origin Referer on each form."""
    server, page = live_https_server, https_page
    with server.app.app_context():
        admin_email = make_account(StaffRole.ADMIN, email="editor@newsroom.example").email
    page.goto(server.url + "/staff/")
    page.get_by_label("Email").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST") as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status in (302, 303)
    expect(page).to_have_url(server.url + "/staff/login")


def test_every_staff_page_renders_under_the_page_policy(live_server, page):
    """Each page an admin can reach from the menu, a member, a campaign's form and an email
    preview: none blocked by the Content-Security-Policy (the page fixture fails on any
    violation), none an error."""
    from membership.extensions import db
    from membership.models import OutboxEmail
    from tests.factories import make_campaign, make_event

    with live_server.app.app_context():
        admin_email = make_account(StaffRole.ADMIN, email="editor@newsroom.example").email
        reader = make_member(email="zoya.reader@example.org", display_name="Zoya Reader")
        make_donation(reader, amount=4200, currency="EUR", kind=DonationKind.ONE_OFF)
        make_campaign(slug="year-end", headline="Keep the lights on")
        make_event()
        email = OutboxEmail(
            member_id=reader.id,
            to_address=reader.email,
            template="receipt",
            dedupe_key="browser-preview",
            context={"donation_id": 1, "amount": 4200, "currency": "EUR"},
        )
        db.session.add(email)
        db.session.commit()
        member_url, email_id = f"/staff/members/{reader.public_id}", email.id

    page.goto(live_server.url + "/staff/login")
    page.get_by_label("Email").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    menu = page.locator("nav.dashboard-nav a")
    paths = [menu.nth(i).get_attribute("href") for i in range(menu.count())]
    assert len(paths) == 8  # the seven pages, and the password form beside "Sign out"
    paths += [member_url, "/staff/campaigns/new", f"/staff/emails/{email_id}"]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        expect(page.locator("main h1").first).to_be_visible()
    # The email's own inline styles apply in its sandboxed frame.
    frame = page.frame_locator("iframe.email-html")
    expect(frame.locator("body")).to_contain_text("42")


@pytest.mark.parametrize("width", [1366, 390])
def test_the_webhook_inbox_names_every_state_readably_on_any_screen(browser, live_server, width):
    """Processed, failed, not found at Stripe and pending: each labelled, axe-clean, and no
    wider than a phone. SCREENSHOTS names a directory to keep a picture in."""
    import os
    from datetime import UTC, datetime

    from axe_playwright_python.sync_playwright import Axe

    from membership.extensions import db
    from tests.factories import make_event

    with live_server.app.app_context():
        admin_email = make_account(StaffRole.ADMIN, email="editor@newsroom.example").email
        now = datetime.now(UTC)
        make_event(id="evt_applied", processed_at=now, attempts=1)
        make_event(id="evt_failing", last_error="APIConnectionError: Stripe did not answer")
        make_event(
            id="evt_gone",
            last_error="InvalidRequestError: No such invoice: 'in_1Deleted'",
            missing_at_stripe=True,
            attempts=1,
        )
        make_event(id="evt_waiting")
        db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/staff/login")
        page.get_by_label("Email").fill(admin_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(live_server.url + "/staff/webhooks")
        for label in ("processed", "failed", "not found at Stripe", "pending"):
            expect(page.locator("table.inbox .state", has_text=label).first).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        violations = Axe().run(page).response["violations"]
        found = [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > document.documentElement.clientWidth && !e.closest('.table-scroll'))"
            ".map(e => e.tagName + '.' + e.className + ':'"
            " + Math.round(e.getBoundingClientRect().right))"
        )
        assert (overflow, found) == (0, []), wide
        if os.environ.get("SCREENSHOTS"):
            shot = f"{os.environ['SCREENSHOTS']}/staff-webhooks-{width}.png"
            page.screenshot(path=shot, full_page=True)
    finally:
        context.close()
