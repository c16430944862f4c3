"""Covering the card fees: the sum, its settings, the form's offer and what Stripe is asked for."""

from __future__ import annotations

import re

import pytest

from membership import stripe_api
from membership.config import ConfigError, env_basis_points, env_minor_units
from membership.donations import fees
from membership.money import Money
from tests.donations.conftest import attempts, checked, give

pytestmark = pytest.mark.usefixtures("app_context")


def stripe_session(session_id: str):
    return stripe_api.client().v1.checkout.sessions.retrieve(
        session_id, params={"expand": ["line_items"]}
    )


def pay(client, location: str):
    return client.post(location, data={"email": "reader@example.org", "card_number": "4242" * 4})


@pytest.mark.parametrize(
    ("gift", "added"),
    [
        (Money(1000, "USD"), 61),  # 10.61 less 2.9% (0.31) and 0.30 is 10.00
        (Money(2500, "USD"), 106),
        (Money(300, "GBP"), 30),  # 3.30 less 0.10 and 0.20
        (Money(1000, "EUR"), 56),
        (Money(3000, "JPY"), 90),  # no fixed part set for yen: 2.9% only, in whole yen
    ],
)
def test_the_addition_leaves_the_whole_gift_after_the_estimated_fee(app, gift, added):
    fee = fees.cover_fee(gift)
    assert fee == Money(added, gift.currency)
    total = gift.amount + fee.amount
    fixed = app.config["COVER_FEES_FIXED"].get(gift.currency, 0)
    # What the processor would take of the total, rounded as Stripe rounds (half up).
    taken = (total * 290 + 5000) // 10_000 + fixed
    assert total - taken == gift.amount
    assert total - 1 - ((total - 1) * 290 + 5000) // 10_000 - fixed < gift.amount, "the least"


def test_fixed_only_and_percent_only_estimates(make_app):
    with make_app(COVER_FEES_PERCENT=0).app_context():
        assert fees.cover_fee(Money(1000, "USD")) == Money(30, "USD")
        assert fees.described("USD", "en") == "$0.30"
    with make_app(COVER_FEES_FIXED={}).app_context():
        assert fees.cover_fee(Money(1000, "USD")) == Money(30, "USD")  # 2.9% of 10.30
        assert fees.described("USD", "en") == "2.9%"


def test_the_estimate_in_words(app):
    assert fees.described("USD", "en") == "2.9% + $0.30"
    assert fees.described("EUR", "ru") == "2,9% + 0,25\xa0€"
    assert fees.described("JPY", "en") == "2.9%"


@pytest.mark.parametrize(
    ("raw", "points"), [("2.9", 290), ("3", 300), ("2.95", 295), ("1.5%", 150), ("0", 0)]
)
def test_the_percentage_setting(monkeypatch, raw, points):
    monkeypatch.setenv("COVER_FEES_PERCENT", raw)
    assert env_basis_points("COVER_FEES_PERCENT", "2.9") == points


@pytest.mark.parametrize("raw", ["2.955", "20", "abc", "-1", "2,9"])
def test_a_bad_percentage_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("COVER_FEES_PERCENT", raw)
    with pytest.raises(ConfigError, match="COVER_FEES_PERCENT"):
        env_basis_points("COVER_FEES_PERCENT", "2.9")


def test_the_fixed_part_setting(monkeypatch):
    monkeypatch.setenv("COVER_FEES_FIXED", "usd=0.30, JPY=40")
    assert env_minor_units("COVER_FEES_FIXED", "") == {"USD": 30, "JPY": 40}
    for bad in ("USD=abc", "JPY=0.5", "USD=-0.30", "XXQ=1"):
        monkeypatch.setenv("COVER_FEES_FIXED", bad)
        with pytest.raises(ConfigError, match="COVER_FEES_FIXED"):
            env_minor_units("COVER_FEES_FIXED", "")


@pytest.mark.parametrize(
    ("metadata", "total", "found"),
    [
        ({"fee_covered": "61"}, 1061, 61),
        ({}, 1000, 0),
        (None, 1000, 0),
        ({"fee_covered": ""}, 1000, 0),
        ({"fee_covered": "-5"}, 1000, 0),
        ({"fee_covered": "1000"}, 1000, 0),  # never all of the payment
        ({"fee_covered": "6.1"}, 1000, 0),
        ({"fee_covered": 61}, 1061, 0),  # Stripe's metadata values are strings
    ],
)
def test_the_fee_a_payment_names_is_trusted_only_as_a_part_of_it(metadata, total, found):
    assert fees.metadata_amount(metadata, total) == found


