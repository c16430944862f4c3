"""English and Russian: choosing the language, remembering it, and catalogs that are complete."""

from __future__ import annotations

import os
from http.cookies import SimpleCookie

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from flask_babel import gettext
from werkzeug.test import TestResponse

from membership.i18n import select_locale

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRANSLATIONS = os.path.join(ROOT, "translations")
POT = os.path.join(TRANSLATIONS, "messages.pot")
RU_PO = os.path.join(TRANSLATIONS, "ru", "LC_MESSAGES", "messages.po")
RU_MO = os.path.join(TRANSLATIONS, "ru", "LC_MESSAGES", "messages.mo")
# The keywords `pybabel extract` is run with (see the report / Makefile's translations target).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
NBSP = "\xa0"

RUSSIAN_PROMPT = "Поддержите The Test Gazette!"
ENGLISH_PROMPT = "Support The Test Gazette!"


def lang_cookie(response: TestResponse) -> SimpleCookie | None:
    """The `lang` cookie this response sets, parsed, or None."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if "lang" in cookie:
            return cookie
    return None


def read_catalog(path: str, reader=read_po) -> Catalog:
    with open(path, "rb") as f:
        return reader(f)


# Choosing the language


def test_lang_query_gives_russian_and_a_cookie_that_later_pages_keep(client: FlaskClient) -> None:
    response = client.get("/?lang=ru")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ru">' in page
    assert RUSSIAN_PROMPT in page
    assert "Поддержать сегодня" in page  # the button
    cookie = lang_cookie(response)
    assert cookie is not None
    morsel = cookie["lang"]
    assert morsel.value == "ru"
    assert morsel["max-age"] == str(365 * 24 * 3600)
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"]  # the test app serves plain http

    form = client.get("/give").get_data(as_text=True)
    assert "Как часто?" in form
    assert f"Поддержать: 10{NBSP}$ в месяц" in form
    assert "Ежемесячно" in form


def test_the_cookie_is_secure_when_the_session_cookie_is(app: Flask, client: FlaskClient) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = lang_cookie(client.get("/?lang=ru"))
    assert cookie is not None
    assert cookie["lang"]["secure"] is True


def test_the_cookie_alone_chooses_russian(client: FlaskClient) -> None:
    client.set_cookie("lang", "ru")
    response = client.get("/")
    assert RUSSIAN_PROMPT in response.get_data(as_text=True)
    assert lang_cookie(response) is None  # nothing new to remember


def test_accept_language_chooses_russian(client: FlaskClient) -> None:
    response = client.get("/give", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    page = response.get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert f"Поддержать: 10{NBSP}$ в месяц" in page
    assert lang_cookie(response) is None
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_without_any_hint_the_page_is_english(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert ENGLISH_PROMPT in page


@pytest.mark.parametrize(
    "query", ["?lang=xx", "?lang=", "?lang=ru-RU", "?lang=%E2%80%AE", "?lang=" + "r" * 500]
)
def test_an_unknown_lang_is_ignored(client: FlaskClient, query: str) -> None:
    response = client.get("/" + query)
    assert response.status_code == 200
    assert ENGLISH_PROMPT in response.get_data(as_text=True)
    assert lang_cookie(response) is None


@pytest.mark.parametrize("value", ["xx", "", "ru; evil=1", "../ru"])
def test_an_unknown_cookie_is_ignored(client: FlaskClient, value: str) -> None:
    client.set_cookie("lang", value)
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert ENGLISH_PROMPT in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("?lang=en", "ru", "ru", ENGLISH_PROMPT),  # the query beats the cookie
        ("", "en", "ru", ENGLISH_PROMPT),  # the cookie beats the browser
        ("?lang=xx", "ru", "en", RUSSIAN_PROMPT),  # a bad query falls through to the cookie
        ("", "xx", "ru", RUSSIAN_PROMPT),  # a bad cookie falls through to the browser
    ],
)
def test_precedence(
    client: FlaskClient, query: str, cookie: str, accept: str, expected: str
) -> None:
    client.set_cookie("lang", cookie)
    page = client.get("/" + query, headers={"Accept-Language": accept}).get_data(as_text=True)
    assert expected in page


def test_the_switcher_links_keep_the_query(client: FlaskClient) -> None:
    page = client.get("/give?currency=EUR&lang=ru").get_data(as_text=True)
    assert 'href="?currency=EUR&amp;lang=en" hreflang="en" lang="en">English</a>' in page
    assert 'lang="ru" aria-current="true">Русский</a>' in page


def test_outside_a_request_the_default_language_is_used(app: Flask) -> None:
    with app.app_context():
        assert select_locale() == "en"
        assert gettext("Contribute today") == "Contribute today"


# Russian content


def test_amounts_on_the_russian_form_are_formatted_the_russian_way(client: FlaskClient) -> None:
    page = client.get("/give?lang=ru&frequency=one_off&currency=EUR").get_data(as_text=True)
    for place, major in enumerate(("10", "25", "50", "100"), start=1):
        assert f'<label for="amount-one_off-{place}">{major}{NBSP}€</label>' in page
    english = client.get("/give?lang=en&frequency=one_off&currency=EUR").get_data(as_text=True)
    assert '<label for="amount-one_off-1">€10</label>' in english


def test_a_too_small_amount_is_refused_in_russian(client: FlaskClient) -> None:
    response = client.post(
        "/give?lang=ru",
        data={"frequency": "one_off", "amount": "other", "custom_amount": "1", "currency": "EUR"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Минимальная сумма пожертвования — 3,00{NBSP}€." in page
    assert "Пожалуйста, проверьте выделенные поля." in page


def test_error_pages_are_in_russian(client: FlaskClient) -> None:
    client.set_cookie("lang", "ru")
    response = client.get("/no-such-page?q=echo-me")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Мы не смогли найти эту страницу." in page
    assert "Вернуться на главную" in page
    assert 'href="?lang=en"' in page  # the switcher keeps the path, and echoes nothing
    assert "echo-me" not in page
    json_error = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert json_error.get_json()["error"]["message"] == "Мы не смогли найти эту страницу."


# The embeddable banner sets no cookies


def test_no_lang_cookie_on_embed_js(app: Flask, client: FlaskClient) -> None:
    if not any(rule.rule == "/embed.js" for rule in app.url_map.iter_rules()):
        pytest.skip("the embed blueprint (/embed.js) is not registered yet")
    response = client.get("/embed.js?lang=ru")
    assert lang_cookie(response) is None


def test_no_lang_cookie_under_embed_paths(app: Flask, client: FlaskClient) -> None:
    """The rule itself, on a stand-in route, whether or not the real banner exists yet."""
    stand_in = Blueprint("embed_stand_in", __name__, url_prefix="/embed/i18n-test")
    stand_in.add_url_rule("/banner", "banner", lambda: "banner")
    app.register_blueprint(stand_in)
    response = client.get("/embed/i18n-test/banner?lang=ru")
    assert response.status_code == 200
    assert lang_cookie(response) is None


# The catalogs


def messages(catalog: Catalog) -> dict[object, object]:
    """Id to translation; read_mo gives a plural message's ids and forms as lists."""
    return {hashable(m.id): hashable(m.string) for m in catalog if m.id}


def hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def test_the_committed_mo_matches_the_po(tmp_path) -> None:
    compiled = tmp_path / "messages.mo"
    with open(compiled, "wb") as f:
        write_mo(f, read_catalog(RU_PO))
    fresh = messages(read_catalog(str(compiled), read_mo))
    committed = messages(read_catalog(RU_MO, read_mo))
    assert committed == fresh, "run `pybabel compile -d translations` and commit the .mo"


def test_every_template_string_has_a_russian_translation() -> None:
    ru = read_catalog(RU_PO)
    untranslated = []
    for message in read_catalog(POT):
        if not message.id:
            continue
        translation = ru.get(message.id, message.context)
        if (
            translation is None
            or translation.fuzzy
            or not all(
                translation.string
                if isinstance(translation.string, tuple)
                else [translation.string]
            )
        ):
            untranslated.append(message.id)
    assert not untranslated, "translate these in translations/ru/LC_MESSAGES/messages.po"
    assert not ru.fuzzy
    assert ru.plural_forms.startswith("nplurals=3;")


def test_russian_placeholders_match_the_english() -> None:
    problems = [(m.id, [str(e) for e in errors]) for m, errors in read_catalog(RU_PO).check()]
    assert not problems


def test_the_pot_has_every_string_in_the_source() -> None:
    """A new `_()` string fails here until it is extracted, translated and compiled."""
    with open(os.path.join(ROOT, "babel.cfg")) as f:
        method_map, options_map = parse_mapping_cfg(f)
    in_source = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        in_source.add((msgid, context))
    in_pot = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in read_catalog(POT)}
    missing = sorted(msgid for msgid, _context in in_source - in_pot)
    assert not missing, "run the extract and update commands (see babel.cfg)"
