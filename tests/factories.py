"""Small factories with sequences: each call makes a distinct, valid row (never random)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from membership.extensions import db
from membership.models import (
    Campaign,
    CheckoutAttempt,
    Donation,
    DonationKind,
    Frequency,
    Interval,
    Member,
    RecurringDonation,
    StaffUser,
    StripeEvent,
    SubscriptionStatus,
)
from tests.log_leaks import hand_out

sequence = itertools.count(1)
FIXED_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def saved(obj: Any) -> Any:
    db.session.add(obj)
    db.session.commit()
    return obj


def make_member(**fields: Any) -> Member:
    n = next(sequence)
    given = {"email": f"reader{n}@example.org"} | fields
    hand_out(given["email"], given.get("display_name"))  # never to be seen in a log
    return saved(Member(**given))


def make_recurring(member: Member | None = None, **fields: Any) -> RecurringDonation:
    n = next(sequence)
    defaults: dict[str, Any] = {
        "member": member or make_member(),
        "stripe_subscription_id": f"sub_test{n:06d}",
        "amount": 1000,
        "currency": "USD",
        "interval": Interval.MONTH,
        "status": SubscriptionStatus.ACTIVE,
        "started_at": FIXED_NOW,
    }
    return saved(RecurringDonation(**(defaults | fields)))


def make_donation(member: Member | None = None, **fields: Any) -> Donation:
    n = next(sequence)
    defaults: dict[str, Any] = {
        "member": member or make_member(),
        "kind": DonationKind.ONE_OFF,
        "amount": 2500,
        "currency": "USD",
        "stripe_payment_intent_id": f"pi_test{n:06d}",
        "stripe_charge_id": f"ch_test{n:06d}",
        "paid_at": FIXED_NOW,
    }
    return saved(Donation(**(defaults | fields)))


def make_checkout_attempt(**fields: Any) -> CheckoutAttempt:
    n = next(sequence)
    defaults: dict[str, Any] = {
        "idempotency_key": f"idem-{n:06d}",
        "frequency": Frequency.ONE_OFF,
        "amount": 1500,
        "currency": "EUR",
    }
    return saved(CheckoutAttempt(**(defaults | fields)))


def make_campaign(**fields: Any) -> Campaign:
    n = next(sequence)
    defaults: dict[str, Any] = {"slug": f"appeal-{n}", "name": f"Appeal {n}"}
    return saved(Campaign(**(defaults | fields)))


def make_staff(**fields: Any) -> StaffUser:
    n = next(sequence)
    given = {"email": f"staff{n}@newsroom.example", "password_hash": "x"} | fields
    hand_out(given["email"])
    return saved(StaffUser(**given))


def make_event(**fields: Any) -> StripeEvent:
    n = next(sequence)
    defaults: dict[str, Any] = {
        "id": f"evt_test{n:06d}",
        "type": "invoice.paid",
        "stripe_created_at": FIXED_NOW,
        "payload": {"id": f"evt_test{n:06d}", "object": "event", "data": {"object": {}}},
    }
    return saved(StripeEvent(**(defaults | fields)))
