"""The hosted checkout page: test cards, declines, completion and the events a payment sends."""

from __future__ import annotations

import pytest

SUCCESS = "https://news.example/thanks?session_id="


@pytest.fixture
def browser(sandbox):
    return sandbox.wsgi_app().test_client()


def pay(browser, session_id: str, card: str):
    form = {"email": "reader@example.com", "card_number": card, "name": "A Reader"}
    return browser.post(f"/sandbox/checkout/{session_id}", data=form)


def test_page_shows_amount_email_card_field_and_test_mode(browser, open_session):
    session = open_session(customer_email="reader@example.com")
    page = browser.get(f"/sandbox/checkout/{session.id}").get_data(as_text=True)
    assert "TEST MODE" in page and "15.00 USD" in page
    assert 'name="card_number"' in page and 'value="reader@example.com"' in page
    assert 'name="csrf_token"' in page


def test_unknown_session_is_404(browser):
    assert browser.get("/sandbox/checkout/cs_test_nope").status_code == 404


def test_test_card_pays_and_redirects_to_success_url(
    browser, open_session, stripe_client, sandbox, inbox
):
    session = open_session()
    response = pay(browser, session.id, "4242 4242 4242 4242")
    assert response.status_code == 303
    assert response.headers["Location"] == SUCCESS + session.id
    done = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge.balance_transaction"]}
    )
    assert (done.status, done.payment_status, done.customer_details.email) == (
        "complete",
        "paid",
        "reader@example.com",
    )
    txn = done.payment_intent.latest_charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net) == (1500, 74, 1426)
    assert inbox.types() == [
        "customer.created",
        "payment_method.attached",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000 0000 0000 9995", "Your card has insufficient funds."),
    ],
)
def test_declined_cards_show_the_error_and_keep_the_session_open(
    browser, open_session, stripe_client, inbox, card, message
):
    session = open_session()
    response = pay(browser, session.id, card)
    assert response.status_code == 402
    assert message in response.get_data(as_text=True)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert inbox.received == []
    assert pay(browser, session.id, "4242424242424242").status_code == 303


def test_subscription_checkout_sends_stripes_event_sequence(
    browser, open_session, stripe_client, inbox
):
    session = open_session("subscription")
    assert pay(browser, session.id, "4242424242424242").status_code == 303
    assert inbox.types() == [
        "customer.created",
        "payment_method.attached",
        "customer.updated",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    done = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "invoice.payments"]}
    )
    assert done.subscription.status == "active"
    assert done.invoice.parent.subscription_details.subscription == done.subscription.id
    assert done.invoice.payments.data[0].payment.payment_intent.startswith("pi_")


def test_a_completed_session_cannot_be_paid_again(browser, open_session):
    session = open_session()
    pay(browser, session.id, "4242424242424242")
    assert pay(browser, session.id, "4242424242424242").status_code == 400
