"""The statuses and choices stored on rows, as string enums (their values are what is stored)."""

from __future__ import annotations

import enum


class MemberStatus(enum.StrEnum):
    NONE = "none"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    LAPSED = "lapsed"
    CANCELED = "canceled"


class DonationKind(enum.StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class DonationStatus(enum.StrEnum):
    PENDING = "pending"  # async payment methods (bank debits) settle later
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"  # in full; partial refunds keep SUCCEEDED and set amount_refunded
    DISPUTED = "disputed"
    DISPUTE_LOST = "dispute_lost"


# Payments that moved money (refunds and disputes are subtracted later); failed and pending
# ones never did.
COUNTED = (
    DonationStatus.SUCCEEDED,
    DonationStatus.REFUNDED,
    DonationStatus.DISPUTED,
    DonationStatus.DISPUTE_LOST,
)


class Frequency(enum.StrEnum):
    ONE_OFF = "one_off"
    MONTH = "month"
    YEAR = "year"


class Interval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(enum.StrEnum):
    """Mirrors Stripe's subscription.status."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


class CheckoutState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    EXPIRED = "expired"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the retry schedule
