"""Each email template's data: built at render time from the outbox row's small context.

The row keeps ids and a few figures; names, dates and links are looked up or formatted here,
in the email's own language (render.py calls these inside force_locale).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import format_date
from sqlalchemy import select

from membership.account import tokens
from membership.extensions import db
from membership.models import (
    Donation,
    Member,
    OutboxEmail,
    RecurringDonation,
    SubscriptionStatus,
)
from membership.money import Money

Context = dict[str, Any]
# Staff previews never show a working sign-in link: it would let them in as the donor.
HIDDEN_LINK = "[link hidden in the staff preview]"
CARD_BRANDS = {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa"}


def account_url() -> str:
    """Where a donor manages their gift and card.

    The account pages ask for an email and send a sign-in link, so a plain URL is safe to mail
    and never expires in an inbox (a magic link minted here would, in 30 minutes).
    """
    return current_app.config["BASE_URL"] + "/account"


def give_url() -> str:
    return current_app.config["BASE_URL"] + "/give"


def long_date(value: str | datetime | None) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_date(moment, "long")


def receipt(email: OutboxEmail, preview: bool) -> Context:
    """First gift or renewal: amount, date, reference, and what kind of gift it is."""
    data = email.context
    donation = db.session.get(Donation, data["donation_id"]) if data.get("donation_id") else None
    gift = donation.recurring_donation if donation else None
    return {
        "amount": Money(data["amount"], data["currency"]),
        "fee_covered": Money(data["fee_covered"], data["currency"])
        if data.get("fee_covered")
        else None,
        "interval": gift.interval.value if gift else None,
        "paid_on": long_date(donation.paid_at if donation else email.created_at),
        "reference": donation.id if donation else None,
        "account_url": account_url(),
    }


def payment_failed(email: OutboxEmail, preview: bool) -> Context:
    """A recurring payment (invoice) or a delayed one-off payment that did not go through."""
    recurring = "invoice" in email.context
    gift = live_gift(email.member_id) if recurring else None
    return {
        "recurring": recurring,
        "amount": gift.money if gift else None,
        "interval": gift.interval.value if gift else None,
        "update_url": card_link(email, preview) if recurring else give_url(),
    }


def card_link(email: OutboxEmail, preview: bool) -> str:
    """A one-time sign-in link, minted as the email is sent, that opens the donor's account
    where the card is updated; staff previews get the plain account address instead."""
    member = db.session.get(Member, email.member_id) if email.member_id else None
    if preview or member is None or member.erased_at is not None:
        return account_url()
    # A nonce made here is saved by the sender's own commit, with the email marked sent.
    token = tokens.make_token(member, tokens.CARD_PURPOSE)
    path = current_app.url_map.bind("localhost").build("account.sign_in", {"token": token})
    return current_app.config["BASE_URL"] + path


def card_expiring(email: OutboxEmail, preview: bool) -> Context:
    data = email.context
    brand = str(data.get("brand") or "")
    return {
        "brand": CARD_BRANDS.get(brand, brand.title()),
        "last4": data.get("last4"),
        "expiry": f"{int(data['exp_month']):02d}/{data['exp_year']}",
        "update_url": account_url(),
    }


def cancellation(email: OutboxEmail, preview: bool) -> Context:
    data = email.context
    return {
        "scheduled": data.get("state") == "scheduled",
        "amount": Money(data["amount"], data["currency"]),
        "interval": data.get("interval"),
        "ends_on": long_date(data.get("ends_at")),
        "payment_failed": data.get("reason") == "payment_failed",
        "account_url": account_url(),
        "give_url": give_url(),
    }


def magic_link(email: OutboxEmail, preview: bool) -> Context:
    data = email.context
    return {
        "link": HIDDEN_LINK if preview else data.get("link"),
        "minutes": int(data.get("minutes") or 30),
    }


def live_gift(member_id: int | None) -> RecurringDonation | None:
    """The member's newest recurring gift that is still running (the one that failed)."""
    if member_id is None:
        return None
    return db.session.scalar(
        select(RecurringDonation)
        .where(
            RecurringDonation.member_id == member_id,
            RecurringDonation.status != SubscriptionStatus.CANCELED,
        )
        .order_by(RecurringDonation.id.desc())
        .limit(1)
    )


BUILDERS: dict[str, Callable[[OutboxEmail, bool], Context]] = {
    "receipt": receipt,
    "renewal_receipt": receipt,
    "payment_failed": payment_failed,
    "card_expiring": card_expiring,
    "cancellation": cancellation,
    "magic_link": magic_link,
}
# Context keys that stop being needed, and must not linger, once the email is sent.
SECRET_KEYS = ("link",)
