"""The banner newsrooms paste into article pages, and a demo article that embeds it.

A newsroom adds one tag to its article template (the `<noscript>` link is for readers
without JavaScript):

    <script src="https://give.example.org/embed.js" data-campaign="year-end"
            data-utm-source="article" data-utm-medium="banner" data-lang="en" async></script>
    <noscript><a href="https://give.example.org/give?campaign=year-end">Support us</a></noscript>

The script draws the banner right after its own tag, inside a Shadow DOM, and links to
`/give` with the article URL, campaign and UTM tags as attribution. It loads nothing else,
sets no cookies, and is the same bytes for every page, so caches can share it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale

from membership.donations import services
from membership.extensions import db, limiter
from membership.models import Campaign

bp = Blueprint("embed", __name__)
# The script bakes in the copy of this many running campaigns; older ones get the default.
MAX_CAMPAIGNS = 10
# A banner is a few lines: a long campaign body is cut here so the script stays small.
MAX_BODY_CHARS = 300
CACHE_SECONDS = 300


class CookielessResponse(Response):
    """A response that cannot carry cookies, whatever the session, i18n or login code tries.

    Flask saves the session after every after_request hook has run, so stripping headers
    in a hook is too early; refusing set_cookie here is the one place that always holds.
    """

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None

    def delete_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None


@bp.get("/embed.js")
@limiter.exempt  # loaded by every reader of every article; a per-address limit hits whole NATs
def script() -> Response:
    """The banner script, with every running campaign's copy in every language baked in."""
    body = render_template(
        "embed/embed.js",
        copy=copy_table(),
        give_url=current_app.config["BASE_URL"] + url_for("donations.give"),
        default_lang=current_app.config["BABEL_DEFAULT_LOCALE"],
    )
    response = CookielessResponse(body, content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Article pages on other sites load this; a global same-origin policy must not block it.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/demo/article")
def demo_article() -> str:
    """A made-up local news story that embeds the banner exactly as a newsroom would."""
    campaign = services.active_campaign(request.args.get("campaign"))
    return render_template(
        "demo/article.html",
        base_url=current_app.config["BASE_URL"],
        campaign=campaign.slug if campaign else None,
        lang=request.args.get("lang") if request.args.get("lang") in languages() else None,
    )


def copy_table() -> dict[str, dict[str, dict[str, str]]]:
    """{lang: {campaign slug or "": {headline, body, button}}}; "" is the default prompt.

    The script picks by its tag's data-campaign and data-lang, so one cached script serves
    every campaign and language (the server never sees the tag's data attributes).
    """
    running = running_campaigns()
    default = services.active_campaign()
    table: dict[str, dict[str, dict[str, str]]] = {}
    for lang in languages():
        with force_locale(lang):
            entries = {"": as_dict(services.prompt_copy(default))}
            entries.update({c.slug: as_dict(services.prompt_copy(c)) for c in running})
        table[lang] = entries
    return table


def running_campaigns(now: datetime | None = None) -> list[Campaign]:
    """The newest running campaigns: the same window rule as services.active_campaign."""
    now = now or datetime.now(UTC)
    query = (
        sa.select(Campaign)
        .where(
            Campaign.archived.is_(False),
            sa.or_(Campaign.starts_at.is_(None), Campaign.starts_at <= now),
            sa.or_(Campaign.ends_at.is_(None), Campaign.ends_at > now),
        )
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(MAX_CAMPAIGNS)
    )
    return list(db.session.scalars(query))


def as_dict(copy: services.PromptCopy) -> dict[str, str]:
    return {"headline": copy.headline, "body": shorten(copy.body), "button": copy.button}


def shorten(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """Cut at a word boundary with an ellipsis, so a long appeal still fits a banner."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])
