"""Webhook test helpers: checkouts paid in the app's sandbox, signed deliveries, state snapshots."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
import stripe

from membership import sandbox as sandbox_module
from membership import stripe_api
from membership.extensions import db
from membership.models import (
    CheckoutAttempt,
    Donation,
    Frequency,
    Member,
    MemberGiving,
    OutboxEmail,
    RecurringDonation,
)
from membership.sandbox import Sandbox
from membership.sandbox.webhooks import sign
from tests.factories import make_checkout_attempt

DECLINING_CARD = "4000000000000341"  # attaches, then every charge is declined
# Stripe's SEPA Direct Debit test IBANs: paid, and refused, when the bank answers.
GOOD_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"


@pytest.fixture
def sandbox(app):
    found = sandbox_module.of(app)
    assert found is not None, "tests run in demo mode"
    return found


@pytest.fixture
def checkout(app_context):
    """Open a Checkout Session as the donations side does, for a fresh CheckoutAttempt."""

    def open_checkout(
        frequency: str = "month", amount: int = 1000, currency: str = "USD", **fields
    ):
        attempt_row = make_checkout_attempt(
            frequency=Frequency(frequency), amount=amount, currency=currency, **fields
        )
        metadata = {"attempt": attempt_row.reference, "campaign": "", "frequency": frequency}
        price: dict[str, Any] = {
            "currency": currency.lower(),
            "unit_amount": amount,
            "product_data": {"name": "Support independent reporting"},
        }
        params: dict[str, Any] = {
            "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://news.example/support",
            "client_reference_id": attempt_row.reference,
            "metadata": metadata,
        }
        if frequency == "one_off":
            params |= {"mode": "payment", "submit_type": "donate"}
            params["payment_intent_data"] = {"metadata": metadata}
        else:
            price["recurring"] = {"interval": frequency}
            params |= {"mode": "subscription", "subscription_data": {"metadata": metadata}}
        params["line_items"] = [{"quantity": 1, "price_data": price}]
        session = stripe_api.client().v1.checkout.sessions.create(params=params)
        return session, attempt_row

    return open_checkout


def signed_delivery(app, event: dict[str, Any], secret: str | None = None, at: int | None = None):
    """The body and headers Stripe would send for `event`."""
    body = json.dumps(event).encode()
    secret = secret or app.config["STRIPE_WEBHOOK_SECRET"]
    signature = sign(body, secret, int(time.time()) if at is None else at)
    return body, {"Stripe-Signature": signature, "Content-Type": "application/json"}


def deliver(client, app, event: dict[str, Any]):
    body, headers = signed_delivery(app, event)
    return client.post("/stripe/webhook", data=body, headers=headers)


def rows(model: type) -> list[Any]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model).order_by(model.id)))  # type: ignore[attr-defined]


def one(model: type) -> Any:
    [row] = rows(model)
    return row


def giving_of(member_id: int) -> list[MemberGiving]:
    return list(
        db.session.scalars(sa.select(MemberGiving).where(MemberGiving.member_id == member_id))
    )


def snapshot() -> dict[str, Any]:
    """Everything the webhooks write, without generated ids and timestamps of our own."""
    db.session.expire_all()
    members = [
        (
            m.email,
            m.stripe_customer_id,
            m.status,
            m.tier,
            m.locale,
            m.newsletter_consent,
            m.last_gift_at,
            sorted((g.currency, g.kept, g.gifts, g.last_gift_at) for g in giving_of(m.id)),
        )
        for m in db.session.scalars(sa.select(Member).order_by(Member.email))
    ]
    recurring = [
        (
            r.stripe_subscription_id,
            r.member.email,
            r.status,
            r.amount,
            r.currency,
            r.interval,
            r.current_period_end,
            r.cancel_at_period_end,
            r.article_url,
            r.campaign_id,
        )
        for r in db.session.scalars(
            sa.select(RecurringDonation).order_by(RecurringDonation.stripe_subscription_id)
        )
    ]
    donations = [
        (
            d.stripe_payment_intent_id,
            d.stripe_charge_id,
            d.stripe_invoice_id,
            d.member.email,
            d.kind,
            d.status,
            d.amount,
            d.amount_refunded,
            d.fee,
            d.net,
            d.paid_at,
            d.article_url,
        )
        for d in db.session.scalars(sa.select(Donation).order_by(Donation.stripe_payment_intent_id))
    ]
    outbox = sorted(
        (o.dedupe_key, o.template, o.to_address) for o in db.session.scalars(sa.select(OutboxEmail))
    )
    attempts = [
        (a.reference, a.state, a.member_id is not None)
        for a in db.session.scalars(sa.select(CheckoutAttempt).order_by(CheckoutAttempt.reference))
    ]
    return {
        "members": members,
        "recurring": recurring,
        "donations": donations,
        "outbox": outbox,
        "attempts": attempts,
    }


@contextmanager
def stripe_unreachable(app):
    """Point the app at an address where nothing answers: every call fails to connect."""
    real = app.extensions["stripe_client"]
    nowhere = "http://127.0.0.1:1"
    app.extensions["stripe_client"] = stripe.StripeClient(
        "sk_test_unreachable_not_a_real_key",
        base_addresses={"api": nowhere, "connect": nowhere, "files": nowhere},
        max_network_retries=0,
    )
    try:
        yield
    finally:
        app.extensions["stripe_client"] = real


@contextmanager
def stripe_forgets(app):
    """Point the app at an empty Stripe account: every lookup the handlers make is a 404."""
    real = app.extensions["stripe_client"]
    app.extensions["stripe_client"] = Sandbox().client()
    try:
        yield
    finally:
        app.extensions["stripe_client"] = real
