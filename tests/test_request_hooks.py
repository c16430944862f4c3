"""What every request passes through, kept cheap without losing what each part is for.

The session, CSRF, the request log and the language choice run on every page; these pin
their behaviour where it was made cheaper.
"""

from __future__ import annotations

import inspect
import logging
import re
from datetime import timedelta

import flask_login
import pytest
from flask import Flask, Response, session
from flask_babel import get_locale

from membership.extensions import login_manager
from membership.logs import JsonFormatter

ENGLISH_PROMPT = "Support The Test Gazette!"
RUSSIAN_PROMPT = "Поддержите The Test Gazette!"
STATIC_FILE = "/static/css/site.css"


@pytest.fixture
def session_app(make_app) -> Flask:
    app = make_app()

    @app.get("/test/remember/<value>")
    def remember(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/test/recall")
    def recall() -> str:
        return str(session.get("value"))

    @app.get("/test/forget")
    def forget() -> str:
        session.clear()
        return "ok"

    return app


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


# Sessions


def test_a_session_is_stored_and_read_back(session_app):
    client = session_app.test_client()
    assert any(c.startswith("session=") for c in set_cookies(client.get("/test/remember/kept")))
    response = client.get("/test/recall")
    assert response.get_data(as_text=True) == "kept"
    assert "Cookie" in response.headers["Vary"]


@pytest.mark.parametrize("cookie", ["", "forged.value.signature"])
def test_an_empty_or_forged_session_cookie_reads_as_an_empty_session(session_app, cookie):
    client = session_app.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/test/recall").get_data(as_text=True) == "None"


def test_a_request_without_cookies_reading_the_session_varies_on_cookie(session_app):
    response = session_app.test_client().get("/test/recall")
    assert response.get_data(as_text=True) == "None"
    assert "Cookie" in response.headers["Vary"] and not set_cookies(response)


def test_clearing_a_session_deletes_its_cookie(session_app):
    client = session_app.test_client()
    client.get("/test/remember/kept")
    [deleted] = set_cookies(client.get("/test/forget"))
    assert deleted.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in deleted


def test_a_request_without_cookies_gets_no_cookie_and_no_vary_on_cookie(client):
    """Flask-Login reads the session after every request, which made Flask add "Vary: Cookie"
    even to static files (shared caches then keep a copy per cookie)."""
    response = client.get(STATIC_FILE)
    assert response.status_code == 200 and not set_cookies(response)
    assert "Cookie" not in response.headers.get("Vary", "")


def test_with_cookies_flask_login_still_looks_at_the_session(client):
    client.set_cookie("session", "anything")
    assert "Cookie" in client.get(STATIC_FILE).headers["Vary"]


def test_the_flask_login_hook_we_override_is_still_the_one_it_runs(app):
    """extensions.LoginManager overrides Flask-Login's private `_update_remember_cookie`, the
    one library private name membership/ touches (no public hook keeps "Vary: Cookie" off
    cookieless pages). If Flask-Login renames, drops or stops registering it, this fails."""
    hook = flask_login.LoginManager.__dict__.get("_update_remember_cookie")
    assert hook is not None, "Flask-Login no longer has _update_remember_cookie: see extensions"
    assert list(inspect.signature(hook).parameters) == ["self", "response"]
    assert login_manager._update_remember_cookie in app.after_request_funcs[None]


# CSRF


def test_csrf_still_refuses_a_post_without_a_token_and_ignores_gets(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    assert client.get("/").status_code == 200
    assert client.post("/give", data={"amount": "25"}).status_code == 400


# The request log


def test_each_request_is_logged_once_with_its_route_never_its_path(client, caplog):
    caplog.set_level(logging.INFO, logger="membership")
    response = client.get("/embed.js")
    [record] = [r for r in caplog.records if r.name == "membership.request"]
    assert record.funcName == "log_request" and record.filename == "logs.py"
    assert record.fields == {
        "request_id": response.headers["X-Request-ID"],
        "method": "GET",
        "route": "/embed.js",
        "status": 200,
        "duration_ms": record.fields["duration_ms"],
        "bytes": len(response.get_data()),
    }
    assert '"route": "/embed.js"' in JsonFormatter().format(record)


def test_request_ids_are_32_random_hex_digits_unless_the_proxy_sent_one(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    forwarded = client.get("/healthz", headers={"X-Request-ID": "proxy-req-0001"})
    assert forwarded.headers["X-Request-ID"] == "proxy-req-0001"


def test_the_formatter_still_writes_what_json_cannot():
    record = logging.LogRecord("membership", logging.INFO, __file__, 1, "event", (), None)
    record.fields = {"when": timedelta(seconds=5)}
    assert '"when": "0:00:05"' in JsonFormatter().format(record)


# Language


def test_each_request_is_served_in_its_own_language(client):
    """The choice must not leak from one request into the next."""
    assert RUSSIAN_PROMPT in client.get("/?lang=ru").get_data(as_text=True)
    assert ENGLISH_PROMPT in client.get("/?lang=en").get_data(as_text=True)
    client.delete_cookie("lang")
    assert ENGLISH_PROMPT in client.get("/").get_data(as_text=True)


def test_each_language_is_parsed_once(app):
    locales = []
    for _ in range(2):
        with app.test_request_context("/?lang=ru"):
            locales.append(get_locale())
    assert str(locales[0]) == "ru" and locales[0] is locales[1]


def test_the_prompt_page_varies_on_what_chooses_its_language(client):
    assert client.get("/").headers.getlist("Vary") == ["Accept-Language, Cookie"]
    client.set_cookie("session", "anything")  # the session is read too: Cookie, once
    assert client.get("/?lang=ru").headers.getlist("Vary") == ["Accept-Language, Cookie"]


# The cached prompt page


def test_the_cached_prompt_page_is_per_language_query_and_referrer(make_app):
    client = make_app(CACHE_SECONDS=3600).test_client()

    def give_link(path: str, **headers: str) -> str:
        html = client.get(path, headers=headers).get_data(as_text=True)
        return re.search(r'class="button" href="/give([^"]*)"', html).group(1)

    assert give_link("/") == ""
    assert "utm_source=mail" in give_link("/?utm_source=mail")
    assert "news.example" in give_link("/", Referer="https://news.example/story")
    assert "other.example" in give_link("/", Referer="https://other.example/story")
    assert give_link("/") == ""
    assert RUSSIAN_PROMPT in client.get("/", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )


def test_a_streamed_response_is_logged_without_reading_its_body_first(make_app, caplog):
    """Counting a streamed body's bytes would read it all into memory before sending any."""
    app = make_app()
    read: list[str] = []

    def body():
        for chunk in ("first", "second"):
            read.append(chunk)
            yield chunk

    app.add_url_rule("/stream-probe", "stream_probe", lambda: Response(body()))
    caplog.set_level(logging.INFO, logger="membership")
    response = app.test_client().get("/stream-probe", buffered=False)
    [record] = [r for r in caplog.records if r.name == "membership.request"]
    assert record.fields["bytes"] is None
    assert read == ["first"]  # the test client starts the body; nothing read it all
    assert b"".join(response.response) == b"firstsecond"
    response.close()
