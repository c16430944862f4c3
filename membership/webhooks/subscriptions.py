"""Recurring gifts as Stripe has them now: fetched fresh, applied unless the event is stale."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from membership import stripe_api
from membership.donations import fees
from membership.extensions import db
from membership.mail.triggers import notify_cancellation
from membership.members import services as members
from membership.models import Interval, Member, RecurringDonation, SubscriptionStatus
from membership.webhooks import gifts
from membership.webhooks.events import (
    Obj,
    attempt_for,
    copy_attribution,
    object_id,
    optional_timestamp,
    reference_of,
    timestamp,
)

log = logging.getLogger("membership.webhooks")


def member_for_customer(customer: str | Obj | None, email: str | None = None) -> Member:
    """Find the member by customer id, else by email (asking Stripe for it when not given).

    `customer` is the id or, when Stripe expanded it, the customer object (its email spares a
    request to Stripe).
    """
    customer_id = object_id(customer)
    member = members.find_member(customer_id, email)
    if member is not None:
        members.link_customer(member, customer_id)
        return member
    fresh = customer if isinstance(customer, dict) else None
    if email is None and fresh is None and customer_id:
        fresh = stripe_api.retrieve_customer(customer_id)
    if email is None and fresh is not None:
        email = fresh.get("email")
    return members.add_member(customer_id, email, deleted=bool(fresh and fresh.get("deleted")))


def find_recurring(subscription_id: str) -> RecurringDonation | None:
    """The recurring gift, locked for this transaction, with its member loaded."""
    found = db.session.execute(
        select(RecurringDonation, Member)  # the gift and its member in one query
        .join(RecurringDonation.member)
        .where(RecurringDonation.stripe_subscription_id == subscription_id)
        .with_for_update(of=RecurringDonation)
    ).first()
    if found is None:
        return None
    recurring, member = found
    set_committed_value(recurring, "member", member)
    return recurring


def sync_subscription(
    subscription_id: str, event_time: datetime, email: str | None = None, sub: Obj | None = None
) -> RecurringDonation:
    """Create or refresh the recurring gift from Stripe's current subscription.

    `sub` is the subscription when the caller already has it fresh from Stripe (expanded on
    another object), which spares a request.
    """
    recurring = find_recurring(subscription_id)
    if recurring is not None and recurring.last_event_at and event_time < recurring.last_event_at:
        log.info("stale subscription event ignored", extra={"fields": {"sub": subscription_id}})
        return recurring
    if sub is None:
        # A new gift needs its member, maybe by the customer's email: ask for both at once.
        sub = stripe_api.retrieve_subscription(subscription_id, with_customer=recurring is None)
    with_prices(sub.get("schedule"), sub["items"]["data"][0])
    if recurring is None:
        gifts.check_subscription(sub)  # merchandise or tickets sold by subscription: not ours
        recurring = add_recurring(sub, event_time, email)
    else:
        refresh(recurring, sub, event_time)
    notify_cancellation(recurring)  # an outbox row in this transaction; once per cancellation
    return recurring


def add_recurring(sub: Obj, event_time: datetime, email: str | None) -> RecurringDonation:
    """The new recurring gift, or the row a racing event of the same checkout inserted first."""
    member = member_for_customer(sub["customer"], email)
    recurring = RecurringDonation(
        member_id=member.id, stripe_subscription_id=sub["id"], last_event_at=event_time
    )
    apply_subscription(recurring, sub)
    copy_attribution(attempt_for(reference_of(sub)), recurring)
    inserted = members.insert_unique(recurring)
    if inserted is not None:
        set_committed_value(inserted, "member", member)  # known: no query to load it again
        return inserted
    existing = find_recurring(sub["id"])
    if existing is None:
        raise LookupError(f"recurring gift for {sub['id']} conflicted but is not there")
    refresh(existing, sub, event_time)  # ours is as fresh as what the racing event wrote
    return existing


def refresh(recurring: RecurringDonation, sub: Obj, event_time: datetime) -> None:
    apply_subscription(recurring, sub)
    if recurring.last_event_at is None or event_time > recurring.last_event_at:
        recurring.last_event_at = event_time


def apply_subscription(recurring: RecurringDonation, sub: Obj) -> None:
    item = sub["items"]["data"][0]
    price = item["price"]
    pause = sub.get("pause_collection")
    status = SubscriptionStatus(sub["status"])
    amount = price["unit_amount"] * item.get("quantity", 1)
    members.assign(
        recurring,
        amount=amount,
        fee_covered=fees.metadata_amount(sub.get("metadata"), amount),
        currency=price["currency"].upper(),
        interval=Interval(price["recurring"]["interval"]),
        status=status,
        current_period_end=optional_timestamp(item.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        started_at=optional_timestamp(sub.get("start_date")),
        canceled_at=optional_timestamp(sub.get("canceled_at")),
        paused_until=optional_timestamp(pause.get("resumes_at")) if pause else None,
    )
    schedule = sub.get("schedule")
    if schedule is None or isinstance(schedule, dict):  # an id alone says nothing of phases
        amount_then, interval_then, starts = scheduled_change(schedule, item)
        members.assign(
            recurring,
            scheduled_amount=amount_then,
            scheduled_interval=interval_then,
            scheduled_from=starts,
        )
    details = sub.get("cancellation_details") or {}
    if status == SubscriptionStatus.CANCELED:
        reason = details.get("reason") or details.get("feedback")
        members.assign(recurring, cancellation_reason=reason)


def with_prices(schedule: Obj | str | None, item: Obj) -> None:
    """Fetch the price of a scheduled phase after the current period (rare: a donor changed
    their interval), so scheduled_change can tell its amount and interval."""
    if not isinstance(schedule, dict) or schedule.get("status") != "active":
        return
    for phase in schedule.get("phases") or []:
        if phase["start_date"] >= (item.get("current_period_end") or 0) and phase.get("items"):
            price = phase["items"][0]["price"]
            if isinstance(price, str):
                phase["items"][0]["price"] = stripe_api.retrieve_price(price)


def scheduled_change(
    schedule: Obj | None, item: Obj
) -> tuple[int | None, Interval | None, datetime | None]:
    """The amount, interval and start of the schedule's phase after the current period, if
    there is one (account/manage.py asks for it when a donor changes their interval)."""
    if not schedule or schedule.get("status") != "active":
        return None, None, None
    for phase in schedule.get("phases") or []:
        price = phase["items"][0]["price"] if phase.get("items") else None
        if phase["start_date"] >= (item.get("current_period_end") or 0) and isinstance(price, dict):
            amount = price["unit_amount"] * phase["items"][0].get("quantity", 1)
            interval = Interval(price["recurring"]["interval"])
            return amount, interval, timestamp(phase["start_date"])
    return None, None, None
