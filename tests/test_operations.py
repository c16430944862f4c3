"""Operations: health check, request logs without personal data, error pages that leak nothing."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import abort

from membership import create_app
from membership.config import TestConfig
from membership.extensions import limiter
from membership.logs import JsonFormatter

pytestmark = pytest.mark.usefixtures("app_context")


def test_healthz_reports_a_reachable_migrated_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "schema": "current"}


def test_healthz_answers_503_without_details_when_the_database_is_down(tmp_path):
    config = type(
        "Down", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"}
    )
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": "unavailable",
        "schema": "unavailable",
    }


def test_check_schema_command_passes_on_a_migrated_database(runner):
    result = runner.invoke(args=["check-schema"])
    assert result.exit_code == 0 and "schema: current" in result.output


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "membership.request"]


def test_each_request_is_logged_as_structured_fields_without_query_or_path(client, caplog):
    caplog.set_level(logging.INFO, logger="membership")
    response = client.get(
        "/?email=reader%40example.org&utm_source=x", headers={"X-Request-ID": "proxy-req-12345"}
    )
    [record] = request_records(caplog)
    fields = record.fields
    assert fields["method"] == "GET" and fields["route"] == "/" and fields["status"] == 200
    assert fields["request_id"] == "proxy-req-12345" == response.headers["X-Request-ID"]
    assert fields["duration_ms"] >= 0
    line = JsonFormatter().format(record)
    assert json.loads(line)["route"] == "/"
    assert "example.org" not in line and "utm_source" not in line


def test_unmatched_paths_are_not_logged_and_bad_request_ids_are_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="membership")
    response = client.get(
        "/reader@example.org/secret-token", headers={"X-Request-ID": 'bad id"} <x>'}
    )
    [record] = request_records(caplog)
    assert record.fields["route"] is None and record.fields["status"] == 404
    assert (
        "<x>" not in response.headers["X-Request-ID"]
        and len(response.headers["X-Request-ID"]) == 32
    )
    assert "secret-token" not in JsonFormatter().format(record)


@pytest.fixture
def error_app(make_app):
    """An app with routes that fail on purpose, run as in production (exceptions not propagated)."""
    app = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @app.get("/test/boom")
    def boom():
        raise RuntimeError("db password is hunter2 sk_test_leak")

    @app.get("/test/boom/<token>")
    def boom_with_token(token):
        raise RuntimeError("failed")

    @app.get("/test/bad")
    def bad():
        abort(400)

    @app.get("/test/limited")
    @limiter.limit("1 per minute")
    def limited():
        return "ok"

    return app


def test_an_unhandled_error_logs_the_route_not_the_path_that_holds_a_token(error_app, caplog):
    """Flask's own line names the request path, and a sign-in link's path is its token."""
    assert error_app.test_client().get("/test/boom/tok-8c1f0e2d9a").status_code == 500
    [line] = [r for r in caplog.records if r.exc_info]
    assert line.getMessage() == "Exception on /test/boom/<token> [GET]"
    assert "tok-8c1f0e2d9a" not in JsonFormatter().format(line)


def test_500_page_shows_a_reference_and_no_internals(error_app, caplog):
    response = error_app.test_client().get("/test/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert response.headers["X-Request-ID"] in body
    for leak in ("hunter2", "sk_test_leak", "Traceback", "RuntimeError", "boom"):
        assert leak not in body
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records), (
        "the log keeps the cause"
    )


def test_400_and_429_pages_are_friendly(error_app):
    client = error_app.test_client()
    assert client.get("/test/bad").status_code == 400
    assert client.get("/test/limited").status_code == 200
    response = client.get("/test/limited")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_404_does_not_reflect_the_path(client):
    response = client.get("/<script>alert(1)</script>")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We could not find that page" in body
    assert "<script>" not in body and "alert(1)" not in body


def test_errors_are_json_for_api_clients(client):
    response = client.get("/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"status": 404, "message": "We could not find that page."}
    }


def test_405_keeps_the_allow_header(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.is_json


ERROR_PAGES = [
    ("GET", "/test/abort/400", 400, "We could not understand that request"),
    ("GET", "/test/abort/403", 403, "This page is not open to you"),
    ("GET", "/no-such-page", 404, "Page not found"),
    ("DELETE", "/give", 405, "That action is not possible here"),
    ("GET", "/test/abort/413", 413, "That was more than we can accept"),
    ("GET", "/test/limited", 429, "Please wait a little"),
    ("GET", "/test/boom", 500, "Something went wrong on our side"),
    ("GET", "/test/abort/503", 503, "Something went wrong on our side"),
]


def first_heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has a heading"
    return found.group(1).strip()


@pytest.mark.parametrize(("method", "path", "code", "heading"), ERROR_PAGES)
def test_error_pages_lead_with_words_and_give_the_code_after(
    error_app, method, path, code, heading
):
    @error_app.get("/test/abort/<int:status>")
    def abort_with(status: int):
        abort(status)

    client = error_app.test_client()
    if code == 429:
        client.get(path)
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert first_heading(html) == heading
    assert re.search(r"<title>\s*" + re.escape(heading), html)
    assert html.index(f"Error {code}") > html.index("<h1")


@pytest.mark.parametrize(
    ("path", "heading", "text"),
    [
        ("/no-such-page", "Страница не найдена", "Мы не смогли найти эту страницу."),
        ("/test/boom", "Что-то пошло не так на нашей стороне", "Ваши платёжные данные"),
        ("/test/limited", "Пожалуйста, подождите немного", "попробуйте снова через"),
    ],
)
def test_error_pages_speak_the_readers_language(error_app, path, heading, text):
    client = error_app.test_client()
    if path == "/test/limited":
        client.get(path)  # uses up its one request a minute
    response = client.get(path, headers={"Accept-Language": "ru"})
    html = response.get_data(as_text=True)
    assert first_heading(html) == heading and text in html
    assert "Ошибка" in html


def test_a_json_429_says_when_to_try_again(error_app):
    client = error_app.test_client()
    client.get("/test/limited")
    response = client.get("/test/limited", headers={"Accept": "application/json"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Please try again in" in response.get_json()["error"]["message"]


def test_behind_a_proxy_client_address_and_scheme_come_from_forwarded_headers(make_app):
    app = make_app(PROXY_COUNT=1)
    seen = {}

    @app.get("/test/whoami")
    def whoami():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    app.test_client().get("/test/whoami", headers=headers)
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}


def test_the_development_servers_access_line_is_dropped(app):
    werkzeug_log = logging.getLogger("werkzeug")
    access = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [24/Nov/2026 20:33:47] "GET /?email=a%40b.org HTTP/1.1" 200 -',
        None,
        None,
    )
    banner = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "Running on http://127.0.0.1:5000", None, None
    )
    assert werkzeug_log.filter(access) is False
    assert werkzeug_log.filter(banner) is True
