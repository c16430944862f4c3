"""SEPA Direct Debit in the sandbox: Checkout completes unpaid, the bank answers later."""

from __future__ import annotations

import pytest

from membership.sandbox import Sandbox
from membership.sandbox.bank_debits import SETTLE_SECONDS
from membership.sandbox.errors import StripeError

GOOD_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"


@pytest.fixture
def euro_session(open_session, line_item):
    return open_session(line_items=[line_item(2500, "eur")])


def test_a_debit_completes_checkout_unpaid_then_settles(
    sandbox: Sandbox, euro_session, stripe_client, inbox
):
    assert euro_session.payment_method_types == ["card", "sepa_debit"]
    sandbox.pay(euro_session.id, iban=GOOD_IBAN, email="reader@example.org")
    assert inbox.types()[-4:] == [
        "payment_intent.created",
        "payment_intent.processing",
        "charge.pending",
        "checkout.session.completed",
    ]
    session = stripe_client.v1.checkout.sessions.retrieve(euro_session.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = stripe_client.v1.payment_intents.retrieve(
        session.payment_intent, params={"expand": ["latest_charge", "payment_method"]}
    )
    assert intent.status == "processing"
    assert (intent.latest_charge.status, intent.latest_charge.paid) == ("pending", False)
    assert intent.payment_method.type == "sepa_debit"
    assert intent.payment_method.sepa_debit.last4 == "3000"

    inbox.received.clear()
    sandbox.advance(seconds=SETTLE_SECONDS - 1)
    assert inbox.types() == []  # the bank has not answered yet
    sandbox.advance(seconds=1)
    assert inbox.types() == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    session = stripe_client.v1.checkout.sessions.retrieve(euro_session.id)
    assert session.payment_status == "paid"
    intent = stripe_client.v1.payment_intents.retrieve(
        session.payment_intent, params={"expand": ["latest_charge.balance_transaction"]}
    )
    assert (intent.status, intent.amount_received) == ("succeeded", 2500)
    assert intent.latest_charge.balance_transaction.net < 2500  # Stripe's fee taken


def test_a_debit_the_bank_refuses_fails_the_payment_and_tells_checkout(
    sandbox: Sandbox, euro_session, stripe_client, inbox
):
    sandbox.pay(euro_session.id, iban=FAILING_IBAN)
    inbox.received.clear()
    sandbox.advance(days=1)
    assert inbox.types() == [
        "charge.failed",
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    session = stripe_client.v1.checkout.sessions.retrieve(euro_session.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = stripe_client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "insufficient_funds"


def test_bank_debit_is_offered_for_euro_one_off_payments_only(sandbox: Sandbox, open_session):
    usd = open_session()
    monthly = open_session("subscription")
    assert usd.payment_method_types == monthly.payment_method_types == ["card"]
    for session in (usd, monthly):
        with pytest.raises(StripeError, match="does not accept SEPA Direct Debit"):
            sandbox.pay(session.id, iban=GOOD_IBAN)


def test_only_stripes_test_ibans_are_accepted(sandbox: Sandbox, euro_session, stripe_client):
    with pytest.raises(StripeError, match="test IBANs"):
        sandbox.pay(euro_session.id, iban="GB33BUKB20201555555555")
    session = stripe_client.v1.checkout.sessions.retrieve(euro_session.id)
    assert (session.status, session.payment_intent) == ("open", None)  # nothing happened
