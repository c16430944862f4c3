"""Time travel: renewals, dunning with a failing card, cancel at period end, refunds, disputes."""

from __future__ import annotations

import pytest

from membership.sandbox import Sandbox
from membership.sandbox.store import DAY


@pytest.fixture
def subscription(sandbox: Sandbox, open_session, stripe_client):
    session = sandbox.pay(open_session("subscription").id)
    return stripe_client.v1.subscriptions.retrieve(session["subscription"])


def test_advancing_past_the_period_end_renews_and_pays(sandbox, subscription, stripe_client, inbox):
    first_end = subscription["items"].data[0].current_period_end
    inbox.received.clear()
    sandbox.advance_to(first_end + 60)
    assert inbox.types() == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    renewed = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert renewed["items"].data[0].current_period_start == first_end
    invoices = stripe_client.v1.invoices.list(params={"subscription": subscription.id})
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_create",
    ]


def test_failing_card_goes_past_due_then_canceled_after_retries(
    sandbox, subscription, stripe_client
):
    sandbox.set_card(subscription.customer, "4000000000000002")
    end = subscription["items"].data[0].current_period_end
    sandbox.advance_to(end)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    invoice = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription.id).latest_invoice
    )
    assert invoice.next_payment_attempt == end + 3 * DAY
    sandbox.advance_to(end + 7 * DAY - 1)
    assert sandbox.event_types().count("invoice.payment_failed") == 3
    sandbox.advance(seconds=1)
    assert sandbox.event_types()[-2:] == ["invoice.payment_failed", "customer.subscription.deleted"]
    canceled = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert (canceled.status, canceled.cancellation_details.reason) == ("canceled", "payment_failed")


def test_card_fixed_during_dunning_recovers(sandbox, subscription, stripe_client):
    sandbox.set_card(subscription.customer, "4000000000009995")
    sandbox.advance_to(subscription["items"].data[0].current_period_end)
    sandbox.set_card(subscription.customer, "4242424242424242")
    sandbox.advance(days=3)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert sandbox.event_types()[-1] == "customer.subscription.updated"


def test_cancel_at_period_end_ends_without_another_invoice(sandbox, subscription, stripe_client):
    stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    sandbox.advance(days=40)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    assert len(stripe_client.v1.invoices.list(params={"subscription": subscription.id}).data) == 1


def test_paused_collection_voids_the_renewal_invoice(sandbox, subscription, stripe_client):
    stripe_client.v1.subscriptions.update(
        subscription.id, params={"pause_collection": {"behavior": "void"}}
    )
    sandbox.advance(days=32)
    assert "invoice.voided" in sandbox.event_types()
    assert "invoice.paid" not in sandbox.event_types()[-4:]


def test_open_sessions_expire_with_time(sandbox, open_session, stripe_client):
    session = open_session()
    sandbox.advance(days=2)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert sandbox.event_types() == ["checkout.session.expired"]


def test_dispute_created_and_closed(sandbox, open_session, stripe_client, inbox):
    session = sandbox.pay(open_session().id)
    charge_id = stripe_client.v1.payment_intents.retrieve(session["payment_intent"]).latest_charge
    dispute = sandbox.dispute(charge_id)
    assert stripe_client.v1.charges.retrieve(charge_id).disputed is True
    sandbox.close_dispute(dispute["id"], won=False)
    assert inbox.types()[-2:] == ["charge.dispute.created", "charge.dispute.closed"]
    assert stripe_client.v1.disputes.retrieve(dispute["id"]).status == "lost"


def test_a_trial_is_trialing_with_an_invoice_for_nothing_until_its_first_paid_period(
    sandbox, open_session, stripe_client
):
    """Stripe: "An immediate invoice is still created, but for $0"; when the trial ends an
    invoice is made and charged, and a new billing cycle begins."""
    session = sandbox.pay(
        open_session("subscription", subscription_data={"trial_period_days": 14}).id
    )
    sub = stripe_client.v1.subscriptions.retrieve(session["subscription"])
    assert sub.status == "trialing" and sub.trial_end == sub.trial_start + 14 * DAY
    assert sub["items"].data[0].current_period_end == sub.trial_end
    first = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert (first.status, first.amount_due, first.amount_paid, first.total) == ("paid", 0, 0, 0)
    assert stripe_client.v1.payment_intents.list().data == []  # nothing was charged
    sandbox.advance_to(sub.trial_end)
    after = stripe_client.v1.subscriptions.retrieve(sub.id)
    assert after.status == "active"
    assert after["items"].data[0].current_period_start == sub.trial_end
    renewal = stripe_client.v1.invoices.retrieve(after.latest_invoice)
    assert renewal.status == "paid" and renewal.amount_paid == renewal.amount_due > 0


def test_a_trial_whose_first_charge_fails_goes_past_due(sandbox, open_session, stripe_client):
    session = sandbox.pay(
        open_session("subscription", subscription_data={"trial_period_days": 7}).id
    )
    sandbox.set_card(session["customer"], "4000000000000002")
    sub = stripe_client.v1.subscriptions.retrieve(session["subscription"])
    sandbox.advance_to(sub.trial_end)
    assert stripe_client.v1.subscriptions.retrieve(sub.id).status == "past_due"
