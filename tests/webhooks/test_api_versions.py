"""Events at the webhook endpoint's API version, which may be older than the one we pin.

Stripe sends each event's object at the endpoint's version (https://docs.stripe.com/webhooks/
versioning): before 2025-03-31.basil an invoice names its subscription, payment intent and
charge at its top level and a subscription holds its billing period itself. The handlers read
ids from the event and fetch the objects at the pinned version, so every version ends the same.
"""

from __future__ import annotations

import pytest
import stripe

from membership import stripe_api
from membership.models import (
    Donation,
    DonationKind,
    Member,
    MemberStatus,
    OutboxEmail,
    RecurringDonation,
    StripeEvent,
    SubscriptionStatus,
)
from tests.webhooks.conftest import DECLINING_CARD, one, rows

pytestmark = pytest.mark.usefixtures("app_context")

PINNED = stripe.api_version
OLDER = ["2025-08-27.basil", "2023-10-16"]


def stored(event_type: str) -> StripeEvent:
    return next(e for e in rows(StripeEvent) if e.type == event_type)


@pytest.mark.parametrize("version", [PINNED, *OLDER])
def test_a_donors_whole_story_ends_the_same_at_every_endpoint_version(sandbox, checkout, version):
    sandbox.store.api_version = version
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="versions@example.org")
    sandbox.advance(days=31)  # a renewal
    customer_id = one(Member).stripe_customer_id
    stripe_api.client().v1.customers.update(customer_id, params={"email": "moved@example.org"})
    one_off, _ = checkout("one_off", 2500, "EUR")
    sandbox.pay(one_off.id, email="moved@example.org")
    refunded = next(d for d in rows(Donation) if d.kind == DonationKind.ONE_OFF)
    stripe_api.client().v1.refunds.create(params={"charge": refunded.stripe_charge_id})
    sandbox.set_card(customer_id, DECLINING_CARD)
    sandbox.advance(days=31)
    assert one(RecurringDonation).status == SubscriptionStatus.PAST_DUE
    sandbox.advance(days=8)  # Stripe gives up and cancels

    member = one(Member)
    assert (member.email, member.status) == ("moved@example.org", MemberStatus.CANCELED)
    recurring = one(RecurringDonation)
    sub = stripe_api.retrieve_subscription(recurring.stripe_subscription_id)
    assert recurring.status == SubscriptionStatus.CANCELED
    assert recurring.cancellation_reason == "payment_failed"
    assert (
        int(recurring.current_period_end.timestamp())
        == (sub["items"]["data"][0]["current_period_end"])
    )
    gifts = sorted((d.kind, d.amount, d.currency, d.amount_refunded) for d in rows(Donation))
    assert gifts == [
        (DonationKind.ONE_OFF, 2500, "EUR", 2500),
        (DonationKind.RECURRING, 1000, "USD", 0),
        (DonationKind.RECURRING, 1000, "USD", 0),
    ]
    assert all(d.stripe_invoice_id for d in rows(Donation) if d.kind == DonationKind.RECURRING)
    templates = sorted(e.template for e in rows(OutboxEmail))
    assert templates.count("payment_failed") == 4 and "renewal_receipt" in templates
    assert not [e for e in rows(StripeEvent) if e.processed_at is None]

    # The events really came in that version's shape.
    paid = stored("invoice.paid").payload
    assert paid["api_version"] == version
    sub_event = stored("customer.subscription.created").payload["data"]["object"]
    if version < "2025-03-31.basil":
        assert paid["data"]["object"]["subscription"] == recurring.stripe_subscription_id
        assert paid["data"]["object"]["payment_intent"].startswith("pi_")
        assert "parent" not in paid["data"]["object"]
        assert "current_period_end" in sub_event
        assert "current_period_end" not in sub_event["items"]["data"][0]
    else:
        details = paid["data"]["object"]["parent"]["subscription_details"]
        assert details["subscription"] == recurring.stripe_subscription_id
        assert "subscription" not in paid["data"]["object"]
        assert "current_period_end" in sub_event["items"]["data"][0]


def test_reconcile_applies_missed_events_listed_at_their_own_older_version(
    sandbox, checkout, runner
):
    """Events listed by the API come at the version each was created with."""
    sandbox.store.api_version = "2023-10-16"
    sandbox.webhooks.hold()
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="missed@example.org")
    sandbox.webhooks.drop()  # never delivered
    assert rows(Member) == []
    result = runner.invoke(args=["stripe", "reconcile", "--since", "1d"])
    assert result.exit_code == 0, result.output
    assert one(Member).status == MemberStatus.ACTIVE and one(Donation).amount == 1000
    assert {e.api_version for e in rows(StripeEvent)} == {"2023-10-16"}
