"""One member's story for staff: gifts, recurring changes, refunds, disputes, emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from membership.extensions import db
from membership.models import Donation, Member, OutboxEmail, RecurringDonation
from membership.money import Money

# A member's own rows are few (a monthly donor for ten years has 120 gifts); the cap is a guard.
MAX_ROWS = 500


def mask_name(name: str | None) -> str:
    return f"{name.strip()[:1]}•••" if name and name.strip() else ""


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # gift, refund, dispute, recurring, email
    text: str


def timeline(member: Member) -> list[Event]:
    """Everything that happened to this member, newest first."""
    events: list[Event] = []
    donations = db.session.scalars(
        sa.select(Donation)
        .where(Donation.member_id == member.id)
        .options(selectinload(Donation.campaign))
        .limit(MAX_ROWS)
    )
    for gift in donations:
        source = gift.article_url or (gift.campaign.name if gift.campaign else "")
        kind = "monthly/annual" if gift.recurring_donation_id else "one-off"
        text = f"{gift.money.format('en')} {kind} gift, {gift.status.value}"
        if gift.fee_covered:
            covered = Money(gift.fee_covered, gift.currency).format("en")
            text += f" (of which {covered} for the fees)"
        events.append(Event(gift.paid_at, "gift", text + (f" — from {source}" if source else "")))
        if gift.amount_refunded and gift.refunded_at:
            refunded = Money(gift.amount_refunded, gift.currency).format("en")
            events.append(Event(gift.refunded_at, "refund", f"Refunded {refunded}"))
        if gift.disputed_at:
            events.append(Event(gift.disputed_at, "dispute", f"Disputed ({gift.status.value})"))
    recurring = db.session.scalars(
        sa.select(RecurringDonation).where(RecurringDonation.member_id == member.id)
    )
    for plan in recurring:
        every = "month" if plan.interval.value == "month" else "year"
        label = f"{plan.money.format('en')} a {every}"
        if plan.started_at:
            events.append(Event(plan.started_at, "recurring", f"Started {label}"))
        if plan.canceled_at:
            why = f": {plan.cancellation_reason}" if plan.cancellation_reason else ""
            events.append(Event(plan.canceled_at, "recurring", f"Cancelled {label}{why}"))
        elif plan.status.value not in ("active", "trialing"):
            events.append(Event(plan.updated_at, "recurring", f"{label} is {plan.status.value}"))
    emails = db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.member_id == member.id).limit(MAX_ROWS)
    )
    for email in emails:
        events.append(
            Event(
                email.sent_at or email.created_at,
                "email",
                f"Email '{email.template}', {email.status.value}",
            )
        )
    return sorted(events, key=lambda e: e.at, reverse=True)
