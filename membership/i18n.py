"""English and Russian: which language a request gets, and remembering a reader's choice."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, Request, Response, current_app, has_request_context, request
from flask_babel import get_locale

from membership.extensions import babel

COOKIE_NAME = "lang"
COOKIE_MAX_AGE = timedelta(days=365)
# Each language named in itself, as a switcher should show it whatever the page's language.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register(app: Flask) -> None:
    """Bind Flask-Babel to the project-root translations and remember a `?lang=` choice."""
    # Flask-Babel resolves relative directories against app.root_path (the package dir).
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", os.path.join(PROJECT_ROOT, "translations")
    )
    babel.init_app(app, locale_selector=lambda: parsed_locale(select_locale()))
    app.after_request(remember_choice)
    app.jinja_env.globals["language_links"] = language_links


def supported(value: str | None) -> str | None:
    """The language code if the app offers it, else None (bad input is ignored, never an error)."""
    if not value:
        return None
    code = value.strip().lower()
    return code if code in current_app.config["LANGUAGES"] else None


def select_locale() -> str:
    """`?lang=`, then the `lang` cookie, then Accept-Language, then the default."""
    if not has_request_context():  # a CLI command or the outbox: no reader to ask
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    config = current_app.config
    return (
        supported(request.args.get("lang"))
        or supported(request.cookies.get(COOKIE_NAME))
        or request.accept_languages.best_match(config["LANGUAGES"])
        or config["BABEL_DEFAULT_LOCALE"]
    )


# Flask-Babel parses the selector's answer on every request; there are only a few answers.
parsed_locale = functools.cache(Locale.parse)


def is_embed_request(req: Request) -> bool:
    """The embeddable banner is served on other sites' pages and must set no cookies."""
    path = req.path
    return path == "/embed.js" or path.startswith("/embed/") or req.blueprint == "embed"


def remember_choice(response: Response) -> Response:
    """A valid `?lang=` becomes the `lang` cookie, so the next pages keep the language."""
    if request.endpoint == "static" or is_embed_request(request):
        return response  # the banner's caching and headers are its own blueprint's business
    # The same URL answers in either language: caches must key on what chose it.
    response.vary.update(("Accept-Language", "Cookie"))
    chosen = supported(request.args.get("lang"))
    if chosen is None:
        return response
    response.set_cookie(
        COOKIE_NAME,
        chosen,
        max_age=COOKIE_MAX_AGE,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    current: bool


def language_links(keep_query: bool = True) -> list[LanguageLink]:
    """This page in each language, as query-only links (`?lang=ru`) that keep the path.

    Error pages pass keep_query=False: they echo nothing of the request, not even its query.
    """
    current = str(get_locale())
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] if keep_query else []
    return [
        LanguageLink(
            code,
            LANGUAGE_NAMES.get(code, code),
            "?" + urlencode([*kept, ("lang", code)]),
            code == current,
        )
        for code in current_app.config["LANGUAGES"]
    ]
