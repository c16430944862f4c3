"""Changes a donor asks for on their recurring gift, sent to Stripe; the webhook records them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from membership import stripe_api
from membership.donations import fees
from membership.members.services import add_months
from membership.models import Interval, Member, RecurringDonation, SubscriptionStatus
from membership.money import Money

log = logging.getLogger("membership.account")
PAUSE_MONTHS = (1, 2, 3)


class ManageError(RuntimeError):
    """The change could not be made; the donor is asked to try again later."""


def _send(
    action: str, recurring: RecurringDonation, call: Callable[..., None], *args: object
) -> None:
    # No PII in the log line: the subscription id is Stripe's pseudonymous key.
    try:
        call(*args)
    except stripe_api.PaymentProviderError as exc:
        log.warning(
            "gift change refused by payment provider",
            extra={"fields": {"action": action, "sub": recurring.stripe_subscription_id}},
        )
        raise ManageError(action) from exc


def equivalent(money: Money, from_interval: Interval, to_interval: Interval) -> Money:
    """The same giving over a year at the other interval: 12 x monthly, or an annual gift / 12
    rounded to the currency's smallest unit."""
    if from_interval == to_interval:
        return money
    if to_interval == Interval.YEAR:
        return Money(money.amount * 12, money.currency)
    return Money(max(1, (money.amount + 6) // 12), money.currency)


def change_gift(
    recurring: RecurringDonation, money: Money, interval: Interval, cover_fees: bool = False
) -> bool:
    """New amount and/or interval from the next period, with the card fees added if the donor
    covers them (as on the donation form); False when nothing would change."""
    if money.currency != recurring.currency:
        raise ValueError("a gift keeps its currency")
    fee = fees.cover_fee(money).amount if cover_fees and fees.offered() else 0
    total = money.amount + fee
    if (total, fee, interval) == (recurring.amount, recurring.fee_covered, recurring.interval):
        return False
    _send(
        "change",
        recurring,
        stripe_api.update_subscription_price,
        recurring.stripe_subscription_id,
        total,
        money.currency,
        interval.value,
        fee,
    )
    return True


def pause(recurring: RecurringDonation, months: int, now: datetime | None = None) -> datetime:
    """Skip the charges of the next `months` months; Stripe resumes by itself afterwards."""
    if months not in PAUSE_MONTHS:
        raise ValueError("pause for 1 to 3 months")
    resumes_at = add_months(now or datetime.now(UTC), months)
    _send(
        "pause",
        recurring,
        stripe_api.pause_subscription,
        recurring.stripe_subscription_id,
        int(resumes_at.timestamp()),
    )
    return resumes_at


def resume(recurring: RecurringDonation) -> None:
    _send("resume", recurring, stripe_api.resume_subscription, recurring.stripe_subscription_id)


def cancel_at_period_end(recurring: RecurringDonation, comment: str | None) -> None:
    """Stop after the paid period. The comment goes to Stripe only; we keep no copy of it."""
    _send(
        "cancel",
        recurring,
        stripe_api.cancel_subscription_at_period_end,
        recurring.stripe_subscription_id,
        (comment or "").strip() or None,
    )


def card_portal_url(member: Member, return_url: str) -> str:
    """Stripe's Billing Portal, where the card is changed without it ever touching us."""
    if not member.stripe_customer_id:
        raise ManageError("portal")
    try:
        return stripe_api.create_portal_session(member.stripe_customer_id, return_url)
    except stripe_api.PaymentProviderError as exc:
        log.warning("portal session refused by payment provider")
        raise ManageError("portal") from exc


def can_pause(recurring: RecurringDonation) -> bool:
    return recurring.status == SubscriptionStatus.ACTIVE and recurring.paused_until is None
