"""A handler that fails leaves no half-written rows, records why, answers 500, and is retried;
one whose object Stripe does not have is acknowledged and kept for staff instead."""

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
from tests.webhooks.conftest import deliver, one, rows, stripe_forgets, stripe_unreachable

pytestmark = pytest.mark.usefixtures("app_context")

NEEDS_STRIPE = {"customer.subscription.created", "invoice.paid", "checkout.session.completed"}


def pay_while_stripe_is_unreachable(app, sandbox, checkout, frequency: str = "month") -> None:
    session, _ = checkout(frequency, 1000, "USD")
    with stripe_unreachable(app):
        sandbox.pay(session.id, email="retry@example.org")


def test_a_failing_handler_rolls_back_records_the_error_and_answers_500(app, sandbox, checkout):
    pay_while_stripe_is_unreachable(app, sandbox, checkout)

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
        assert event.last_error.startswith("APIConnectionError: ")
        assert "retry@example.org" not in event.last_error  # no payer's address


def test_stripes_retries_bring_the_failed_events_to_the_right_state(app, sandbox, checkout):
    pay_while_stripe_is_unreachable(app, sandbox, checkout)
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
    pay_while_stripe_is_unreachable(app, sandbox, checkout)
    result = runner.invoke(args=["stripe", "replay", "--failed"])
    assert result.exit_code == 0, result.output
    assert "processed: 3" in result.output
    assert one(Member).status == "active" and one(Donation).amount == 1000
    again = runner.invoke(args=["stripe", "replay", "--failed"])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_replay_while_stripe_is_still_failing_exits_non_zero(app, sandbox, checkout, runner):
    pay_while_stripe_is_unreachable(app, sandbox, checkout, "one_off")
    with stripe_unreachable(app):
        result = runner.invoke(args=["stripe", "replay", "--failed"])
    assert result.exit_code == 1 and "failed: 1" in result.output
    [event] = [e for e in rows(StripeEvent) if e.processed_at is None]
    assert event.attempts == 2 and rows(Donation) == []


def test_an_event_whose_object_stripe_does_not_have_is_acknowledged_and_kept(
    app, client, sandbox, checkout, runner
):
    """Deleted test data, another account's objects: a 404 on the handler's read answers 200,
    so Stripe neither retries for three days nor disables the endpoint. The event stays
    unapplied, marked and with its error, for staff; a replay once Stripe has it applies it."""
    session, _ = checkout("month", 1000, "USD")
    with stripe_forgets(app):
        sandbox.pay(session.id, email="retry@example.org")
    acknowledged = {d.type for d in sandbox.webhooks.deliveries if d.type in NEEDS_STRIPE}
    assert acknowledged == NEEDS_STRIPE
    assert all(d.status == 200 for d in sandbox.webhooks.deliveries)
    missing = [e for e in rows(StripeEvent) if e.processed_at is None]
    assert {e.type for e in missing} == NEEDS_STRIPE
    for event in missing:
        assert event.missing_at_stripe and event.attempts == 1
        assert event.last_error.startswith("InvalidRequestError: No such ")
    assert rows(Member) == [] and rows(Donation) == []
    # A second delivery of one of them is acknowledged the same way and counts the attempt.
    with stripe_forgets(app):
        answer = deliver(client, app, sandbox.events("invoice.paid")[-1])
    assert (answer.status_code, answer.json["outcome"]) == (200, "not found at Stripe")
    assert one_of(missing, "invoice.paid").attempts == 2
    # Not failures: --failed leaves them; a replay of each, now that Stripe has them, applies.
    assert "nothing to do" in runner.invoke(args=["stripe", "replay", "--failed"]).output
    for event in missing:
        replayed = runner.invoke(args=["stripe", "replay", event.id])
        assert replayed.exit_code == 0, replayed.output
    assert one(Member).status == "active" and one(Donation).amount == 1000
    assert not any(e.missing_at_stripe for e in rows(StripeEvent))


def one_of(events: list[StripeEvent], event_type: str) -> StripeEvent:
    [event] = [
        e for e in rows(StripeEvent) if e.id in {m.id for m in events} and e.type == event_type
    ]
    return event
