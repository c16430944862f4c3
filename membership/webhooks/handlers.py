"""One handler per Stripe event type: the only code that turns Stripe's news into our rows.

Each runs inside the inbox's transaction and may be re-run (duplicates, replay, reconcile), so
each writes by Stripe id and reads Stripe's current objects instead of the event's snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import or_, select

from membership import stripe_api
from membership.account import privacy
from membership.extensions import db
from membership.members import services as members
from membership.models import CheckoutAttempt, CheckoutState, Member, StripeEvent
from membership.webhooks import gifts, payments
from membership.webhooks.events import (
    Event,
    Obj,
    attempt_for,
    copy_attribution,
    object_id,
    reference_of,
    required_id,
)
from membership.webhooks.subscriptions import (
    find_recurring,
    member_for_customer,
    sync_subscription,
)

log = logging.getLogger("membership.webhooks")


def checkout_completed(event: Event) -> None:
    """The reader finished checkout: their member, their gift, and the attempt marked done."""
    session = event.object
    gifts.check_session(session)
    email = (session.get("customer_details") or {}).get("email")
    if session["mode"] == "subscription":
        # Completing checkout is no news about the subscription: a known one is not re-read,
        # and its member's gifts, so their status, stay as they were.
        subscription_id = required_id(session["subscription"])
        recurring = find_recurring(subscription_id)
        gifts_changed = recurring is None
        if recurring is None:
            recurring = sync_subscription(subscription_id, event.created, email)
        member = recurring.member
    else:
        member = member_for_customer(object_id(session.get("customer")), email)
        gifts_changed = True
    attempt = attempt_for_session(session)
    if session["mode"] == "subscription":
        copy_attribution(attempt, recurring)
    if attempt is not None:
        welcome(member, attempt)  # first: the receipt below goes out in the reader's language
        if attempt.state != CheckoutState.COMPLETED:
            attempt.state = CheckoutState.COMPLETED
            attempt.completed_at = event.created
    if session["mode"] == "payment" and session.get("payment_status") == "paid":
        record_one_off(session, member, attempt)  # an async method is recorded when it settles
    if gifts_changed:
        members.recompute(member)


def async_payment_succeeded(event: Event) -> None:
    """A delayed payment method (e.g. a bank debit) settled: record the one-off gift."""
    session = event.object
    gifts.check_session(session)
    email = (session.get("customer_details") or {}).get("email")
    member = member_for_customer(object_id(session.get("customer")), email)
    record_one_off(session, member, attempt_for_session(session))
    members.recompute(member)


def async_payment_failed(event: Event) -> None:
    """A delayed payment method failed: tell the reader, record no gift."""
    session = event.object
    gifts.check_session(session)
    email = (session.get("customer_details") or {}).get("email")
    member = members.find_member(object_id(session.get("customer")), email)
    key = f"payment_failed:{object_id(session.get('payment_intent')) or session['id']}"
    payments.queue_email(member, "payment_failed", key, {"checkout_session": session["id"]})


def checkout_expired(event: Event) -> None:
    """The reader never paid: the attempt ends the funnel as expired."""
    attempt = attempt_for_session(event.object)
    if attempt is not None and attempt.state == CheckoutState.OPEN:
        attempt.state = CheckoutState.EXPIRED


def invoice_paid(event: Event) -> None:
    """A recurring payment succeeded (first or renewal): one Donation per invoice."""
    payments.record_invoice(event.object["id"], event.created)


def invoice_payment_failed(event: Event) -> None:
    """A recurring payment failed: the subscription's status follows, the donor is told."""
    attempt = int(event.object.get("attempt_count") or 1)
    payments.record_invoice(event.object["id"], event.created, failed_attempt=attempt)


def subscription_changed(event: Event) -> None:
    """Created, updated or deleted: mirror the subscription as Stripe has it now."""
    members.recompute(sync_subscription(event.object["id"], event.created).member)


def schedule_changed(event: Event) -> None:
    """A change scheduled for the next period was made, changed, released or canceled."""
    schedule = event.object
    subscription_id = object_id(
        schedule.get("subscription") or schedule.get("released_subscription")
    )
    if subscription_id is None:
        return
    members.recompute(sync_subscription(subscription_id, event.created).member)


def customer_updated(event: Event) -> None:
    """Keep the member's email in step with Stripe, unless another member already has it."""
    customer = event.object
    member = members.find_member(customer["id"], None)
    if member is not None and member.erased_at is not None:
        # Erased: whatever Stripe now holds for the customer stays out, also out of the inbox.
        stored = db.session.get(StripeEvent, event.id)
        if stored is not None:
            stored.payload = privacy.scrub(stored.payload)
        return
    email = members.normalise_email(customer.get("email"))
    if member is None or email is None or member.email in (None, email):
        return
    if members.find_member(None, email) is None:
        member.email = email


def charge_refunded(event: Event) -> None:
    """A full or partial refund reverses the gift in totals and, if full, in status."""
    payments.apply_refund(event.object["id"])


def dispute_changed(event: Event) -> None:
    """A dispute opened or closed; a lost one reverses the gift."""
    payments.apply_dispute(event.object["id"])


HANDLERS: dict[str, Callable[[Event], None]] = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": async_payment_succeeded,
    "checkout.session.async_payment_failed": async_payment_failed,
    "checkout.session.expired": checkout_expired,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "subscription_schedule.created": schedule_changed,
    "subscription_schedule.updated": schedule_changed,
    "subscription_schedule.released": schedule_changed,
    "subscription_schedule.canceled": schedule_changed,
    "customer.updated": customer_updated,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_changed,
    "charge.dispute.closed": dispute_changed,
}


def record_one_off(session: Obj, member: Member, attempt: CheckoutAttempt | None) -> None:
    intent = stripe_api.retrieve_payment_intent(required_id(session["payment_intent"]))
    if intent["status"] != "succeeded":
        return
    charge = intent.get("latest_charge") or {}
    paid_at = charge.get("created") if isinstance(charge, dict) else None
    payments.record_payment(
        intent,
        member,
        datetime.fromtimestamp(paid_at, UTC) if paid_at else datetime.now(UTC),
        attempt=attempt or attempt_for(reference_of(intent)),
    )


def attempt_for_session(session: Obj) -> CheckoutAttempt | None:
    """The attempt by the reference our checkout put on the session, else by the session id."""
    reference = reference_of(session)
    ours = [CheckoutAttempt.stripe_checkout_session_id == session["id"]]
    if reference:
        ours.append(CheckoutAttempt.reference == reference)
    found = db.session.scalars(select(CheckoutAttempt).where(or_(*ours))).all()
    by_reference = [a for a in found if reference and a.reference == reference]
    attempt = next(iter(by_reference or found), None)
    if attempt is not None and attempt.stripe_checkout_session_id is None:
        attempt.stripe_checkout_session_id = session["id"]
    return attempt


def welcome(member: Member, attempt: CheckoutAttempt) -> None:
    """Carry the reader's choices on the form (newsletter, language) over to their membership."""
    if member.id is None:
        db.session.flush()
    attempt.member_id = member.id
    member.locale = attempt.locale or member.locale
    if member.erased_at is not None:
        return  # no address to send a newsletter to, and no consent to record for no one
    if attempt.newsletter_consent and not member.newsletter_consent:
        member.newsletter_consent = True
        member.newsletter_consent_at = attempt.completed_at or datetime.now(UTC)
