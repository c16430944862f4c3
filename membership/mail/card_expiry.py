"""Card-expiry reminders: a daily pass over running recurring gifts, asking Stripe for each card.

Why a daily command rather than a webhook: Stripe's `customer.source.expiring` covers only
legacy card sources, not the PaymentMethods that Checkout creates, and `invoice.upcoming`
arrives days before a renewal whatever the card. Asking Stripe for the card each gift will be
charged on works for both and needs no new event type. Stripe's card updater often replaces
an expiring card on its own; the email says there is nothing to do if the card was updated.
"""

from __future__ import annotations

import logging
from datetime import date

import stripe
from sqlalchemy import select

from membership import stripe_api
from membership.extensions import db
from membership.mail.outbox import enqueue, find
from membership.mail.triggers import LIVE
from membership.models import Member, RecurringDonation

log = logging.getLogger("membership.mail")
CARD_EXPIRING = "card_expiring"


def expiring_months(today: date) -> set[tuple[int, int]]:
    """(year, month) of this month and the next: a card is good until its month's end."""
    following = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return {(today.year, today.month), following}


def gifts_to_check() -> list[tuple[int, str]]:
    """(id, subscription id) of gifts that will be charged again and whose donor has an address."""
    rows = db.session.execute(
        select(RecurringDonation.id, RecurringDonation.stripe_subscription_id)
        .join(Member, Member.id == RecurringDonation.member_id)
        .where(
            RecurringDonation.status.in_(LIVE),
            RecurringDonation.cancel_at_period_end.is_(False),
            Member.email.is_not(None),
        )
        .order_by(RecurringDonation.id)
    )
    return [(row.id, row.stripe_subscription_id) for row in rows]


def queue_card_expiry(today: date) -> int:
    """Queue one reminder per member per expiring card; return how many were new.

    One Stripe lookup per gift, each committed on its own, so no transaction stays open
    across network calls and a Stripe error costs one gift's reminder, not the run's.
    """
    soon = expiring_months(today)
    db.session.rollback()
    queued = 0
    for gift_id, subscription_id in gifts_to_check():
        try:
            card = stripe_api.default_card(subscription_id)
        except stripe.StripeError as exc:
            fields = {"subscription": subscription_id, "error": type(exc).__name__}
            log.warning("card lookup failed", extra={"fields": fields})
            continue
        if card is None or (int(card["exp_year"]), int(card["exp_month"])) not in soon:
            continue
        key = f"card_expiring:{card['id']}:{card['exp_year']}-{int(card['exp_month']):02d}"
        gift = db.session.get(RecurringDonation, gift_id)
        if gift is None or find(key) is not None:
            continue
        context = {k: card[k] for k in ("brand", "last4", "exp_month", "exp_year")}
        if enqueue(gift.member, CARD_EXPIRING, key, context) is not None:
            queued += 1
        db.session.commit()
    return queued
