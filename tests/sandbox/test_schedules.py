"""Changing a subscription's interval: at once on the subscription (Stripe resets the billing
cycle and invoices now), or from the period's end through a subscription schedule."""

from __future__ import annotations

import pytest
import stripe

from membership.sandbox.store import DAY


def monthly(sandbox, open_session, stripe_client):
    sub_id = sandbox.pay(open_session("subscription").id)["subscription"]
    return stripe_client.v1.subscriptions.retrieve(sub_id)


def annual_price(sub, amount=12000):
    item = sub["items"].data[0]
    return {
        "currency": "usd",
        "product": item.price.product,
        "unit_amount": amount,
        "recurring": {"interval": "year"},
    }


def invoices_of(stripe_client, sub_id):
    return stripe_client.v1.invoices.list(params={"subscription": sub_id}).data


def test_an_interval_change_on_the_subscription_invoices_at_once(
    sandbox, open_session, stripe_client
):
    """proration_behavior=none does not stop it: a new billing cycle starts now."""
    sub = monthly(sandbox, open_session, stripe_client)
    sandbox.advance(days=10)
    item = sub["items"].data[0]
    changed = stripe_client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price_data": annual_price(sub)}],
            "proration_behavior": "none",
        },
    )
    new_item = changed["items"].data[0]
    assert new_item.current_period_start == sandbox.now
    assert new_item.current_period_end > sandbox.now + 360 * DAY
    assert changed.billing_cycle_anchor == sandbox.now
    latest = invoices_of(stripe_client, sub.id)[0]
    assert (latest.billing_reason, latest.status, latest.amount_paid) == (
        "subscription_update",
        "paid",
        12000,
    )


def test_a_schedule_starts_the_new_interval_when_the_paid_period_ends(
    sandbox, open_session, stripe_client
):
    sub = monthly(sandbox, open_session, stripe_client)
    period_end = sub["items"].data[0].current_period_end
    schedule = stripe_client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    assert schedule.current_phase.end_date == period_end
    assert stripe_client.v1.subscriptions.retrieve(sub.id).schedule == schedule.id
    current = schedule.phases[0]
    stripe_client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "end_behavior": "release",
            "phases": [
                {
                    "items": [{"price": current["items"][0].price, "quantity": 1}],
                    "start_date": current.start_date,
                    "end_date": period_end,
                },
                {
                    "items": [{"price_data": annual_price(sub), "quantity": 1}],
                    "duration": {"interval": "year", "interval_count": 1},
                    "metadata": {"fee_covered": "300"},
                    "proration_behavior": "none",
                },
            ],
        },
    )
    sandbox.advance(days=10)
    assert len(invoices_of(stripe_client, sub.id)) == 1  # nothing charged early
    sandbox.advance(days=25)  # past the end of the paid month
    now = stripe_client.v1.subscriptions.retrieve(sub.id)
    item = now["items"].data[0]
    assert (item.price.unit_amount, item.price.recurring.interval) == (12000, "year")
    assert item.current_period_start == period_end
    assert now.metadata["fee_covered"] == "300"
    [latest, _first] = invoices_of(stripe_client, sub.id)
    assert (latest.amount_paid, latest.created) == (12000, period_end)
    sandbox.advance(days=370)  # the last phase ends: released, renewing alone
    released = stripe_client.v1.subscription_schedules.retrieve(schedule.id)
    assert (released.status, released.released_subscription) == ("released", sub.id)
    assert stripe_client.v1.subscriptions.retrieve(sub.id).schedule is None
    assert [i.amount_paid for i in invoices_of(stripe_client, sub.id)] == [12000, 12000, 1500]
    types = sandbox.event_types()
    for kind in ("created", "updated", "released"):
        assert f"subscription_schedule.{kind}" in types


def test_a_scheduled_subscription_is_cancelled_through_its_schedule_or_after_release(
    sandbox, open_session, stripe_client
):
    sub = monthly(sandbox, open_session, stripe_client)
    schedule = stripe_client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    with pytest.raises(stripe.InvalidRequestError, match="managed by the subscription schedule"):
        stripe_client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    stripe_client.v1.subscription_schedules.release(schedule.id)
    assert stripe_client.v1.subscriptions.update(
        sub.id, params={"cancel_at_period_end": True}
    ).cancel_at_period_end
    with pytest.raises(stripe.InvalidRequestError, match="`released` status"):
        stripe_client.v1.subscription_schedules.update(schedule.id, params={"metadata": {}})
