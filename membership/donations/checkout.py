"""From a valid form to a Stripe Checkout Session, and back to what the reader just did."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from membership import stripe_api
from membership.donations import fees
from membership.extensions import db
from membership.models import Campaign, CheckoutAttempt, Frequency, Member
from membership.money import Money

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
UTM_MAX = 100
URL_MAX = 2048


def clean_url(value: str | None) -> str | None:
    """An absolute http(s) URL of sane length, or None: attribution never blocks a gift."""
    value = (value or "").strip()
    if not value or len(value) > URL_MAX or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    allowed = current_app.config["ARTICLE_HOSTS"]
    if allowed and not any(
        parts.hostname == h or parts.hostname.endswith("." + h) for h in allowed
    ):
        return None
    # Drop any fragment and user info: neither is attribution, the latter may be a secret.
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc, fragment="").geturl()


def clean_tag(value: str | None) -> str | None:
    value = "".join(c for c in (value or "") if c.isprintable()).strip()
    return value[:UTM_MAX] or None


def clean_attribution(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Where the gift came from, from untrusted query or form fields; bad values become None."""
    slug = (raw.get("campaign") or "").strip().lower()
    return {
        "campaign": slug if SLUG.match(slug) else None,
        "article_url": clean_url(raw.get("article_url")),
        "referrer": clean_url(raw.get("referrer")),
        **{key: clean_tag(raw.get(key)) for key in UTM_KEYS},
    }


UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def new_submission_token() -> str:
    return uuid.uuid4().hex


def idempotency_key(submission: str, frequency: Frequency, money: Money, fee: int = 0) -> str:
    """Same rendered form and same choices: same key, so a double-submit opens one session."""
    token = (
        submission if re.fullmatch(r"[0-9a-f]{32}", submission or "") else new_submission_token()
    )
    raw = f"{token}:{frequency.value}:{money.amount}:{money.currency}"
    if fee:  # keys of gifts without the fee stay as they were before the offer existed
        raw += f":fee{fee}"
    return "checkout-" + hashlib.sha256(raw.encode()).hexdigest()[:48]


@dataclass(frozen=True)
class Gift:
    frequency: Frequency
    money: Money
    newsletter: bool
    locale: str
    submission: str
    cover_fees: bool = False

    @property
    def fee(self) -> Money:
        """What the reader adds to cover the card fees: nothing unless they chose to."""
        if not self.cover_fees or not fees.offered():
            return Money(0, self.money.currency)
        return fees.cover_fee(self.money)


@dataclass(frozen=True)
class Started:
    reference: str  # the attempt's: the browser keeps it for its sign-in (after_checkout.py)
    url: str  # Stripe's hosted page, to send the reader to


def start_checkout(
    gift: Gift, attribution: Mapping[str, Any], member: Member | None = None
) -> Started:
    """Record the attempt, open (or reopen) its Checkout Session; say where to send the reader."""
    fee = gift.fee
    key = idempotency_key(gift.submission, gift.frequency, gift.money, fee.amount)
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.idempotency_key == key)
    )
    if attempt is None:
        attempt = new_attempt(key, gift, fee, attribution, member)
    campaign = db.session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    try:
        session_id, url = stripe_api.create_checkout(
            checkout_params(attempt, campaign, member), idempotency_key=attempt.idempotency_key
        )
    except stripe_api.PaymentProviderError:
        db.session.commit()  # the try still counts in the funnel
        raise
    # One commit for the attempt and its session: the attempt is only flushed above.
    attempt.stripe_checkout_session_id = session_id
    reference = attempt.reference
    db.session.commit()
    return Started(reference=reference, url=url)


