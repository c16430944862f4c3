"""Which reader routes are rate limited: the checkout start is, the cached pages are not; only
starts that go to Stripe count, and over the limit the form comes back as the reader left it.
The global checkout limit is tested in test_checkout.py."""

from __future__ import annotations

import pytest

from membership import errors
from membership.donations import embed, views
from membership.extensions import UNLIMITED_VIEWS
from tests.donations.conftest import GOOD, checked, give, sessions

pytestmark = pytest.mark.usefixtures("app_context")

READER_PAGES = ["/", "/embed.js", "/embed/banner"]


def test_the_cached_reader_pages_are_unlimited_by_design():
    """Anonymous, cached and requested by every reader: a per-address limit would only lock
    out readers behind a shared address, so the limiter skips them without even looking."""
    assert {views.prompt, embed.script, embed.banner} <= UNLIMITED_VIEWS


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


REFUSED_FORMS = [
    {"amount": "not a number"},  # 422: the reader is asked to fix a field
    {"currency": "XXX"},  # 422
    {"website": "https://bot.example"},  # 400: the honeypot
]


def test_refused_forms_do_not_count_toward_the_per_client_limit(client, sandbox):
    """Six forms sent back to fix a field, then a good one: the good one reaches Stripe."""
    codes = [give(client, **REFUSED_FORMS[n % 3]).status_code for n in range(6)]
    assert codes == [422, 422, 400] * 2
    assert give(client).status_code == 303
    assert len(sessions(sandbox)) == 1
    # What did go to Stripe still counts: four more starts reach the limit of five.
    codes = [give(client, submission=f"{n:032x}").status_code for n in range(5)]
    assert codes == [303] * 4 + [429]


def test_refused_forms_do_not_count_toward_the_global_limit(make_app):
    app = make_app(CHECKOUT_GLOBAL_RATE_LIMIT="2 per minute")
    client = app.test_client()

    def post(n: int, **fields: str) -> int:
        address = {"REMOTE_ADDR": f"198.51.100.{n}"}
        data = GOOD | {"submission": f"{n:032x}"} | fields
        return client.post("/give", data=data, environ_base=address).status_code

    assert [post(n, amount="0") for n in range(3)] == [422] * 3
    assert [post(n) for n in range(10, 13)] == [303, 303, 429]


CHOICES = GOOD | {
    "frequency": "year",
    "currency": "GBP",
    "amount": "other",
    "custom_amount": "37",
    "utm_source": "newsletter",
    "submission": "b" * 32,
}


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Too many attempts", "Please try again in", "minute"]),
        ("ru", ["Слишком много попыток", "попробуйте снова через", "минут"]),
    ],
)
def test_over_the_limit_the_form_comes_back_with_the_choices_and_when(make_app, lang, words):
    client = make_app(CHECKOUT_RATE_LIMIT="1 per 10 minutes").test_client()
    assert give(client).status_code == 303
    response = client.post(f"/give?lang={lang}", data=CHOICES)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    for word in words:
        assert word in html
    assert checked(html, "frequency") == ["year"] and checked(html, "currency") == ["GBP"]
    assert checked(html, "amount") == ["other"] and 'value="37"' in html
    assert 'value="newsletter"' in html and 'value="' + "b" * 32 + '"' in html
    assert '<form method="post"' in html  # sent again as it is, no script needed


def test_over_the_limit_a_form_of_nonsense_is_still_a_429(make_app):
    client = make_app(CHECKOUT_RATE_LIMIT="1 per 10 minutes").test_client()
    assert give(client).status_code == 303
    # (A NUL byte is refused with a 400 before any limit: input_guard, test_hostile_input.py.)
    nonsense = {"frequency": "\u202e", "currency": "<b>", "amount": "9" * 40, "campaign": "x" * 900}
    response = client.post("/give", data=nonsense)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "<b>" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "seconds", "expected"),
    [
        ("en", 420, "Please try again in 7 minutes."),
        ("en", 361, "Please try again in 7 minutes."),  # rounded up, never too early
        ("en", 5, "Please try again in 1 minute."),
        ("en", 4800, "Please try again in 80 minutes."),
        ("ru", 420, "Пожалуйста, попробуйте снова через 7 минут."),
        ("ru", 60, "Пожалуйста, попробуйте снова через 1 минуту."),
    ],
)
def test_the_wait_is_said_in_the_readers_words(app, monkeypatch, lang, seconds, expected):
    monkeypatch.setattr(errors, "retry_after_seconds", lambda: seconds)
    with app.test_request_context(f"/give?lang={lang}"):
        assert errors.try_again_message().endswith(expected)
