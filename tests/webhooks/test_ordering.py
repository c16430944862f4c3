"""Order independence: whichever of a checkout's events comes first, the end state is the same."""

from __future__ import annotations

import itertools
import logging

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.models import Member, RecurringDonation
from tests.webhooks.conftest import DECLINING_CARD, one

pytestmark = pytest.mark.usefixtures("app_context")

ARTICLE = "https://news.example/2026/11/council"
MAIN = (
    "customer.created",
    "customer.updated",
    "customer.subscription.created",
    "invoice.paid",
    "checkout.session.completed",
)


def member_state(email: str) -> tuple:
    """What one checkout left behind, without its Stripe ids (each checkout has its own)."""
    db.session.expire_all()
    member = db.session.scalar(sa.select(Member).where(Member.email == email))
    assert member is not None, "no member"
    [recurring] = member.recurring_donations
    return (
        member.status,
        member.tier,
        member.locale,
        member.newsletter_consent,
        member.stripe_customer_id is not None,
        (recurring.status, recurring.amount, recurring.interval, recurring.article_url),
        tuple(
            sorted(
                (d.kind, d.status, d.amount, d.fee, d.net, d.article_url) for d in member.donations
            )
        ),
        len(member.donations[0].stripe_invoice_id or "") > 0,
    )


def test_every_order_of_a_subscription_checkouts_events_ends_the_same(sandbox, checkout):
    states = {}
    for n, order in enumerate(itertools.permutations(MAIN)):
        email = f"order{n}@example.org"
        session, _ = checkout("month", 1500, "EUR", article_url=ARTICLE, locale="ru")
        sandbox.webhooks.hold()
        sandbox.pay(session.id, email=email)
        pending = {e["type"]: e["id"] for e in sandbox.webhooks.pending()}
        rest = [i for t, i in pending.items() if t not in MAIN]
        sandbox.webhooks.release(order=[pending[t] for t in order] + rest)
        assert all(d.ok for d in sandbox.webhooks.deliveries), order
        states[order] = member_state(email)
    assert len(states) == 120
    [final] = set(states.values())
    assert final[0] == "active" and final[1] == "sustainer" and len(final[6]) == 1


def test_a_stale_subscription_update_never_moves_status_back(sandbox, checkout, caplog):
    caplog.set_level(logging.INFO, logger="membership.webhooks")
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="stale@example.org")
    customer_id = one(Member).stripe_customer_id
    sandbox.webhooks.hold()
    sandbox.set_card(customer_id, DECLINING_CARD)
    sandbox.advance(days=31)  # renewal fails: updated -> past_due
    sandbox.set_card(customer_id, "4242424242424242")
    sandbox.advance(days=3)  # the retry succeeds: updated -> active, three days later
    updates = sandbox.events("customer.subscription.updated")
    assert {u["data"]["object"]["status"] for u in updates} == {"active", "past_due"}

    sandbox.webhooks.release(reverse=True)  # newest first: past_due arrives last, stale

    recurring = one(RecurringDonation)
    assert recurring.status == "active"
    newest = max(u["created"] for u in updates)
    assert int(recurring.last_event_at.timestamp()) == newest
    assert one(Member).status == "active"
    assert any(r.getMessage() == "stale subscription event ignored" for r in caplog.records)
