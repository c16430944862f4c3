"""Gifts that cover the card fees, recorded from Stripe's own data through the real checkout."""

from __future__ import annotations

import re

import pytest

from membership import stripe_api
from membership.models import CheckoutAttempt, Donation, OutboxEmail, RecurringDonation
from membership.webhooks.payments import subscription_metadata
from tests.account.conftest import sign_in
from tests.donations.conftest import checked
from tests.webhooks.conftest import GOOD_IBAN, one, rows

pytestmark = pytest.mark.usefixtures("app_context")


def give(client, **fields: str) -> str:
    """Submit the donation form; the Checkout Session's id."""
    data = {"frequency": "one_off", "amount": "10", "currency": "USD", "submission": "f" * 32}
    response = client.post("/give", data=data | fields)
    assert response.status_code == 303, response.text
    return one(CheckoutAttempt).stripe_checkout_session_id


def test_a_one_off_gift_keeps_the_covered_fee_and_the_newsroom_keeps_the_gift(client, sandbox):
    sandbox.pay(give(client, cover_fees="y"), email="reader@example.org")
    donation = one(Donation)
    assert (donation.amount, donation.fee_covered) == (1061, 61)
    # The sandbox charges Stripe's US card price, which the estimate is set to: all of the
    # $10.00 the reader chose reaches the newsroom.
    assert (donation.fee, donation.net) == (61, 1000)
    [receipt] = [e for e in rows(OutboxEmail) if e.template == "receipt"]
    assert receipt.context["fee_covered"] == 61


def test_a_gift_without_the_fees_records_none(client, sandbox):
    sandbox.pay(give(client), email="reader@example.org")
    donation = one(Donation)
    assert (donation.amount, donation.fee_covered) == (1000, 0)
    [receipt] = [e for e in rows(OutboxEmail) if e.template == "receipt"]
    assert "fee_covered" not in receipt.context


def test_a_bank_debit_records_the_covered_fee_when_the_bank_pays(client, sandbox):
    session_id = give(client, currency="EUR", cover_fees="y")
    sandbox.pay(session_id, email="reader@example.org", iban=GOOD_IBAN)
    assert rows(Donation) == []
    sandbox.advance(days=1)
    donation = one(Donation)
    assert (donation.amount, donation.currency, donation.fee_covered) == (1056, "EUR", 56)


def test_each_renewal_keeps_the_covered_fee_until_the_donor_changes_the_amount(client, sandbox):
    session_id = give(client, frequency="month", cover_fees="y")
    sandbox.pay(session_id, email="monthly@example.org")
    sandbox.advance(days=31)
    assert [(d.amount, d.fee_covered) for d in rows(Donation)] == [(1061, 61), (1061, 61)]

    recurring = one(RecurringDonation)
    sign_in(client, recurring.member)
    changed = client.post(
        f"/account/gifts/{recurring.id}/change", data={"amount": "15", "interval": "month"}
    )
    assert changed.status_code == 303
    sandbox.advance(days=31)
    gifts = sorted((d.paid_at, d.amount, d.fee_covered) for d in rows(Donation))
    assert [(amount, fee) for _paid, amount, fee in gifts] == [(1061, 61), (1061, 61), (1500, 0)]


def test_a_renewal_reads_the_fee_from_the_invoice_copy_else_the_subscription():
    sub = {"id": "sub_1", "metadata": {"fee_covered": "61"}}
    assert subscription_metadata({"metadata": {"fee_covered": "30"}}, sub) == {"fee_covered": "30"}
    # Stripe may send the invoice's copy as null (its published fixtures do): the subscription's
    # own, expanded on the invoice, is then the one that counts.
    assert subscription_metadata({"metadata": None}, sub) == {"fee_covered": "61"}
    assert subscription_metadata({}, "sub_1") == {}


def monthly_donor_signed_in(client, sandbox) -> RecurringDonation:
    sandbox.pay(give(client, frequency="month", cover_fees="y"), email="monthly@example.org")
    recurring = one(RecurringDonation)
    sign_in(client, recurring.member)
    return recurring


def test_the_donor_sees_the_covered_fee_and_the_change_form_keeps_it(client, sandbox):
    recurring = monthly_donor_signed_in(client, sandbox)
    assert (recurring.amount, recurring.fee_covered) == (1061, 61)
    html = client.get(f"/account/gifts/{recurring.id}").text
    assert "$10.61 every month" in html
    assert "Of which $0.61 covers the card fees" in html
    assert re.search(r'<input[^>]*name="amount"[^>]*value="10"', html), "the gift, not the total"
    assert checked(html, "cover_fees") == ["y"]
    assert "Add 2.9% + $0.30 to cover the card fees" in html


def test_a_donor_who_keeps_covering_the_fees_pays_them_on_the_new_amount(client, sandbox):
    recurring = monthly_donor_signed_in(client, sandbox)
    url = f"/account/gifts/{recurring.id}/change"
    client.post(url, data={"amount": "15", "interval": "month", "cover_fees": "y"})
    sub = stripe_api.retrieve_subscription(recurring.stripe_subscription_id)
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 1576
    assert sub["metadata"]["fee_covered"] == "76"
    assert (one(RecurringDonation).amount, one(RecurringDonation).fee_covered) == (1576, 76)
    sandbox.advance(days=31)
    assert sorted((d.amount, d.fee_covered) for d in rows(Donation)) == [(1061, 61), (1576, 76)]

    # The same choices again change nothing, so nothing is sent to Stripe.
    again = client.post(url, data={"amount": "15", "interval": "month", "cover_fees": "y"})
    assert again.status_code == 303
    after = stripe_api.retrieve_subscription(recurring.stripe_subscription_id)
    assert after["items"]["data"][0]["price"]["id"] == sub["items"]["data"][0]["price"]["id"]
    # Unticking keeps the amount and drops the fee.
    client.post(url, data={"amount": "15", "interval": "month"})
    assert (one(RecurringDonation).amount, one(RecurringDonation).fee_covered) == (1500, 0)
    sub = stripe_api.retrieve_subscription(recurring.stripe_subscription_id)
    assert "fee_covered" not in sub["metadata"]
