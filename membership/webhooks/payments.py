"""Payments as Donation rows, keyed by Stripe ids so each is recorded once; their outbox emails."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import or_, select

from membership import stripe_api
from membership.donations import fees
from membership.extensions import db
from membership.mail import outbox
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
from membership.webhooks import gifts
from membership.webhooks.events import (
    NotYetKnown,
    Obj,
    copy_attribution,
    object_id,
    required_id,
    timestamp,
)
from membership.webhooks.subscriptions import sync_subscription

log = logging.getLogger("membership.webhooks")


def find_donation(
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    invoice_id: str | None = None,
) -> Donation | None:
    """The Donation any of these Stripe ids belongs to, locked for this transaction."""
    if not (payment_intent_id or charge_id or invoice_id):
        return None
    ids = {
        Donation.stripe_payment_intent_id: payment_intent_id,
        Donation.stripe_charge_id: charge_id,
        Donation.stripe_invoice_id: invoice_id,
    }
    matches = [column == value for column, value in ids.items() if value]
    return db.session.scalar(select(Donation).where(or_(*matches)).with_for_update())


def record_payment(
    intent: Obj,
    member: Member,
    paid_at: datetime,
    attempt: CheckoutAttempt | None = None,
    invoice_id: str | None = None,
    recurring: RecurringDonation | None = None,
    fee_metadata: Obj | None = None,
) -> Donation:
    """The Donation for a succeeded payment intent (expanded charge and balance transaction).

    `fee_metadata`: the metadata that says whether the reader covered the fees, when it is not
    the intent's own (an invoice's is its subscription's). The caller recomputes the member's
    status once it has written everything its event owes.
    """
    charge = intent.get("latest_charge") if isinstance(intent.get("latest_charge"), dict) else {}
    donation = find_donation(intent["id"], object_id(charge) if charge else None, invoice_id)
    if donation is None:
        # No SAVEPOINT: one event records each payment (completed or async_payment_succeeded
        # for a one-off, invoice.paid for a recurring one), and the inbox's row lock serialises
        # deliveries of an event. A collision anyway fails the event; Stripe's retry finds the row.
        db.session.flush()
        amount = intent["amount_received"] or intent["amount"]
        metadata = intent.get("metadata") if fee_metadata is None else fee_metadata
        donation = Donation(
            member_id=member.id,
            recurring_donation_id=recurring.id if recurring else None,
            kind=DonationKind.RECURRING if recurring else DonationKind.ONE_OFF,
            amount=amount,
            fee_covered=fees.metadata_amount(metadata, amount),
            currency=intent["currency"].upper(),
            status=DonationStatus.SUCCEEDED,
            stripe_payment_intent_id=intent["id"],
            stripe_invoice_id=invoice_id,
            paid_at=paid_at,
        )
        db.session.add(donation)
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
    return donation


def apply_balance(donation: Donation, txn: Obj | str | None) -> None:
    if isinstance(txn, dict):
        donation.fee = txn["fee"]
        donation.net = txn["net"]
        donation.settlement_currency = txn["currency"].upper()


def record_invoice(
    invoice_id: str,
    event_time: datetime,
    failed_attempt: int | None = None,
    *,
    listed: Obj | None = None,
    intents: Mapping[str, Obj] | None = None,
    recurring: RecurringDonation | None = None,
) -> Donation | None:
    """Sync the invoice's subscription, record its payment once paid, or report a failed one.

    `failed_attempt` is the event's own attempt_count: the fresh invoice only has the latest,
    and several failed attempts may be delivered together, each owed its own email.
    The import (importer.py) hands over what it has already read: the invoice as listed
    (with its payments), its payment intent, and the recurring gift it has just synced.
    """
    invoice = listed if listed is not None else stripe_api.retrieve_invoice(invoice_id)
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = parent.get("subscription")
    subscription_id = object_id(subscription)
    if subscription_id is None:
        return None  # not a recurring gift's invoice
    if recurring is None:
        recurring = sync_subscription(
            subscription_id,
            event_time,
            invoice.get("customer_email"),
            sub=subscription if isinstance(subscription, dict) else None,
        )
    donation = None
    if invoice["status"] == "paid" and invoice["amount_paid"]:
        paid = [p for p in invoice["payments"]["data"] if p["status"] == "paid"]
        if not paid:
            raise NotYetKnown(f"invoice {invoice_id} is paid but lists no paid payment")
        intent_id = required_id(paid[0]["payment"]["payment_intent"])
        known = intents.get(intent_id) if intents is not None else None
        intent = known if known is not None else stripe_api.retrieve_payment_intent(intent_id)
        paid_at = invoice["status_transitions"].get("paid_at") or int(event_time.timestamp())
        donation = record_payment(
            intent,
            recurring.member,
            timestamp(paid_at),
            invoice_id=invoice_id,
            recurring=recurring,
            fee_metadata=subscription_metadata(parent, subscription),
        )
    elif invoice["status"] == "open" and failed_attempt:
        key = f"payment_failed:{invoice_id}:{failed_attempt}"
        queue_email(recurring.member, "payment_failed", key, {"invoice": invoice_id})
    members.recompute(recurring.member)
    return donation


def subscription_metadata(parent: Obj, subscription: Obj | str | None) -> Obj:
    """The subscription's metadata as the invoice was made (Stripe's copy on the invoice), else
    as it is now: a donor who changed their amount since no longer covers the fees."""
    if isinstance(parent.get("metadata"), dict):
        return parent["metadata"]
    return (subscription.get("metadata") if isinstance(subscription, dict) else None) or {}


def apply_refund(charge_id: str, listed: Obj | None = None) -> Donation:
    """Mirror the charge's refunded amount (partial or full) onto its Donation; `listed`: the
    charge as the import already has it (with its refunds)."""
    charge = listed if listed is not None else stripe_api.retrieve_charge(charge_id)
    donation = find_donation(object_id(charge.get("payment_intent")), charge_id)
    if donation is None:
        gifts.check_payment(object_id(charge.get("payment_intent")))
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


def apply_dispute(dispute_id: str, listed: Obj | None = None) -> Donation:
    """Mirror the dispute as it stands now: open, won or lost (`listed`: as the import has it)."""
    dispute = listed if listed is not None else stripe_api.retrieve_dispute(dispute_id)
    charge_id = object_id(dispute["charge"])
    donation = find_donation(object_id(dispute.get("payment_intent")), charge_id)
    if donation is None:
        gifts.check_payment(object_id(dispute.get("payment_intent")))
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
    context = {"donation_id": donation.id, "amount": donation.amount, "currency": donation.currency}
    if donation.fee_covered:
        context["fee_covered"] = donation.fee_covered
    return context


def queue_email(member: Member | None, template: str, dedupe_key: str, context: Obj) -> None:
    """Write the email to the outbox with this transaction; one per dedupe key, ever. Only with
    a recipient: an email without one would sit in the outbox failing forever, so the case is
    logged by its key (Stripe ids, no address) instead."""
    if member is None or not member.email:
        # Also late news about an erased donor, who has no address any more.
        log.info("email not queued: no recipient", extra={"fields": {"key": dedupe_key}})
        return
    if outbox.SILENCED.get():
        return  # history being imported: nothing to tell anyone now
    db.session.flush()
    email = OutboxEmail(
        member_id=member.id,
        to_address=member.email,
        locale=member.locale or "en",
        template=template,
        dedupe_key=dedupe_key,
        context=context,
    )
    members.insert_unique(email)  # a key used before, also by a racing event: nothing new
