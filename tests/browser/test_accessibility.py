"""axe-core finds no violation on the pages a reader, a donor or a staff member meets first,
at a desktop width and a phone's, in English and in Russian."""

from __future__ import annotations

import pytest

from membership.extensions import db
from membership.mail import outbox
from tests.browser.conftest import HOW_TO_ENABLE
from tests.factories import make_member

pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason=HOW_TO_ENABLE)
pytestmark = pytest.mark.browser

PAGES = ["/", "/give", "/account/", "/sandbox/mailbox", "/no-such-page", "/staff/login"]
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
