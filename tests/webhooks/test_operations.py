"""`flask stripe reconcile` and `flask stripe replay`: recover what webhooks never delivered."""

from __future__ import annotations

import pytest

from membership.models import CheckoutAttempt, Donation, Member, RecurringDonation, StripeEvent
from tests.webhooks.conftest import one, rows, snapshot

pytestmark = pytest.mark.usefixtures("app_context")


def pay_with_webhooks_lost(sandbox, checkout, frequency: str = "month", email: str = "") -> None:
    session, _ = checkout(frequency, 1000, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email=email or f"lost-{frequency}@example.org")
    sandbox.webhooks.drop()
    sandbox.webhooks.release()


def test_reconcile_applies_dropped_events(sandbox, checkout, runner):
    pay_with_webhooks_lost(sandbox, checkout, "month")
    pay_with_webhooks_lost(sandbox, checkout, "one_off")
    assert rows(Member) == [] and rows(StripeEvent) == []

    result = runner.invoke(args=["stripe", "reconcile", "--since", "3d"])

    assert result.exit_code == 0, result.output
    assert {m.status for m in rows(Member)} == {"active"}
    assert one(RecurringDonation).status == "active"
    assert len(rows(Donation)) == 2
    assert {a.state for a in rows(CheckoutAttempt)} == {"completed"}
    state = snapshot()
    again = runner.invoke(args=["stripe", "reconcile", "--since", "3d"])
    assert again.exit_code == 0 and "already processed" in again.output
    assert snapshot() == state


def test_reconcile_only_fetches_handled_types_and_fills_gaps(sandbox, checkout, runner):
    session, _ = checkout("month", 1000, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email="gap@example.org")
    paid = [e["id"] for e in sandbox.events("invoice.paid")]
    sandbox.webhooks.release(
        order=[e["id"] for e in sandbox.webhooks.pending() if e["id"] not in paid]
    )
    assert rows(Donation) == []

    result = runner.invoke(args=["stripe", "reconcile", "--since", "1h"])

    assert result.exit_code == 0, result.output
    assert "processed: 1" in result.output and one(Donation).amount == 1000


@pytest.mark.parametrize("window", ["3x", "d3", ""])
def test_reconcile_refuses_a_window_it_cannot_read(runner, window):
    result = runner.invoke(args=["stripe", "reconcile", "--since", window])
    assert result.exit_code == 2 and "--since" in result.output


def test_replay_one_event_fetches_it_from_stripe_when_never_received(sandbox, checkout, runner):
    pay_with_webhooks_lost(sandbox, checkout, "one_off", "replayed@example.org")
    [completed] = sandbox.events("checkout.session.completed")

    result = runner.invoke(args=["stripe", "replay", completed["id"]])

    assert result.exit_code == 0 and "processed" in result.output
    assert one(Donation).amount == 1000 and one(Member).email == "replayed@example.org"
    again = runner.invoke(args=["stripe", "replay", completed["id"]])
    assert again.exit_code == 0 and len(rows(Donation)) == 1  # replay re-runs; effect once


def test_replay_needs_an_event_or_failed(runner):
    assert runner.invoke(args=["stripe", "replay"]).exit_code == 2
    assert runner.invoke(args=["stripe", "replay", "evt_1", "--failed"]).exit_code == 2
