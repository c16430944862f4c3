"""A handler that fails leaves no half-written rows, records why, answers 500, and is retried."""

from __future__ import annotations

import pytest

from membership.models import (
    CheckoutAttempt,
    Donation,
    Member,
    OutboxEmail,
    RecurringDonation,
    StripeEvent,
)
from tests.webhooks.conftest import one, rows, stripe_forgets

pytestmark = pytest.mark.usefixtures("app_context")

NEEDS_STRIPE = {"customer.subscription.created", "invoice.paid", "checkout.session.completed"}


def pay_while_stripe_forgets(app, sandbox, checkout, frequency: str = "month") -> None:
    session, _ = checkout(frequency, 1000, "USD")
    with stripe_forgets(app):
        sandbox.pay(session.id, email="retry@example.org")


def test_a_failing_handler_rolls_back_records_the_error_and_answers_500(app, sandbox, checkout):
    pay_while_stripe_forgets(app, sandbox, checkout)

    failed = {d.type for d in sandbox.webhooks.deliveries if d.status == 500}
    assert failed == NEEDS_STRIPE
    assert all(d.status == 200 for d in sandbox.webhooks.deliveries if d.type not in failed)
    # The subscription handler had created the member before Stripe failed it: rolled back.
    for model in (Member, RecurringDonation, Donation, OutboxEmail):
        assert rows(model) == [], model
    assert one(CheckoutAttempt).state == "open"
    unprocessed = [e for e in rows(StripeEvent) if e.processed_at is None]
    assert {e.type for e in unprocessed} == NEEDS_STRIPE
    for event in unprocessed:
        assert event.attempts == 1
        assert event.last_error.startswith("InvalidRequestError: ")
        assert "@" not in event.last_error


def test_stripes_retries_bring_the_failed_events_to_the_right_state(app, sandbox, checkout):
    pay_while_stripe_forgets(app, sandbox, checkout)
    retried = [d.event_id for d in sandbox.webhooks.deliveries if d.status == 500]

    assert [sandbox.webhooks.redeliver(i).status for i in retried] == [200, 200, 200]

    member = one(Member)
    assert member.status == "active" and member.email == "retry@example.org"
    assert one(RecurringDonation).status == "active"
    assert one(Donation).amount == 1000
    assert one(CheckoutAttempt).state == "completed"
    for event in rows(StripeEvent):
        if event.id in retried:
            assert (event.attempts, event.last_error) == (2, None)
            assert event.processed_at is not None


def test_replay_failed_command_applies_what_failed(app, sandbox, checkout, runner):
    pay_while_stripe_forgets(app, sandbox, checkout)
    result = runner.invoke(args=["stripe", "replay", "--failed"])
    assert result.exit_code == 0, result.output
    assert "processed: 3" in result.output
    assert one(Member).status == "active" and one(Donation).amount == 1000
    again = runner.invoke(args=["stripe", "replay", "--failed"])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_replay_while_stripe_is_still_failing_exits_non_zero(app, sandbox, checkout, runner):
    pay_while_stripe_forgets(app, sandbox, checkout, "one_off")
    with stripe_forgets(app):
        result = runner.invoke(args=["stripe", "replay", "--failed"])
    assert result.exit_code == 1 and "failed: 1" in result.output
    [event] = [e for e in rows(StripeEvent) if e.processed_at is None]
    assert event.attempts == 2 and rows(Donation) == []
