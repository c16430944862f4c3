"""Recurring gifts as Stripe has them now: fetched fresh, applied unless the event is stale."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from membership import stripe_api
from membership.extensions import db
from membership.mail.triggers import notify_cancellation
from membership.members import services as members
from membership.models import Interval, Member, RecurringDonation, SubscriptionStatus
from membership.webhooks.events import (
    Obj,
    attempt_for,
    copy_attribution,
    object_id,
    optional_timestamp,
    reference_of,
)

log = logging.getLogger("membership.webhooks")


def member_for_customer(customer_id: str | None, email: str | None = None) -> Member:
    """Find the member by customer id, else by email (asking Stripe for it when not given)."""
    member = members.find_member(customer_id, email)
    if member is not None:
        if customer_id and member.stripe_customer_id is None:
            member.stripe_customer_id = customer_id
        return member
    if email is None and customer_id:
        email = stripe_api.retrieve_customer(customer_id).get("email")
    return members.find_or_create_member(customer_id, email)


def find_recurring(subscription_id: str) -> RecurringDonation | None:
    return db.session.scalar(
        select(RecurringDonation)
        .where(RecurringDonation.stripe_subscription_id == subscription_id)
        .with_for_update()
    )


def sync_subscription(
    subscription_id: str, event_time: datetime, email: str | None = None
) -> RecurringDonation:
    """Create or refresh the recurring gift from Stripe's current subscription."""
    recurring = find_recurring(subscription_id)
    if recurring is not None and recurring.last_event_at and event_time < recurring.last_event_at:
        log.info("stale subscription event ignored", extra={"fields": {"sub": subscription_id}})
        return recurring
    sub = stripe_api.retrieve_subscription(subscription_id)
    if recurring is None:
        member = member_for_customer(object_id(sub["customer"]), email)
        recurring = members.add_unique(
            new_recurring(sub, member), lambda: find_recurring(subscription_id)
        )
    apply_subscription(recurring, sub)
    if recurring.last_event_at is None or event_time > recurring.last_event_at:
        recurring.last_event_at = event_time
    members.recompute(recurring.member)
    notify_cancellation(recurring)  # an outbox row in this transaction; once per cancellation
    return recurring


def new_recurring(sub: Obj, member: Member) -> RecurringDonation:
    attempt = attempt_for(reference_of(sub))
    db.session.flush()  # ids, not relationships: a savepoint's flush must not cascade
    recurring = RecurringDonation(member_id=member.id, stripe_subscription_id=sub["id"])
    apply_subscription(recurring, sub)
    copy_attribution(attempt, recurring)
    return recurring


def apply_subscription(recurring: RecurringDonation, sub: Obj) -> None:
    item = sub["items"]["data"][0]
    price = item["price"]
    recurring.amount = price["unit_amount"] * item.get("quantity", 1)
    recurring.currency = price["currency"].upper()
    recurring.interval = Interval(price["recurring"]["interval"])
    recurring.status = SubscriptionStatus(sub["status"])
    recurring.current_period_end = optional_timestamp(item.get("current_period_end"))
    recurring.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    recurring.started_at = optional_timestamp(sub.get("start_date"))
    recurring.canceled_at = optional_timestamp(sub.get("canceled_at"))
    pause = sub.get("pause_collection")
    recurring.paused_until = optional_timestamp(pause.get("resumes_at")) if pause else None
    details = sub.get("cancellation_details") or {}
    if recurring.status == SubscriptionStatus.CANCELED:
        recurring.cancellation_reason = details.get("reason") or details.get("feedback")
