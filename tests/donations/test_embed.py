"""The embeddable banner script and the demo article, without a browser."""

from __future__ import annotations

import json
import re

import pytest

from membership.donations.embed import shorten
from tests.factories import FIXED_NOW, make_campaign

MAX_EMBED_BYTES = 15 * 1024


def baked_copy(script: str) -> dict:
    """The copy table the server wrote into the script."""
    match = re.search(r"var COPY = (\{.*?\});\n", script)
    assert match, "the script declares its copy table"
    return json.loads(match.group(1))


def test_script_is_javascript_cached_for_five_minutes(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", ["", "?lang=ru", "?campaign=year-end&lang=en"])
def test_script_sets_no_cookie_even_with_a_session_or_a_language_choice(client, query):
    client.set_cookie("session", "anything")
    client.set_cookie("lang", "ru")
    response = client.get(f"/embed.js{query}")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_script_is_not_rate_limited(app, client):
    app.config["RATELIMIT_DEFAULT"] = "1 per hour"
    statuses = {client.get("/embed.js").status_code for _ in range(8)}
    assert statuses == {200}
    assert "X-RateLimit-Limit" not in client.get("/embed.js").headers


def test_script_is_small_and_loads_nothing_from_anyone_else(app, client):
    with app.app_context():
        make_campaign(slug="year-end", headline="Keep the lights on", body="Reporting costs. " * 40)
    script = client.get("/embed.js").get_data()
    # Everything the banner loads is this one script: no images, fonts or stylesheets.
    assert len(script) < MAX_EMBED_BYTES
    text = script.decode()
    urls = re.findall(r"""(?:https?:)?//[^\s"'`)]+""", text)
    assert urls == ["http://localhost/give"]
    for forbidden in (
        "document.cookie",
        "localStorage",
        "fetch(",
        "XMLHttpRequest",
        "@import",
        "url(",
    ):
        assert forbidden not in text


def test_script_uses_the_default_prompt_without_a_campaign(client):
    copy = baked_copy(client.get("/embed.js").get_data(as_text=True))
    assert copy["en"][""] == {
        "headline": "Support The Test Gazette!",
        "body": "Now is the time to support independent reporting.",
        "button": "Contribute today",
    }
    assert set(copy) == {"en", "ru"}
    assert copy["ru"][""]["button"] != "Contribute today"


def test_script_carries_each_running_campaigns_copy(app, client):
    with app.app_context():
        make_campaign(slug="ended", headline="Old appeal", ends_at=FIXED_NOW)
        make_campaign(slug="spring", headline="Spring drive", button_text="Chip in")
        make_campaign(
            slug="year-end",
            headline="Keep the lights on",
            body="Give before midnight.",
            button_text="Give now",
        )
    copy = baked_copy(client.get("/embed.js").get_data(as_text=True))["en"]
    assert copy["year-end"] == {
        "headline": "Keep the lights on",
        "body": "Give before midnight.",
        "button": "Give now",
    }
    assert copy["spring"]["button"] == "Chip in"
    assert copy["spring"]["body"] == "Now is the time to support independent reporting."
    assert copy[""]["headline"] == "Keep the lights on"  # the newest running campaign
    assert "ended" not in copy


def test_script_links_to_the_form_with_campaign_utm_and_article(client):
    script = client.get("/embed.js").get_data(as_text=True)
    assert 'var GIVE = "http://localhost/give";' in script
    for param in ("campaign", "article_url", "referrer", "lang"):
        assert f'params.set("{param}"' in script
    for tag in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"):
        assert f'"{tag}"' in script
    # Shadow DOM keeps the article's styles away; currentScript places the banner.
    assert "attachShadow" in script and "document.currentScript" in script


def test_long_copy_is_cut_at_a_word():
    assert shorten("short", 10) == "short"
    assert shorten("word " * 100, 22) == "word word word word…"
    assert shorten("x" * 300, 60) == "x" * 59 + "…"


def test_script_stays_small_however_many_and_long_the_campaigns(app, client):
    with app.app_context():
        for n in range(12):
            make_campaign(
                slug=f"long-{n}", headline="Ж" * 200, body="слово " * 200, button_text="Б" * 60
            )
    script = client.get("/embed.js").get_data()
    assert len(script) < MAX_EMBED_BYTES
    copy = baked_copy(script.decode())
    assert copy["ru"]["long-11"]["body"].endswith("слово…")  # the newest campaign is in
    assert "long-0" not in copy["ru"]  # the oldest fall back to the default copy


def test_demo_article_embeds_the_banner_as_a_newsroom_would(app, client):
    with app.app_context():
        make_campaign(slug="year-end")
    response = client.get("/demo/article?campaign=year-end")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    tag = re.search(r"<script src=\"http://localhost/embed.js\"[^>]*></script>", html)
    assert tag, "the article embeds the script by its absolute URL"
    assert 'data-campaign="year-end"' in tag.group(0)
    assert 'data-utm-source="demo-article"' in tag.group(0) and " async" in tag.group(0)
    assert '<noscript><p><a href="http://localhost/give?campaign=year-end&amp;' in html
    # The snippet is shown on the page for newsrooms to copy.
    assert "&lt;script src=&#34;http://localhost/embed.js&#34;" in html or (
        '&lt;script src="http://localhost/embed.js"' in html
    )


def test_iframe_banner_links_out_of_the_frame_with_attribution_and_no_cookie(app, client):
    with app.app_context():
        make_campaign(slug="year-end", headline="Keep the lights on", button_text="Give now")
    response = client.get(
        "/embed/banner?campaign=year-end&utm_source=site&lang=ru",
        headers={"Referer": "https://news.example.org/story?id=7#top"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Keep the lights on" in html and "Give now" in html
    assert '<html lang="ru">' in html
    link = re.search(r'<a class="a" href="([^"]+)" target="_top">', html)
    assert link, "the button leaves the frame"
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("http://localhost/give?")
    for part in ("campaign=year-end", "utm_source=site", "lang=ru", "article_url=https"):
        assert part in href
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"  # built from this Referer


def test_iframe_banner_without_referrer_is_cacheable(client):
    response = client.get("/embed/banner?article_url=https://news.example.org/a&lang=en")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Contribute today" in response.get_data(as_text=True)


def test_iframe_banner_follows_the_browser_language_not_a_cookie(client):
    client.set_cookie("lang", "en")
    response = client.get("/embed/banner", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in response.get_data(as_text=True)
    assert response.headers["Vary"] == "Accept-Language"


def test_iframe_banner_is_a_page_with_a_main_and_an_h1_within_the_budget(app, client):
    """axe wants a frame's page to have its landmark and heading; they cost a few bytes."""
    with app.app_context():
        make_campaign(slug="long", headline="Ж" * 200, body="слово " * 200, button_text="Б" * 60)
    body = client.get("/embed/banner?campaign=long&lang=ru").get_data()
    html = body.decode()
    assert html.count("<main ") == 1 and html.count("<h1 ") == 1
    assert len(body) < MAX_EMBED_BYTES