def test_the_form_offers_the_estimate_unticked(client):
    html = client.get("/give?currency=USD").text
    assert 'name="cover_fees"' in html and "cover_fees" not in checked(html, "cover_fees")
    [label] = re.findall(r"<span data-fee-label>(.*?)</span>", html)
    assert label == (
        "Add 2.9% + $0.30 to cover the card fees, so all of my gift reaches The Test Gazette."
    )
    assert '"points": 290' in html and '"USD": 30' in html and "{fee}" in html


def test_the_offer_can_be_switched_off_and_then_adds_nothing(make_app):
    app = make_app(COVER_FEES=False)
    client = app.test_client()
    assert 'name="cover_fees"' not in client.get("/give").text
    assert give(client, amount="10", cover_fees="y").status_code == 303
    with app.app_context():
        [attempt] = attempts()
        assert attempt.fee_covered == 0
        assert stripe_session(attempt.stripe_checkout_session_id).amount_total == 1000


def test_a_one_off_gift_with_the_fees_asks_stripe_for_the_total(client, sandbox):
    response = give(client, amount="10", currency="USD", cover_fees="y")
    assert response.status_code == 303
    [attempt] = attempts()
    assert (attempt.amount, attempt.fee_covered) == (1000, 61), "the gift chosen, kept apart"
    session = stripe_session(attempt.stripe_checkout_session_id)
    assert session.amount_total == 1061
    assert session.metadata["fee_covered"] == "61"
    [item] = session.line_items.data
    assert item.description == "Gift to The Test Gazette"
    product = stripe_api.client().v1.products.retrieve(item.price.product)
    assert product.description == "Includes $0.61 to cover the card fees"
    intent = sandbox.pay(session.id)["payment_intent"]
    assert stripe_api.retrieve_payment_intent(intent)["metadata"]["fee_covered"] == "61"


def test_a_monthly_gift_with_the_fees_puts_them_on_the_subscription(client, sandbox):
    give(client, frequency="month", amount="10", currency="EUR", cover_fees="y")
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    assert session.line_items.data[0].price.unit_amount == 1056
    subscription = sandbox.pay(session.id)["subscription"]
    assert stripe_api.retrieve_subscription(subscription)["metadata"]["fee_covered"] == "56"


def test_ticking_the_box_after_a_first_submit_opens_a_new_session(client, sandbox):
    without = give(client, submission="e" * 32, amount="10")
    with_fees = give(client, submission="e" * 32, amount="10", cover_fees="y")
    again = give(client, submission="e" * 32, amount="10", cover_fees="y")
    assert without.headers["Location"] != with_fees.headers["Location"]
    assert with_fees.headers["Location"] == again.headers["Location"], "a double-submit is one"
    assert [a.fee_covered for a in attempts()] == [0, 61]


def test_a_russian_reader_is_told_the_addition_in_russian(client, sandbox):
    client.set_cookie("lang", "ru")
    html = client.get("/give?currency=EUR").text
    [label] = re.findall(r"<span data-fee-label>(.*?)</span>", html)
    assert label.startswith("Добавить 2,9% + 0,25") and "комиссию" in label
    give(client, amount="10", currency="EUR", cover_fees="y")
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    product = stripe_api.client().v1.products.retrieve(session.line_items.data[0].price.product)
    assert product.description == "Включая 0,56\xa0€ на оплату комиссии за карту"


def test_the_thanks_page_says_what_part_covered_the_fees(client, sandbox):
    location = give(client, amount="10", currency="USD", cover_fees="y").headers["Location"]
    thanks = pay(client, location).headers["Location"].replace("http://localhost", "")
    html = client.get(thanks).text
    assert "You gave $10.61 to The Test Gazette." in html
    assert "Of which $0.61 covers the card fees" in html


def test_the_thanks_page_without_the_fees_says_nothing_of_them(client, sandbox):
    location = give(client, amount="10", currency="USD").headers["Location"]
    thanks = pay(client, location).headers["Location"].replace("http://localhost", "")
    assert "card fees" not in client.get(thanks).text


def test_a_cancelled_checkout_keeps_the_box_ticked(client, sandbox):
    give(client, amount="10", cover_fees="y")
    [attempt] = attempts()
    back = client.get(f"/give/cancelled/{attempt.reference}")
    html = client.get(back.headers["Location"]).text
    assert checked(html, "cover_fees") == ["y"]
    assert "amount" not in back.headers["Location"] or "amount=10" in back.headers["Location"]
