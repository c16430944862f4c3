"""A donor's data: everything we hold about them as JSON, and erasure that keeps only accounting.

Erasure keeps amounts, dates and statuses under the pseudonymous public_id. It removes email,
name, consent, every Stripe customer id seen for them, outbox addresses and contents, the
article and referrer a gift came from (what someone reads can put them at risk), and the PII
inside stored Stripe events and audit details that concern them. At Stripe it cancels their
gifts and blanks every one of their customers. What is left to recognise them by, when a late
event names them, is a keyed fingerprint of each (members/erasure.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import stripe

from membership import stripe_api
from membership.account import services
from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.members import erasure
from membership.models import (
    AuditEntry,
    CheckoutAttempt,
    Donation,
    Member,
    MemberCustomer,
    OutboxEmail,
    OutboxStatus,
    RecurringDonation,
    StripeEvent,
)

ERASED = "[erased]"
# Keys in Stripe objects that hold a person's details, whatever their value.
PII_KEYS = frozenset(
    {
        "email",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "customer_details",
        "billing_details",
        "receipt_email",
        "shipping",
        "shipping_details",
        "phone",
        "address",
        "payment_method_details",
    }
)
# Attribution that says what the donor read or typed: cleared. Campaign and UTM source, medium
# and campaign describe our own prompts and stay for the funnel figures.
PERSONAL_ATTRIBUTION = ("article_url", "referrer", "utm_content", "utm_term")
SECRET_CONTEXT_KEYS = ("link",)  # a sign-in link is a credential, even in one's own export


class ErasureError(RuntimeError):
    """Stripe could not stop the gift or forget the customer; nothing was erased."""


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def as_dict(row: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    columns = sa.inspect(type(row)).columns
    return {c.key: jsonable(getattr(row, c.key)) for c in columns if c.key not in leave_out}


def about(member: Member) -> sa.ColumnElement[bool]:
    return sa.and_(
        AuditEntry.target_type == "member",
        AuditEntry.target_id.in_([member.public_id, str(member.id)]),
    )


def audit_about(member: Member) -> sa.Select[AuditEntry]:
    return sa.select(AuditEntry).where(about(member))


def export_data(member: Member) -> dict[str, Any]:
    """Every row about the donor, as JSON-ready dicts; other people's data never appears."""

    def rows(model: Any) -> list[Any]:
        query = sa.select(model).where(model.member_id == member.id).order_by(model.id)
        return list(db.session.scalars(query))

    outbox = []
    for email in rows(OutboxEmail):
        item = as_dict(email)
        item["context"] = {
            k: v for k, v in (email.context or {}).items() if k not in SECRET_CONTEXT_KEYS
        }
        outbox.append(item)
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "member": as_dict(member, leave_out=("login_nonce",)),
        "donations": [as_dict(d) for d in rows(Donation)],
        "recurring_donations": [as_dict(r) for r in rows(RecurringDonation)],
        "checkout_attempts": [as_dict(a) for a in rows(CheckoutAttempt)],
        "outbox_emails": outbox,
        "audit_entries": [
            as_dict(a, leave_out=("staff_user_id",))
            for a in db.session.scalars(audit_about(member).order_by(AuditEntry.id))
        ],
    }


def scrub(
    value: Any,
    emails: Iterable[str] = (),
    names: frozenset[str] = frozenset(),
    ids: frozenset[str] = frozenset(),
) -> Any:
    """A copy with PII keys nulled, and strings naming the donor replaced: those holding one of
    the (casefolded) emails, equal to a (casefolded) name, or equal to one of the Stripe ids."""
    needles = frozenset(e.casefold() for e in emails if e)
    return _scrub(value, needles, names, ids)


def _scrub(value: Any, emails: frozenset[str], names: frozenset[str], ids: frozenset[str]) -> Any:
    if isinstance(value, dict):
        is_customer = value.get("object") == "customer"
        return {
            k: None
            if k in PII_KEYS or (is_customer and k in ("name", "description"))
            # An update's old values: whatever they were, they may be the donor's details.
            else dict.fromkeys(v)
            if k == "previous_attributes" and isinstance(v, dict)
            else _scrub(v, emails, names, ids)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v, emails, names, ids) for v in value]
    if isinstance(value, str):
        folded = value.casefold()
        if value in ids or any(e in folded for e in emails) or folded.strip() in names:
            return ERASED
    return value


