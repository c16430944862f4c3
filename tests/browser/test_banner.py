"""The embedded banner on an article page: what it loads, how it looks, where it links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import HOW_TO_ENABLE
from tests.factories import make_campaign

sync_api = pytest.importorskip("playwright.sync_api", reason=HOW_TO_ENABLE)
expect = sync_api.expect
pytestmark = pytest.mark.browser

MAX_EMBED_BYTES = 15 * 1024


def test_banner_loads_only_its_script_and_sets_no_cookie(page, context, live_server):
    article = f"{live_server.url}/demo/article"
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(article)
    expect(page.locator("support-banner").get_by_role("link")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # The order the two finish in is the network's business, not ours.
    assert sorted(request.url for request in loaded) == [article, f"{live_server.url}/embed.js"]
    banner = [request for request in loaded if request.url != article]
    banner_bytes = sum(request.sizes()["responseBodySize"] for request in banner)
    assert 0 < banner_bytes < MAX_EMBED_BYTES
    assert context.cookies() == []


def test_article_styles_stay_out_of_the_banner(page, live_server):
    page.goto(f"{live_server.url}/demo/article")
    button = page.locator("support-banner").get_by_role("link")
    expect(button).to_be_visible()
    # The article sets Georgia and blue links; the banner keeps its own sans-serif and white.
    font = button.evaluate("el => getComputedStyle(el).fontFamily")
    color = button.evaluate("el => getComputedStyle(el).color")
    assert "Georgia" not in font and "system-ui" in font
    assert color == "rgb(255, 255, 255)"
    # The host's own reset and spacing apply too, under the article's strict policy.
    margin = page.locator("support-banner").evaluate("el => getComputedStyle(el).marginTop")
    assert margin == "24px"  # 1.5em of the initial 16px, not the article's 19px


def test_campaign_copy_and_language_follow_the_tags_data_attributes(page, live_server):
    with live_server.app.app_context():
        make_campaign(slug="spring", headline="Spring drive", button_text="Chip in")
        make_campaign(slug="year-end", headline="Keep the lights on", button_text="Give now")
    page.goto(f"{live_server.url}/demo/article?campaign=spring&lang=ru")
    banner = page.locator("support-banner")
    expect(banner.get_by_text("Spring drive")).to_be_visible()
    link = banner.get_by_role("link", name="Chip in")
    query = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert query["campaign"] == ["spring"] and query["lang"] == ["ru"]
    assert query["utm_source"] == ["demo-article"]

    link.click()
    page.wait_for_url(re.compile(r".*/give\?.*"))
    expect(page.locator("input[name=campaign]")).to_have_value("spring")
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def test_the_demo_article_shows_the_banner_when_browsed_by_another_name(page, live_server):
    """BASE_URL names 127.0.0.1; a visit by "localhost" still loads the script from there,
    as an article on another site does, and its policy lets it."""
    other_name = live_server.url.replace("127.0.0.1", "localhost")
    page.goto(f"{other_name}/demo/article")
    expect(page.locator("support-banner").get_by_role("link")).to_be_visible()
