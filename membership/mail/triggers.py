"""Which emails a change owes: a thank-you or a renewal receipt, and cancellation notices."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from membership.extensions import db
from membership.mail.outbox import enqueue, find_prefix
from membership.models import (
    Donation,
    RecurringDonation,
    SubscriptionStatus,
)

RECEIPT = "receipt"  # the first gift: one-off, or the first payment of a recurring gift
RENEWAL_RECEIPT = "renewal_receipt"
CANCELLATION = "cancellation"
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


def is_renewal(donation: Donation) -> bool:
    """A recurring gift's payment after its first one."""
    if donation.recurring_donation_id is None:
        return False
    # An earlier payment of the same gift, or one at the same moment written first.
    earlier = (
        select(Donation.id)
        .where(
            Donation.recurring_donation_id == donation.recurring_donation_id,
            or_(
                Donation.paid_at < donation.paid_at,
                and_(Donation.paid_at == donation.paid_at, Donation.id < donation.id),
            ),
        )
        .limit(1)
    )
    return db.session.scalar(earlier) is not None


def receipt_template(donation: Donation) -> str | None:
    """The template of this payment's receipt; None when renewals get no receipt (config)."""
    if not is_renewal(donation):
        return RECEIPT
    return RENEWAL_RECEIPT if current_app.config.get("MAIL_RENEWAL_RECEIPTS", True) else None


def notify_cancellation(recurring: RecurringDonation) -> None:
    """Confirm a cancellation once: when it is set for the period's end, or when it happens.

    A gift already told "it ends on <date>" gets no second email when it does end; one that
    is resumed and cancelled again in a later period is told again (the key holds the date).
    """
    prefix = f"cancellation:{recurring.stripe_subscription_id}"
    if recurring.status == SubscriptionStatus.CANCELED:
        if find_prefix(f"{prefix}:scheduled:") is None:
            context = cancellation_context(recurring, "canceled")
            enqueue(recurring.member, CANCELLATION, f"{prefix}:canceled", context)
    elif recurring.cancel_at_period_end and recurring.status in LIVE:
        ends = recurring.current_period_end
        key = f"{prefix}:scheduled:{int(ends.timestamp()) if ends else 0}"
        enqueue(recurring.member, CANCELLATION, key, cancellation_context(recurring, "scheduled"))


def cancellation_context(recurring: RecurringDonation, state: str) -> dict[str, Any]:
    """What the email says, as it stood when it was queued (the gift may change later)."""
    ends = recurring.canceled_at if state == "canceled" else recurring.current_period_end
    return {
        "recurring_donation_id": recurring.id,
        "state": state,
        "amount": recurring.amount,
        "currency": recurring.currency,
        "interval": recurring.interval.value,
        "ends_at": ends.isoformat() if ends else None,
        "reason": recurring.cancellation_reason if state == "canceled" else None,
    }
