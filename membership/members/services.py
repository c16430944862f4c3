"""Membership rules: who a giver is (by Stripe customer, then email), their status and tier."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from membership.extensions import db
from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Interval,
    Member,
    MemberStatus,
    SubscriptionStatus,
)

log = logging.getLogger("membership.members")
Row = TypeVar("Row")

# Stripe statuses in which a recurring gift still makes its giver a member.
LIVE = {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING}
AT_RISK = {SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID}
ENDED = {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
# A gift counts towards status and tier unless it was given back.
REVERSED = {DonationStatus.REFUNDED, DonationStatus.DISPUTE_LOST, DonationStatus.FAILED}


def normalise_email(email: str | None) -> str | None:
    """The form we store and match on: trimmed and lower-cased; None for a blank."""
    cleaned = (email or "").strip().lower()
    return cleaned or None


def find_or_create_member(customer_id: str | None, email: str | None) -> Member:
    """The member for a Stripe customer, else for the email; created if neither is known."""
    email = normalise_email(email)
    member = find_member(customer_id, email)
    if member is None:
        if email is None:
            raise LookupError("cannot create a member without an email address")
        # A racing event of the same checkout may insert the same person first.
        member = add_unique(
            Member(email=email, stripe_customer_id=customer_id),
            lambda: find_member(customer_id, email),
        )
    if customer_id and member.stripe_customer_id is None:
        member.stripe_customer_id = customer_id
    return member


def add_unique(row: Row, find: Callable[[], Row | None]) -> Row:
    """Insert a row keyed by a unique Stripe id or email; if a racing insert won, use its row."""
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite serialises writers, so there is no race to lose; and pysqlite's SAVEPOINT,
        # when it opens the transaction, commits everything on release.
        db.session.add(row)
        db.session.flush()
        return row
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing
    return row


def find_member(customer_id: str | None, email: str | None) -> Member | None:
    if customer_id:
        by_customer = db.session.scalar(
            select(Member).where(Member.stripe_customer_id == customer_id)
        )
        if by_customer is not None:
            return by_customer
    if email:
        return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))
    return None


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def counted(donation: Donation) -> bool:
    return donation.status not in REVERSED


def annual_amount(member: Member, now: datetime) -> int:
    """Live recurring gifts annualised plus last year's one-off gifts, net of refunds.

    Plain minor units whatever the currency: no FX conversion (cents for USD/EUR/GBP, yen for
    JPY, which happen to be of a similar size).
    """
    total = 0
    for recurring in member.recurring_donations:
        if recurring.status in LIVE | AT_RISK:
            per_year = 12 if recurring.interval == Interval.MONTH else 1
            total += recurring.amount * per_year
    year_ago = now - timedelta(days=365)
    for donation in member.donations:
        recent = donation.paid_at is not None and donation.paid_at >= year_ago
        if donation.kind == DonationKind.ONE_OFF and counted(donation) and recent:
            total += donation.amount - donation.amount_refunded
    return total


def tier_for(amount: int) -> str | None:
    """The highest configured tier whose minimum the annual amount reaches."""
    reached = None
    for name, minimum in current_app.config["MEMBER_TIERS"]:
        if amount >= minimum:
            reached = name
    return reached if amount > 0 else None


def one_off_active_until(member: Member) -> datetime | None:
    months = current_app.config["ONE_OFF_ACTIVE_MONTHS"]
    paid = [d.paid_at for d in member.donations if d.kind == DonationKind.ONE_OFF and counted(d)]
    return add_months(max(paid), months) if paid else None


def status_for(member: Member, now: datetime) -> MemberStatus:
    statuses = {r.status for r in member.recurring_donations}
    if statuses & LIVE:
        return MemberStatus.ACTIVE
    if member.active_until is not None and member.active_until > now:
        return MemberStatus.ACTIVE
    if statuses & AT_RISK:
        return MemberStatus.PAST_DUE
    if statuses & ENDED:
        return MemberStatus.CANCELED
    if member.active_until is not None:
        return MemberStatus.LAPSED
    return MemberStatus.NONE


def recompute(member: Member, now: datetime | None = None) -> Member:
    """Derive and store status, tier and active_until from the member's gifts."""
    now = now or datetime.now(UTC)
    db.session.flush()
    db.session.refresh(member, ["donations", "recurring_donations"])
    member.active_until = one_off_active_until(member)
    member.status = status_for(member, now)
    member.tier = tier_for(annual_amount(member, now))
    return member


def lapse_expired(now: datetime | None = None) -> int:
    """Recompute members whose one-off membership has run out; returns how many changed."""
    now = now or datetime.now(UTC)
    due = db.session.scalars(
        select(Member).where(Member.status == MemberStatus.ACTIVE, Member.active_until <= now)
    ).all()
    changed = 0
    for member in due:
        before = member.status
        if recompute(member, now).status != before:
            changed += 1
    db.session.commit()
    log.info("members lapsed", extra={"fields": {"count": changed}})
    return changed
