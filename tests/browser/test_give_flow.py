"""A reader's way from a newsroom's article to the thank-you page, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import HOW_TO_ENABLE

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser

CHECKOUT = re.compile(r".*/sandbox/checkout/cs_test_\w+$")
THANKS = re.compile(r".*/thanks\?session_id=cs_test_\w+$")


def pay(page, card: str, email: str = "reader@example.org") -> None:
    """Fill in the sandbox's hosted checkout page and submit it."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name=re.compile(r"^(Pay|Donate) ")).click()


def test_article_banner_to_monthly_gift_thank_you(page, live_server):
    article = f"{live_server.url}/demo/article"
    page.goto(article + "#comments")
    # Playwright's locators pierce open shadow roots: this is the banner's own link.
    banner = page.locator("support-banner")
    expect(banner.get_by_text("Support The Test Gazette!")).to_be_visible()
    expect(banner.get_by_text("Now is the time to support independent reporting.")).to_be_visible()
    banner.get_by_role("link", name="Contribute today").click()

    page.wait_for_url(re.compile(r".*/give\?.*"))
    expect(page.locator("input[name=article_url]")).to_have_value(article)
    expect(page.locator("input[name=utm_source]")).to_have_value("demo-article")
    expect(page.locator("input[name=utm_medium]")).to_have_value("banner")
    expect(page.locator("input[name=utm_campaign]")).to_have_value("demo")

    page.get_by_label("Monthly").check()
    page.get_by_label("Currency").select_option("EUR")
    page.locator("input[name=amount][value='10']").check()
    page.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("10.00 EUR every month")
    pay(page, "4242 4242 4242 4242")

    page.wait_for_url(THANKS)
    lead = page.locator(".lead")
    expect(lead).to_contain_text("€10.00")
    expect(lead).to_contain_text("every month")


def test_declined_card_shows_the_error_and_a_retry_succeeds(page, live_server):
    page.goto(f"{live_server.url}/give?frequency=one_off&amount=25&currency=USD")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(CHECKOUT)
    checkout_url = page.url

    pay(page, "4000 0000 0000 0002")
    expect(page.get_by_role("alert")).to_contain_text("declined")
    assert page.url == checkout_url  # still on the hosted page, free to try again
    expect(page.get_by_label("Email")).to_have_value("reader@example.org")

    pay(page, "4242 4242 4242 4242")
    page.wait_for_url(THANKS)
    expect(page.locator(".lead")).to_contain_text("$25.00")


def test_form_works_without_javascript(no_js_page, live_server):
    page = no_js_page
    page.goto(f"{live_server.url}/give?frequency=one_off&currency=GBP")
    # Without the script nothing ticks "Other" for the reader, so they tick it themselves.
    page.get_by_label("One-off").check()
    page.locator("#amount-other").check()
    page.get_by_label("Other amount").fill("7.50")
    page.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 7.50 GBP")


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                name: el.getAttribute("name") || "",
                type: el.getAttribute("type") || el.tagName.toLowerCase(),
                text: (el.textContent || "").trim(),
                outline: style.outlineStyle,
                outlineWidth: style.outlineWidth,
            };
        }"""
    )


def test_keyboard_reaches_every_choice_in_order_with_visible_focus(page, live_server):
    page.goto(f"{live_server.url}/give")
    order = []
    for _ in range(20):
        page.keyboard.press("Tab")
        now = focused(page)
        key = now["name"] or now["text"]
        fields = {"frequency", "amount", "custom_amount", "currency", "cover_fees", "newsletter"}
        if key in fields or now["type"] == "submit":
            assert now["outline"] != "none", f"no visible focus on {key}"
            assert now["outlineWidth"] != "0px", f"no visible focus on {key}"
            order.append("submit" if now["type"] == "submit" else key)
        if now["type"] == "submit":
            break
    assert order == [
        "frequency", "amount", "custom_amount", "currency", "cover_fees", "newsletter", "submit"
    ]  # fmt: skip


def test_over_https_with_csrf_on_a_reader_gives(https_page, live_https_server):
    """As deployed: on HTTPS the CSRF check also wants a same-origin Referer on the form."""
    page = https_page
    page.goto(f"{live_https_server.url}/give?frequency=one_off&amount=25&currency=USD")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(CHECKOUT)
    pay(page, "4242 4242 4242 4242")
    page.wait_for_url(THANKS)
    expect(page.locator(".lead")).to_contain_text("$25.00")


def test_the_fee_offer_names_its_figure_as_the_reader_chooses_then_is_charged(page, live_server):
    page.goto(f"{live_server.url}/give?frequency=one_off&currency=USD&amount=10")
    label = page.locator("[data-fee-label]")
    expect(label).to_have_text(
        "Add $0.61 to cover the card fees, so all of my gift reaches The Test Gazette."
    )
    page.get_by_label("Other amount").fill("25")
    expect(label).to_contain_text("Add $1.06 ")
    page.get_by_label("Other amount").fill("25.5x")
    expect(label).to_contain_text("Add 2.9% + $0.30 ")  # no figure for no amount
    page.get_by_label("Currency").select_option("EUR")
    page.locator("input[name=amount][value='10']").check()
    expect(label).to_contain_text("Add €0.56 ")
    page.get_by_label("Currency").select_option("JPY")
    page.locator("input[name=amount]").first.check()
    yen = int(page.locator("input[name=amount]").first.get_attribute("value"))
    expect(label).to_contain_text(f"Add ¥{-(-yen * 10_000 // 9_710) - yen} ")
    page.get_by_label("Currency").select_option("USD")
    page.locator("input[name=amount][value='10']").check()

    label.click()  # the label ticks its box
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 10.61 USD")
    expect(page.get_by_text("Includes $0.61 to cover the card fees")).to_be_visible()
    pay(page, "4242 4242 4242 4242")
    page.wait_for_url(THANKS)
    expect(page.locator(".lead")).to_contain_text("$10.61")
    expect(page.get_by_text("Of which $0.61 covers the card fees")).to_be_visible()


def test_the_fee_offer_without_javascript_gives_the_estimate_in_words(no_js_page, live_server):
    page = no_js_page
    page.goto(f"{live_server.url}/give?frequency=month&currency=GBP&amount=5")
    expect(page.locator("[data-fee-label]")).to_have_text(
        "Add 2.9% + £0.20 to cover the card fees, so all of my gift reaches The Test Gazette."
    )
    page.get_by_label("Cover the card fees", exact=False).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 5.36 GBP every month")
