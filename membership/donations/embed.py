"""The banner newsrooms paste into article pages, and a demo article that embeds it.

A newsroom adds one tag to its article template (the `<noscript>` link is for readers
without JavaScript):

    <script src="https://give.example.org/embed.js" data-campaign="year-end"
            data-utm-source="article" data-utm-medium="banner" data-lang="en" async></script>
    <noscript><a href="https://give.example.org/give?campaign=year-end">Support us</a></noscript>

Optional data attributes: data-campaign (a campaign slug), data-utm-source, -medium,
-campaign, -content, -term, and data-lang (en, ru; else the page's or browser's language).
The script draws the banner right after its own tag, inside a Shadow DOM, and links to
`/give` with the article URL, referrer, campaign and UTM tags as attribution. It loads
nothing else, sets no cookies, and is the same bytes for every page, so caches can share it.

Where a page cannot run third-party scripts, the same banner comes as a frame:

    <iframe src="https://give.example.org/embed/banner?campaign=year-end&utm_source=article"
            title="Support us" loading="lazy" style="border:0;width:100%;height:12em"></iframe>
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from werkzeug.datastructures import Headers

from membership.cache import cached
from membership.donations import checkout, services
from membership.extensions import unlimited

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("embed", __name__)
# The script bakes in the copy of this many running campaigns; older ones get the default.
MAX_CAMPAIGNS = 10
# A banner is a few lines: longer copy is cut (the model's limits are not enforced on SQLite).
MAX_HEADLINE_CHARS = 200
MAX_BODY_CHARS = 300
MAX_BUTTON_CHARS = 60
# Bytes of campaign copy baked into the script; with the code and the default copy the whole
# script stays under 15 KB however many campaigns run and however long their copy.
CAMPAIGN_COPY_BUDGET = 7 * 1024
CACHE_SECONDS = 300


class CookielessResponse(Response):
    """A response that goes out with no cookie and no "Vary: Cookie", whatever else ran.

    Flask saves the session (and Flask-Login reads it, adding "Vary: Cookie") after every
    after_request hook, so the headers are cleaned here, as they are sent. Nothing these
    responses say depends on a cookie, so dropping the Vary is true as well as cache-friendly.
    """

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        headers = super().get_wsgi_headers(environ)
        if "Set-Cookie" in headers:
            headers.remove("Set-Cookie")
        if "Vary" in headers:
            # Vary lists bare field names (RFC 9110 12.5.5): no quoting to parse around.
            vary = [v.strip() for v in headers["Vary"].split(",")]
            headers.remove("Vary")
            if kept := [v for v in vary if v and v.lower() != "cookie"]:
                headers["Vary"] = ", ".join(kept)
        return headers


@bp.get("/embed.js")
@unlimited  # loaded by every reader of every article; a per-address limit hits whole NATs
def script() -> Response:
    """The banner script, with every running campaign's copy in every language baked in."""
    body = cached(
        "embed.js",
        lambda: render_template(
            "embed/embed.js",
            copy=to_json(copy_table()),
            give_url=current_app.config["BASE_URL"] + url_for("donations.give"),
            default_lang=default_lang(),
        ),
    )
    response = CookielessResponse(body, content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Article pages on other sites load this; a global same-origin policy must not block it.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed/banner")
@unlimited
def banner() -> Response:
    """The banner as a page for an <iframe>, where the newsroom cannot run our script.

    A frame cannot see the article's address; `article_url` may be passed in the frame's
    query, else the Referer (often only the article's origin) stands in for it.
    """
    campaign = services.active_campaign(request.args.get("campaign"))
    attribution = checkout.clean_attribution(request.args)
    from_referrer = not attribution["article_url"] and request.referrer
    if from_referrer:
        attribution["article_url"] = checkout.clean_url(request.referrer)
    asked = requested_lang()
    # The `lang` cookie is not consulted (frames rarely get it): the frame's query or the
    # browser's languages decide, so the page depends on no cookie.
    lang = asked or request.accept_languages.best_match(languages()) or default_lang()
    query = {k: v for k, v in attribution.items() if v} | ({"lang": asked} if asked else {})
    with force_locale(lang):
        body = render_template(
            "embed/banner.html",
            copy=services.prompt_copy(campaign),
            lang=lang,
            give_url=current_app.config["BASE_URL"] + url_for("donations.give", **query),
        )
    response = CookielessResponse(body, content_type="text/html; charset=utf-8")
    # Shared caches key on the URL: a page built from the Referer must not be shared.
    cache = "no-store" if from_referrer else f"public, max-age={CACHE_SECONDS}"
    response.headers["Cache-Control"] = cache
    # Any site may frame it; the page itself may load nothing but its inline styles.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors *"
    )
    if not asked:
        response.vary.add("Accept-Language")
    return response


@bp.get("/demo/article")
def demo_article() -> ResponseReturnValue:
    """A made-up local news story that embeds the banner exactly as a newsroom would.

    It is sent a policy as strict as a careful newsroom's: its own inline stylesheet by nonce,
    scripts from our host only, no inline style. The banner must work under it (the browser
    tests fail on any violation), so it does on such a newsroom's pages.
    """
    campaign = services.active_campaign(request.args.get("campaign"))
    nonce = secrets.token_urlsafe(16)
    # The page loads the script from BASE_URL, as an article loads it from our host: that
    # origin is allowed by name (it is not this page's own when browsed by another address).
    base = urlsplit(current_app.config["BASE_URL"])
    policy = (
        f"default-src 'self'; script-src 'self' {base.scheme}://{base.netloc}; "
        f"style-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    return render_template(
        "demo/article.html",
        base_url=current_app.config["BASE_URL"],
        campaign=campaign.slug if campaign else None,
        lang=requested_lang(),
        nonce=nonce,
    ), {"Content-Security-Policy": policy}


def copy_table() -> dict[str, dict[str, dict[str, str]]]:
    """{lang: {campaign slug or "": {headline, body, button}}}; "" is the default prompt.

    The script picks by its tag's data-campaign and data-lang, so one cached script serves
    every campaign and language (the server never sees the tag's data attributes). Newest
    campaigns come first until CAMPAIGN_COPY_BUDGET is spent; the rest show the default.
    """
    default = services.active_campaign()
    table: dict[str, dict[str, dict[str, str]]] = {}
    for lang in languages():
        with force_locale(lang):
            table[lang] = {"": as_dict(services.prompt_copy(default))}
    spent = 0
    for campaign in services.running_campaigns(MAX_CAMPAIGNS):
        entry = {}
        for lang in languages():
            with force_locale(lang):
                entry[lang] = as_dict(services.prompt_copy(campaign))
        spent += len(to_json(entry).encode())
        if spent > CAMPAIGN_COPY_BUDGET:
            break
        for lang, copy in entry.items():
            table[lang][campaign.slug] = copy
    return table


def to_json(value: object) -> str:
    """Compact JSON for a script: UTF-8 text, not \\u escapes (Cyrillic would triple)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # Line and paragraph separators end a string literal in pre-2019 JavaScript engines.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def as_dict(copy: services.PromptCopy) -> dict[str, str]:
    return {
        "headline": shorten(copy.headline, MAX_HEADLINE_CHARS),
        "body": shorten(copy.body, MAX_BODY_CHARS),
        "button": shorten(copy.button, MAX_BUTTON_CHARS),
    }


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, so a long appeal still fits a banner."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",.;: ") + "…"


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def requested_lang() -> str | None:
    """A supported `?lang=`, else None."""
    lang = request.args.get("lang", "").strip().lower()
    return lang if lang in languages() else None


def default_lang() -> str:
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])
