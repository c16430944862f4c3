"""Which reader routes are rate limited: the checkout start is, the cached pages are not.
The global checkout limit is tested in test_checkout.py."""

from __future__ import annotations

import pytest
from flask.globals import request_ctx

from membership.donations import embed, views
from membership.extensions import limiter
from tests.donations.conftest import GOOD

READER_PAGES = ["/", "/embed.js", "/embed/banner"]


def test_the_cached_reader_pages_are_unlimited_by_design():
    """Anonymous, cached and requested by every reader: a per-address limit would only lock
    out readers behind a shared address, so the limiter skips them without even looking."""
    assert {views.prompt, embed.script, embed.banner} <= limiter.unlimited_views


@pytest.mark.parametrize("path", READER_PAGES)
def test_default_limits_do_not_apply_to_the_reader_pages(make_app, path):
    client = make_app(RATELIMIT_DEFAULT="2 per day").test_client()
    responses = [client.get(path) for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert "X-RateLimit-Limit" not in responses[-1].headers


def test_default_limits_still_apply_to_the_other_pages(make_app):
    client = make_app(RATELIMIT_DEFAULT="2 per day").test_client()
    assert [client.get("/give").status_code for _ in range(3)] == [200, 200, 429]


def test_starting_a_checkout_is_still_limited_per_client(make_app):
    app = make_app(CHECKOUT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(3):  # the pages around it are not counted against it
        for path in READER_PAGES:
            client.get(path)
    responses = [client.post("/give", data=GOOD | {"submission": f"{n:032x}"}) for n in range(3)]
    assert [r.status_code for r in responses] == [303, 303, 429]
    assert "X-RateLimit-Limit" in responses[0].headers


@pytest.mark.parametrize("path", READER_PAGES)
def test_the_limiter_keeps_no_books_for_the_reader_pages(make_app, path):
    """Its after_request and teardown hooks skip them too: they would only read and reset an
    empty per-request record of limits (a tenth of a cached page's work)."""
    app = make_app()
    kept = []

    @app.teardown_request
    def look(_exc: BaseException | None) -> None:  # runs before the limiter's own teardown
        kept.append(hasattr(request_ctx._get_current_object(), "_limiter_request_context"))

    assert app.test_client().get(path).status_code == 200
    app.test_client().post("/give", data=GOOD)  # a limited view: the books are kept
    assert kept == [False, True]
