"""The prompt and the donation form: what the reader sees, and what the server refuses."""

from __future__ import annotations

import re

import pytest

from tests.donations.conftest import attempts, checked, field_errors, give, sessions
from tests.factories import FIXED_NOW, make_campaign

pytestmark = pytest.mark.usefixtures("app_context")


def test_prompt_shows_the_standard_call_with_the_publication(client):
    html = client.get("/").get_data(as_text=True)
    assert "Support The Test Gazette!" in html
    assert "Now is the time to support independent reporting." in html
    assert "Contribute today" in html


def test_prompt_uses_the_running_campaigns_copy_and_ignores_ended_ones(client):
    make_campaign(slug="old", headline="Old appeal", ends_at=FIXED_NOW)
    make_campaign(slug="year-end", headline="Keep the lights on", button_text="Give now")
    html = client.get("/").get_data(as_text=True)
    assert "Keep the lights on" in html and "Give now" in html
    assert "Old appeal" not in html
    assert "campaign=year-end" in client.get("/?campaign=year-end").get_data(as_text=True)


def test_form_defaults_to_monthly_with_a_suggested_amount_and_says_per_month(client):
    html = client.get("/give").get_data(as_text=True)
    assert checked(html, "frequency") == ["month"]
    assert checked(html, "amount") == ["month:10"]
    assert "per month" in html
    for label in ("One-off", "Monthly", "Annual", "Other amount", "Currency"):
        assert label in html


def test_query_string_prefills_frequency_currency_and_attribution(client):
    url = (
        "/give?frequency=one_off&currency=EUR&amount=50&article_url=https://news.example/a%23frag"
        "&utm_source=newsletter&campaign=Nope%20Bad&referrer=javascript:alert(1)"
    )
    html = client.get(url).get_data(as_text=True)
    assert checked(html, "frequency") == ["one_off"] and checked(html, "currency") == ["EUR"]
    assert checked(html, "amount") == ["one_off:50"] and "€50" in html and "€50.00" not in html
    assert 'value="https://news.example/a"' in html
    assert 'value="newsletter"' in html
    assert "javascript:" not in html and "Nope Bad" not in html


def test_zero_decimal_currency_suggests_yen_amounts(client):
    html = client.get("/give?currency=JPY&frequency=one_off").get_data(as_text=True)
    assert "¥2,500" in html and checked(html, "amount") == ["one_off:2500"]


def test_an_unlisted_amount_in_the_query_goes_to_the_custom_field(client):
    html = client.get("/give?amount=17.50&currency=GBP").get_data(as_text=True)
    assert checked(html, "amount") == ["other"] and 'value="17.50"' in html


BAD_INPUTS = [
    ({"amount": "other", "custom_amount": "2.99"}, "The smallest gift we can take is $3.00."),
    ({"amount": "10001"}, "For gifts above $10,000.00, please contact us."),
    ({"amount": "ten"}, "Enter an amount like 10 or 10.50."),
    ({"amount": "10.001"}, "Enter an amount like 10 or 10.50."),
    ({"amount": "-5"}, "The smallest gift we can take is $3.00."),
    ({"amount": "1e9"}, "For gifts above $10,000.00, please contact us."),
    ({"amount": "NaN"}, "Enter an amount like 10 or 10.50."),
    ({"amount": "other", "custom_amount": ""}, "Choose an amount or enter your own."),
    ({"amount": "", "custom_amount": ""}, "Choose an amount or enter your own."),
    ({"amount": "other", "custom_amount": "1234567890123"}, "Field cannot be longer than 12"),
    ({"currency": "JPY", "amount": "2500.5"}, "Enter an amount like 10 or 10.50."),
    ({"currency": "JPY", "amount": "299"}, "The smallest gift we can take is ¥300."),
    ({"currency": "CHF"}, "Choose one of the currencies offered."),
    ({"currency": "<b>"}, "Choose one of the currencies offered."),
    ({"frequency": "weekly"}, "Not a valid choice"),
    ({"frequency": ""}, "Choose how often you would like to give."),
]


@pytest.mark.parametrize(("fields", "message"), BAD_INPUTS, ids=[str(f) for f, _ in BAD_INPUTS])
def test_bad_input_rerenders_with_a_message_and_writes_nothing(client, sandbox, fields, message):
    response = give(client, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(html)), field_errors(html)
    assert attempts() == [] and sessions(sandbox) == []


def test_the_readers_values_are_kept_on_error(client):
    html = give(
        client, frequency="year", amount="other", custom_amount="1", currency="EUR", utm_source="x"
    ).get_data(as_text=True)
    assert checked(html, "frequency") == ["year"] and checked(html, "amount") == ["other"]
    assert re.search(r'<input[^>]*name="custom_amount"[^>]*value="1"', html)
    assert checked(html, "currency") == ["EUR"] and 'value="x"' in html
    assert re.search(r'<input aria-describedby="custom_amount-error" aria-invalid="true"', html)
    assert 'id="custom_amount-error"' in html


def test_configured_bounds_apply_per_currency(make_app):
    app = make_app(AMOUNT_MIN={"USD": "20"}, AMOUNT_MAX={"USD": "50"})
    client = app.test_client()
    low = give(client, amount="19").get_data(as_text=True)
    assert "The smallest gift we can take is $20.00." in low
    high = give(client, amount="51").get_data(as_text=True)
    assert "For gifts above $50.00, please contact us." in high


def test_honeypot_filled_is_refused_and_nothing_written(client, sandbox):
    response = give(client, website="http://spam.example")
    assert response.status_code == 400
    assert attempts() == [] and sessions(sandbox) == []


def test_csrf_token_is_required_when_csrf_is_on(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post(
        "/give", data={"frequency": "one_off", "amount": "25", "currency": "USD"}
    )
    assert response.status_code == 400
    assert "The request could not be understood" in response.get_data(as_text=True)
    with app.app_context():
        assert attempts() == []
