"""At least once, in effect once: every handled event type, delivered ten times, acts once."""

from __future__ import annotations

import pytest

from membership import stripe_api
from membership.models import Member, StripeEvent
from membership.webhooks.handlers import HANDLERS
from tests.webhooks.conftest import (
    DECLINING_CARD,
    FAILING_IBAN,
    GOOD_IBAN,
    one,
    rows,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("app_context")


def every_handled_event_type(sandbox, checkout) -> None:
    """One history that makes Stripe send each handled type at least once."""
    session, _ = checkout("month", 1000, "USD", article_url="https://news.example/a")
    sandbox.pay(session.id, email="monthly@example.org")
    customer_id = one(Member).stripe_customer_id
    stripe_api.client().v1.customers.update(customer_id, params={"name": "A Reader"})
    sandbox.set_card(customer_id, DECLINING_CARD)
    sandbox.advance(days=31)
    sandbox.advance(days=8)  # retries fail: subscription deleted

    session, _ = checkout("one_off", 5000, "EUR")
    sandbox.pay(session.id, email="once@example.org")
    charge_id = sandbox.events("charge.succeeded")[-1]["data"]["object"]["id"]
    stripe_api.client().v1.refunds.create(params={"charge": charge_id, "amount": 1000})
    dispute = sandbox.dispute(charge_id)
    sandbox.close_dispute(dispute["id"], won=False)
    for email, iban in (("debit@example.org", GOOD_IBAN), ("refused@example.org", FAILING_IBAN)):
        session, _ = checkout("one_off", 2500, "EUR")
        sandbox.pay(session.id, email=email, iban=iban)  # settled by the bank as the clock moves
    checkout("one_off", 700, "GBP")
    sandbox.advance(days=2)  # the unpaid session expires

    # A change of interval from the next period (a schedule), asked again (the first schedule
    # released, a new one made), then the gift ended at once, its schedule with it.
    session, _ = checkout("month", 1500, "GBP")
    sandbox.pay(session.id, email="scheduled@example.org")
    sub_id = sandbox.events("customer.subscription.created")[-1]["data"]["object"]["id"]
    stripe_api.update_subscription_price(sub_id, 18000, "GBP", "year")
    stripe_api.update_subscription_price(sub_id, 15000, "GBP", "year")
    stripe_api.cancel_subscription_now(sub_id)


def test_each_handled_type_delivered_ten_times_has_one_effect(sandbox, checkout):
    every_handled_event_type(sandbox, checkout)
    handled = [e for e in sandbox.events() if e["type"] in HANDLERS]
    assert {e["type"] for e in handled} == set(HANDLERS)
    before = snapshot()
    inbox_size = len(rows(StripeEvent))

    for event in handled:
        for _ in range(10):
            assert sandbox.webhooks.redeliver(event["id"]).status == 200

    assert snapshot() == before
    assert len(rows(StripeEvent)) == inbox_size
    assert {e.attempts for e in rows(StripeEvent)} == {1}


def test_stripe_delivering_everything_twice_changes_nothing(sandbox, checkout):
    sandbox.webhooks.duplicate = True
    session, _ = checkout("month", 2000, "USD")
    sandbox.pay(session.id, email="twice@example.org")
    sandbox.advance(days=31)
    assert all(d.status == 200 for d in sandbox.webhooks.deliveries)
    state = snapshot()
    assert len(state["donations"]) == 2 and len(state["outbox"]) == 2
    assert len(state["members"]) == 1 and len(state["recurring"]) == 1
