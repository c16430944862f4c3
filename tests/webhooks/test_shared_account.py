"""A Stripe account that also sells merchandise and tickets: only gifts count (webhooks/gifts.py).

Ghost counted such subscriptions as members (TryGhost/Ghost#20243). Here a sale is stored and
acknowledged, and makes no member, gift, recurring gift or email; its refund and dispute are
acknowledged too, not refused for days as "a payment not recorded yet".
"""

from __future__ import annotations

from typing import Any

import pytest

from membership import stripe_api
from membership.models import Donation, Member, OutboxEmail, RecurringDonation, StripeEvent
from tests.webhooks.conftest import rows

pytestmark = pytest.mark.usefixtures("app_context")


def sale(mode: str, name: str, amount: int = 2000) -> Any:
    """A Checkout Session another tool opens on the same account: no metadata of ours."""
    price: dict[str, Any] = {
        "currency": "usd",
        "unit_amount": amount,
        "product_data": {"name": name},
    }
    params: dict[str, Any] = {
        "mode": mode,
        "success_url": "https://shop.news.example/thanks",
        "line_items": [{"quantity": 1, "price_data": price}],
    }
    if mode == "subscription":
        price["recurring"] = {"interval": "month"}
    return stripe_api.client().v1.checkout.sessions.create(params=params)


def nothing_counted() -> bool:
    return not (rows(Member) or rows(Donation) or rows(RecurringDonation) or rows(OutboxEmail))


def test_a_merchandise_subscription_and_a_ticket_change_nothing(sandbox, checkout):
    tote = sale("subscription", "Tote bag of the month")
    sandbox.pay(tote.id, email="shopper@example.org")
    ticket = sale("payment", "Ticket: newsroom live night", 3500)
    paid = sandbox.pay(ticket.id, email="shopper@example.org")
    sandbox.advance(days=31)  # the tote bag renews
    intent = stripe_api.retrieve_payment_intent(paid["payment_intent"])
    charge_id = intent["latest_charge"]["id"]
    stripe_api.client().v1.refunds.create(params={"charge": charge_id, "amount": 1000})
    dispute = sandbox.dispute(charge_id)
    sandbox.close_dispute(dispute["id"], won=False)

    assert nothing_counted()
    assert all(d.status == 200 for d in sandbox.webhooks.deliveries)
    events = rows(StripeEvent)
    assert {"invoice.paid", "charge.refunded", "charge.dispute.created"} <= {e.type for e in events}
    assert all(e.processed_at is not None and e.last_error is None for e in events)


def test_a_gift_beside_a_sale_counts_alone(sandbox, checkout):
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="reader@example.org")
    sandbox.pay(sale("payment", "Ticket", 3500).id, email="reader@example.org")
    [member] = rows(Member)
    assert [(d.amount, d.kind) for d in rows(Donation)] == [(1000, "recurring")]
    assert len(rows(RecurringDonation)) == 1 and member.status == "active"


def test_a_listed_donation_product_of_another_tool_is_a_gift(app, sandbox):
    """A Payment Link of the tool used before, for a donation product the newsroom lists."""
    link = sale("payment", "Donation (old tool)", 2500)
    product = stripe_api.retrieve_checkout(link.id).line_items.data[0].price.product
    app.config["GIFT_PRODUCT_IDS"] = frozenset({product})
    sandbox.pay(link.id, email="old.donor@example.org")
    sandbox.pay(sale("payment", "Ticket", 3500).id, email="old.donor@example.org")
    assert [d.amount for d in rows(Donation)] == [2500]
    assert rows(Member)[0].email == "old.donor@example.org"


def test_on_a_dedicated_account_everything_is_a_gift(app, sandbox):
    app.config["STRIPE_ACCOUNT"] = "dedicated"
    sandbox.pay(sale("subscription", "Supporter (old tool)", 800).id, email="old@example.org")
    [recurring] = rows(RecurringDonation)
    assert (recurring.amount, recurring.status) == (800, "active")
    assert [d.amount for d in rows(Donation)] == [800]