def new_attempt(
    key: str, gift: Gift, fee: Money, attribution: Mapping[str, Any], member: Member | None
) -> CheckoutAttempt:
    from membership.donations.services import named_campaign

    # Credit only the campaign the link named: an ended or unknown one is no one's gift.
    campaign = named_campaign(attribution.get("campaign"))
    fields = {k: v for k, v in attribution.items() if k != "campaign"}
    attempt = CheckoutAttempt(
        idempotency_key=key,
        frequency=gift.frequency,
        amount=gift.money.amount,
        fee_covered=fee.amount,
        currency=gift.money.currency,
        newsletter_consent=gift.newsletter,
        locale=gift.locale,
        member_id=member.id if member else None,
        campaign_id=campaign.id if campaign else None,
        **fields,
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # The same submission raced us here (a double click): use the attempt it wrote.
        db.session.rollback()
        return db.session.scalars(
            sa.select(CheckoutAttempt).where(CheckoutAttempt.idempotency_key == key)
        ).one()
    return attempt


def checkout_params(
    attempt: CheckoutAttempt, campaign: Campaign | None, member: Member | None
) -> dict[str, Any]:
    """The Checkout Session to ask Stripe for; built only from the stored, validated attempt."""
    recurring = attempt.frequency is not Frequency.ONE_OFF
    metadata = {
        "attempt": attempt.reference,
        "campaign": campaign.slug if campaign else "",
        "frequency": attempt.frequency.value,
    }
    product = {"name": product_name(recurring, attempt.locale)}
    if attempt.fee_covered:
        # Stripe's copy on the payment and the subscription is how webhooks learn of it.
        metadata["fee_covered"] = str(attempt.fee_covered)
        product["description"] = fee_description(attempt)
    price_data: dict[str, Any] = {
        "currency": attempt.currency.lower(),
        "unit_amount": attempt.amount + attempt.fee_covered,
        "product_data": product,
    }
    params: dict[str, Any] = {
        "mode": "subscription" if recurring else "payment",
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "client_reference_id": attempt.reference,
        "metadata": metadata,
        "locale": attempt.locale if attempt.locale in ("en", "ru") else "auto",
        "success_url": external_url("donations.thanks") + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": external_url("donations.cancelled", reference=attempt.reference),
    }
    if recurring:
        price_data["recurring"] = {"interval": attempt.frequency.value}
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": metadata}
    if member is not None and member.stripe_customer_id:
        params["customer"] = member.stripe_customer_id
    elif not recurring:
        # One-off donors get a Customer too, so their gifts join up under one member.
        params["customer_creation"] = "always"
    return params


def product_name(recurring: bool, locale: str) -> str:
    """What Stripe's page and receipt call the gift, in the reader's language."""
    publication = current_app.config["PUBLICATION_NAME"]
    with force_locale(locale):
        if recurring:
            return gettext("Membership of %(publication)s", publication=publication)
        return gettext("Gift to %(publication)s", publication=publication)


def fee_description(attempt: CheckoutAttempt) -> str:
    """Said on Stripe's page under the gift: what part of the total is the covered fee."""
    fee = Money(attempt.fee_covered, attempt.currency).format(attempt.locale)
    with force_locale(attempt.locale):
        return gettext("Includes %(fee)s to cover the card fees", fee=fee)


def external_url(endpoint: str, **values: Any) -> str:
    """BASE_URL plus the route's path; works outside a request too (CLI, tests, workers)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


@dataclass(frozen=True)
class Completed:
    money: Money
    frequency: Frequency
    paid: bool
    fee_covered: Money | None = None  # the part of `money` the reader added for the fees


def completed_checkout(session_id: str) -> Completed | None:
    """What Stripe says this session was, or None if Stripe does not know it."""
    session = stripe_api.retrieve_checkout(session_id)
    if session is None or session.amount_total is None or not session.currency:
        return None
    frequency = Frequency.ONE_OFF
    if session.mode == "subscription" and session.line_items and session.line_items.data:
        price = session.line_items.data[0].price
        recurring = price.recurring if price else None
        frequency = Frequency(recurring.interval) if recurring else Frequency.MONTH
    metadata = session.metadata.to_dict() if session.metadata else {}
    fee = fees.metadata_amount(metadata, session.amount_total)
    currency = session.currency.upper()
    return Completed(
        money=Money(session.amount_total, currency),
        fee_covered=Money(fee, currency) if fee else None,
        frequency=frequency,
        # Complete is not paid: a bank debit completes Checkout while the bank has yet to answer.
        paid=session.status == "complete" and session.payment_status != "unpaid",
    )
