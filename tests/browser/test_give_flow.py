"""A reader's way from a newsroom's article to the thank-you page, in a real browser."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.conftest import HOW_TO_ENABLE, policed

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason=HOW_TO_ENABLE)
pytestmark = pytest.mark.browser

CHECKOUT = re.compile(r".*/sandbox/checkout/cs_test_\w+$")
THANKS = re.compile(r".*/thanks\?session_id=cs_test_\w+$")
GIVE = re.compile(r"^Give ")  # the button, whatever gift it names


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
    page.locator("[data-tiles=month] input[value='month:10']").check()
    page.get_by_role("button", name="Give €10 a month").click()

    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("10.00 EUR every month")
    pay(page, "4242 4242 4242 4242")

    page.wait_for_url(THANKS)
    lead = page.locator(".lead")
    expect(lead).to_contain_text("€10.00")
    expect(lead).to_contain_text("a month")


def test_declined_card_shows_the_error_and_a_retry_succeeds(page, live_server):
    page.goto(f"{live_server.url}/give?frequency=one_off&amount=25&currency=USD")
    page.get_by_role("button", name=GIVE).click()
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
    page.locator("#custom_amount").fill("7.50")
    # The page's CSS shows the one-off words (the name, as the others are hidden), without a
    # figure it cannot read from the box.
    expect(page.get_by_role("button", name=GIVE)).to_have_accessible_name("Give once")
    page.get_by_role("button", name=GIVE).click()

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
    page.get_by_role("button", name=GIVE).click()
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
    page.locator("#custom_amount").fill("25")
    expect(label).to_contain_text("Add $1.06 ")
    page.locator("#custom_amount").fill("25.5x")
    expect(label).to_contain_text("Add 2.9% + $0.30 ")  # no figure for no amount
    page.get_by_label("Currency").select_option("EUR")
    page.locator("[data-tiles=one_off] input[value='one_off:10']").check()
    expect(label).to_contain_text("Add €0.56 ")
    page.get_by_label("Currency").select_option("JPY")
    page.locator("[data-tiles=one_off] input").first.check()
    tile = page.locator("[data-tiles=one_off] input").first.get_attribute("value") or ""
    yen = int(tile.removeprefix("one_off:"))
    expect(label).to_contain_text(f"Add ¥{-(-yen * 10_000 // 9_710) - yen} ")
    page.get_by_label("Currency").select_option("USD")
    page.locator("[data-tiles=one_off] input[value='one_off:10']").check()

    label.click()  # the label ticks its box
    page.get_by_role("button", name=GIVE).click()
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
    page.get_by_role("button", name="Give £5 a month").click()
    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 5.36 GBP every month")


def test_without_javascript_one_off_shows_its_own_tiles_and_words(no_js_page, live_server):
    page = no_js_page
    page.goto(f"{live_server.url}/give")
    button = page.get_by_role("button", name=GIVE)
    expect(button).to_have_accessible_name("Give $10 a month")
    page.get_by_role("radio", name="One-off").check()
    expect(page.locator(".amounts legend")).to_have_text("Amount", use_inner_text=True)
    expect(page.locator("[data-tiles=month]")).to_be_hidden()
    expect(button).to_have_accessible_name("Give once")  # the ticked $10 a month is out of sight
    page.get_by_role("radio", name="$50").check()
    expect(button).to_have_accessible_name("Give $50")
    page.get_by_role("radio", name="Annual").check()
    expect(page.locator(".amounts legend")).to_have_text("Amount per year", use_inner_text=True)
    page.get_by_role("radio", name="$200").check()
    expect(button).to_have_accessible_name("Give $200 a year")
    button.click()
    page.wait_for_url(CHECKOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 200.00 USD every year")


# Where to keep screenshots of the give page, when SCREENSHOTS names a directory.
SCREENSHOTS = os.environ.get("SCREENSHOTS")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
FIRST_WORDS = {"en": "Give $10 a month", "ru": "Поддержать: 10\u00a0$ в месяц"}


def boxes(page, selector: str) -> list[dict]:
    found = page.locator(selector)
    return [found.nth(i).bounding_box() for i in range(found.count())]


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_give_page_fits_the_screen_and_says_the_gift(browser, live_server, lang, size):
    viewport = SIZES[size]
    with policed(browser.new_context(locale=lang, viewport=viewport)) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/give?lang={lang}")
        button = page.locator("[data-give]")
        expect(button).to_have_text(FIRST_WORDS[lang])
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
        targets = boxes(page, ".segment:visible, .tile:visible, .other-pick:visible")
        assert len(targets) == 3 + 3 + 1 + 1  # frequencies, monthly tiles, "Other amount"
        assert all(b["width"] >= 44 and b["height"] >= 44 for b in targets), targets
        rows = {round(b["y"]) for b in boxes(page, "[data-tiles=month] .tile")}
        assert len(rows) == 1, "the monthly tiles share one row"
        if size == "phone":
            form = page.locator(".donation-form").bounding_box()
            assert button.bounding_box()["width"] == pytest.approx(form["width"], abs=1)
        violations = axe_module.Axe().run(page).response["violations"]
        assert [v["id"] for v in violations] == []
        if SCREENSHOTS:
            shot = f"{SCREENSHOTS}/give-{lang}-{viewport['width']}.png"
            page.screenshot(path=shot, full_page=True)
        if lang == "en":
            page.get_by_role("radio", name="One-off").check()
            expect(button).to_have_text("Give $25")
            page.get_by_role("radio", name="Monthly").check()
            expect(button).to_have_text("Give $10 a month")
            page.get_by_role("radio", name="$20").check()
            expect(button).to_have_text("Give $20 a month")
            page.locator("#custom_amount").fill("12.5")
            expect(button).to_have_text("Give $12.50 a month")
            page.get_by_role("radio", name="Annual").check()
            expect(button).to_have_text("Give $12.50 a year")
            page.get_by_role("radio", name="$50").check()
            expect(page.locator("#custom_amount")).to_have_value("")
            expect(button).to_have_text("Give $50 a year")
            if SCREENSHOTS:
                shot = f"{SCREENSHOTS}/give-{lang}-{viewport['width']}-annual.png"
                page.screenshot(path=shot, full_page=True)