def customers_of(member: Member) -> list[str]:
    """Every Stripe customer the service has seen for the member, the first one first."""
    linked = db.session.scalars(
        sa.select(MemberCustomer.stripe_customer_id)
        .where(MemberCustomer.member_id == member.id)
        .order_by(MemberCustomer.created_at, MemberCustomer.stripe_customer_id)
    )
    first = [member.stripe_customer_id] if member.stripe_customer_id else []
    return first + [c for c in linked if c not in first]


def erase(member: Member, actor: str, staff_user_id: int | None = None) -> None:
    """Stop the donor's gifts and blank every one of their customers at Stripe, then blank their
    PII here and keep only fingerprints of it, in one transaction."""
    names = {member.display_name}
    customers = customers_of(member)
    try:
        for recurring in services.live_recurring(member):
            stripe_api.cancel_subscription_now(recurring.stripe_subscription_id)
        for customer_id in customers:
            # The name lives at Stripe (checkout asks for it); needed to find it in our copies.
            names.add(stripe_api.customer_name(customer_id))
            stripe_api.forget_customer_details(customer_id)
    except (stripe_api.PaymentProviderError, stripe.StripeError) as exc:
        db.session.rollback()
        raise ErasureError(type(exc).__name__) from exc
    # Demo mode delivers the resulting webhooks in-process, committing as they go: re-read.
    db.session.refresh(member)
    email = (member.email or "").casefold() or None
    needles = frozenset(n.casefold().strip() for n in names if n and n.strip())
    ids = frozenset(customers)
    erasure.remember(member, email, customers)
    erase_member_row(member)
    erase_related(member, email)
    scrub_events(email, needles, ids)
    scrub_audit(member, email, needles, ids)
    record("member.erase", "member", member.public_id, actor=actor, staff_user_id=staff_user_id)
    db.session.commit()


def erase_member_row(member: Member) -> None:
    member.email = None
    member.display_name = None
    member.newsletter_consent = False
    member.newsletter_consent_at = None
    member.login_nonce = None  # ends every session and link
    member.stripe_customer_id = None  # its fingerprint recognises it from now on
    member.erased_at = datetime.now(UTC)
    db.session.execute(sa.delete(MemberCustomer).where(MemberCustomer.member_id == member.id))


def erase_related(member: Member, email: str | None) -> None:
    mine = OutboxEmail.member_id == member.id
    addressed = sa.func.lower(OutboxEmail.to_address) == email if email else sa.false()
    for outbox in db.session.scalars(sa.select(OutboxEmail).where(sa.or_(mine, addressed))):
        outbox.to_address = None
        outbox.context = {}
        if outbox.status == OutboxStatus.PENDING:
            outbox.status = OutboxStatus.FAILED  # never sent: there is no one to send it to
            outbox.last_error = "recipient erased"
    for model in (Donation, RecurringDonation, CheckoutAttempt):
        for row in db.session.scalars(sa.select(model).where(model.member_id == member.id)):
            for column in PERSONAL_ATTRIBUTION:
                setattr(row, column, None)
            if isinstance(row, RecurringDonation):
                row.cancellation_reason = None


def naming(column: Any, email: str | None, ids: frozenset[str]) -> Any:
    """A condition: the JSON column's text holds the email or one of the ids."""
    text = sa.func.lower(sa.cast(column, sa.Text))
    needles = sorted(ids) + ([email] if email else [])
    return sa.or_(sa.false(), *(text.contains(n.lower(), autoescape=True) for n in needles))


def scrub_events(email: str | None, names: frozenset[str], ids: frozenset[str]) -> None:
    """Stored Stripe payloads about the donor keep their other ids and amounts, not the person."""
    emails = [email] if email else []
    for event in db.session.scalars(
        sa.select(StripeEvent).where(naming(StripeEvent.payload, email, ids))
    ):
        event.payload = scrub(event.payload, emails, names, ids)
        if event.last_error and email and email in event.last_error.casefold():
            event.last_error = ERASED


def scrub_audit(
    member: Member, email: str | None, names: frozenset[str], ids: frozenset[str]
) -> None:
    """Entries about the member, and any whose details name them (an export's search text)."""
    emails = [email] if email else []
    for entry in db.session.scalars(
        sa.select(AuditEntry).where(sa.or_(about(member), naming(AuditEntry.detail, email, ids)))
    ):
        if entry.detail:
            entry.detail = scrub(entry.detail, emails, names, ids)
