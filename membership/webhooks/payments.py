"""Payments as Donation rows, keyed by Stripe ids so each is recorded once; their outbox emails."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select

from membership import stripe_api
from membership.extensions import db
from membership.mail.triggers import receipt_template
from membership.members import services as members
from membership.models import (
    CheckoutAttempt,
    Donation,
    DonationKind,
    DonationStatus,
    Member,
    OutboxEmail,
    RecurringDonation,
)
from membership.webhooks.events import (
    NotYetKnown,
    Obj,
    copy_attribution,
    object_id,
    required_id,
    timestamp,
)
from membership.webhooks.subscriptions import sync_subscription


def find_donation(
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    invoice_id: str | None = None,
) -> Donation | None:
    """The Donation any of these Stripe ids belongs to, locked for this transaction."""
    keys = [
        column == value
        for column, value in (
            (Donation.stripe_payment_intent_id, payment_intent_id),
            (Donation.stripe_charge_id, charge_id),
            (Donation.stripe_invoice_id, invoice_id),
        )
        if value
    ]
    if not keys:
        return None
    return db.session.scalar(select(Donation).where(or_(*keys)).with_for_update())


def record_payment(
    intent: Obj,
    member: Member,
    paid_at: datetime,
    attempt: CheckoutAttempt | None = None,
    invoice_id: str | None = None,
    recurring: RecurringDonation | None = None,
) -> Donation:
    """The Donation for a succeeded payment intent (expanded charge and balance transaction)."""
    charge = intent.get("latest_charge") if isinstance(intent.get("latest_charge"), dict) else {}
    keys = {
        "payment_intent_id": intent["id"],
        "charge_id": object_id(charge) if charge else None,
        "invoice_id": invoice_id,
    }
    donation = find_donation(**keys)
    if donation is None:
        db.session.flush()  # ids, not relationships: a savepoint's flush must not cascade
        donation = members.add_unique(
            Donation(
                member_id=member.id,
                recurring_donation_id=recurring.id if recurring else None,
                kind=DonationKind.RECURRING if recurring else DonationKind.ONE_OFF,
                amount=intent["amount_received"] or intent["amount"],
                currency=intent["currency"].upper(),
                status=DonationStatus.SUCCEEDED,
                stripe_payment_intent_id=intent["id"],
                stripe_invoice_id=invoice_id,
                paid_at=paid_at,
            ),
            lambda: find_donation(**keys),
        )
    if charge:
        donation.stripe_charge_id = charge["id"]
        apply_balance(donation, charge.get("balance_transaction"))
    copy_attribution(attempt, donation)
    copy_attribution(recurring, donation)
    db.session.flush()
    template = receipt_template(donation)  # a first gift's, or a renewal's
    if template is not None:
        key = f"receipt:{invoice_id or intent['id']}"
        queue_email(member, template, key, donation_context(donation))
    members.recompute(member)
    return donation


def apply_balance(donation: Donation, txn: Obj | str | None) -> None:
    if isinstance(txn, dict):
        donation.fee = txn["fee"]
        donation.net = txn["net"]
        donation.settlement_currency = txn["currency"].upper()


def record_invoice(
    invoice_id: str, event_time: datetime, failed_attempt: int | None = None
) -> Donation | None:
    """Sync the invoice's subscription, record its payment once paid, or report a failed one.

    `failed_attempt` is the event's own attempt_count: the fresh invoice only has the latest,
    and several failed attempts may be delivered together, each owed its own email.
    """
    invoice = stripe_api.retrieve_invoice(invoice_id)
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = object_id(parent.get("subscription"))
    if subscription_id is None:
        return None  # not a recurring gift's invoice
    recurring = sync_subscription(subscription_id, event_time, invoice.get("customer_email"))
    if invoice["status"] != "paid" or not invoice["amount_paid"]:
        if invoice["status"] == "open" and failed_attempt:
            key = f"payment_failed:{invoice_id}:{failed_attempt}"
            queue_email(recurring.member, "payment_failed", key, {"invoice": invoice_id})
        return None
    paid = [p for p in invoice["payments"]["data"] if p["status"] == "paid"]
    if not paid:
        raise NotYetKnown(f"invoice {invoice_id} is paid but lists no paid payment")
    intent = stripe_api.retrieve_payment_intent(required_id(paid[0]["payment"]["payment_intent"]))
    paid_at = invoice["status_transitions"].get("paid_at") or int(event_time.timestamp())
    return record_payment(
        intent, recurring.member, timestamp(paid_at), invoice_id=invoice_id, recurring=recurring
    )


def apply_refund(charge_id: str) -> Donation:
    """Mirror the charge's refunded amount (partial or full) onto its Donation."""
    charge = stripe_api.retrieve_charge(charge_id)
    donation = find_donation(object_id(charge.get("payment_intent")), charge_id)
    if donation is None:
        raise NotYetKnown(f"refund for charge {charge_id} before its payment was recorded")
    donation.amount_refunded = min(charge["amount_refunded"], donation.amount)
    refunds = (charge.get("refunds") or {}).get("data") or []
    if refunds:
        donation.refunded_at = timestamp(max(r["created"] for r in refunds))
    elif charge["amount_refunded"] and donation.refunded_at is None:
        donation.refunded_at = datetime.now(UTC)
    if charge.get("refunded") and donation.status != DonationStatus.DISPUTE_LOST:
        donation.status = DonationStatus.REFUNDED
    members.recompute(donation.member)
    return donation


def apply_dispute(dispute_id: str) -> Donation:
    """Mirror the dispute as it stands now: open, won or lost."""
    dispute = stripe_api.retrieve_dispute(dispute_id)
    charge_id = object_id(dispute["charge"])
    donation = find_donation(object_id(dispute.get("payment_intent")), charge_id)
    if donation is None:
        raise NotYetKnown(f"dispute on charge {charge_id} before its payment was recorded")
    donation.disputed_at = donation.disputed_at or timestamp(dispute["created"])
    if dispute["status"] == "lost":
        donation.status = DonationStatus.DISPUTE_LOST
    elif dispute["status"] == "won":
        full = donation.amount_refunded >= donation.amount
        donation.status = DonationStatus.REFUNDED if full else DonationStatus.SUCCEEDED
    else:
        donation.status = DonationStatus.DISPUTED
    members.recompute(donation.member)
    return donation


def donation_context(donation: Donation) -> Obj:
    return {"donation_id": donation.id, "amount": donation.amount, "currency": donation.currency}


def queue_email(member: Member | None, template: str, dedupe_key: str, context: Obj) -> None:
    """Write the email to the outbox with this transaction; one per dedupe key, ever."""
    exists = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == dedupe_key))
    if exists is not None:
        return
    db.session.flush()
    email = OutboxEmail(
        member_id=member.id if member else None,
        to_address=member.email if member else None,
        locale=member.locale if member else "en",
        template=template,
        dedupe_key=dedupe_key,
        context=context,
    )
    members.add_unique(
        email,
        lambda: db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key)),
    )
