"""A member's story for staff, newest first: a run of renewals of one recurring gift at one
amount is one line ("27 monthly payments of $26.06, Sep 2024 to Nov 2026"); refunds, disputes,
failed payments, changes, cancellations and emails stand alone and end a run.

Every word goes through Flask-Babel, so the lines follow the request's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from babel.dates import format_interval
from flask_babel import format_date, format_decimal, get_locale, get_timezone, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from membership.extensions import db
from membership.models import (
    COUNTED,
    Donation,
    Interval,
    Member,
    MemberCustomer,
    OutboxEmail,
    OutboxStatus,
    RecurringDonation,
)
from membership.money import Money

# A member's own rows are few (a monthly donor for ten years has 120 gifts); the cap is a guard.
MAX_ROWS = 500
# A receipt that was sent belongs to its payment's line (it names the donation in its context);
# without this, a gift with renewal receipts (MAIL_RENEWAL_RECEIPTS) would never form a run.
RECEIPTS = frozenset({"receipt", "renewal_receipt"})

DONATION_STATUS = {
    "pending": _l("pending"),
    "succeeded": _l("succeeded"),
    "failed": _l("failed"),
    "refunded": _l("refunded"),
    "disputed": _l("disputed"),
    "dispute_lost": _l("dispute lost"),
}
PLAN_STATUS = {
    "incomplete": _l("incomplete"),
    "incomplete_expired": _l("incomplete, expired"),
    "trialing": _l("trialing"),
    "active": _l("active"),
    "past_due": _l("past due"),
    "canceled": _l("cancelled"),
    "unpaid": _l("unpaid"),
    "paused": _l("paused"),
}
EMAIL_STATUS = {"pending": _l("pending"), "sent": _l("sent"), "failed": _l("failed")}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # payments, gift, failed, refund, dispute, change, started, recurring, email
    text: str
    when: str = ""  # the date shown before the text; a run of payments has its dates in the text
    links: tuple[Link, ...] = ()


@dataclass
class Run:
    """Consecutive paid payments of one recurring gift at one amount, oldest first."""

    plan: RecurringDonation
    gifts: list[Donation] = field(default_factory=list)

    def takes(self, gift: Donation) -> bool:
        first = self.gifts[0]
        return (gift.recurring_donation_id, gift.amount, gift.currency, gift.fee_covered) == (
            first.recurring_donation_id,
            first.amount,
            first.currency,
            first.fee_covered,
        )


def stripe_dashboard(config: Mapping[str, Any]) -> str | None:
    """Where this account's objects are seen at Stripe; None in demo mode, whose ids are the
    offline stand-in's and exist nowhere at Stripe."""
    key = config.get("STRIPE_SECRET_KEY") or ""
    if not key or config.get("DEMO_MODE"):
        return None
    test_mode = key.startswith(("sk_test_", "rk_test_"))
    return "https://dashboard.stripe.com/test" if test_mode else "https://dashboard.stripe.com"


def customer_links(member: Member, stripe: str | None) -> list[Link]:
    """Every Stripe customer seen for the member (each anonymous checkout makes one)."""
    if stripe is None:
        return []
    seen = db.session.scalars(
        sa.select(MemberCustomer.stripe_customer_id)
        .where(MemberCustomer.member_id == member.id)
        .order_by(MemberCustomer.created_at)
    ).all()
    ids = dict.fromkeys([member.stripe_customer_id, *seen])  # in order, without repeats
    return [Link(cid, f"{stripe}/customers/{cid}") for cid in ids if cid]


def timeline(member: Member, stripe: str | None = None) -> list[Event]:
    """Everything that happened to this member, newest first; `stripe` (the dashboard's base
    URL, for admins) adds links to the payments and subscriptions there."""
    words = Words(str(get_locale() or "en"), stripe)
    plans = {
        plan.id: plan
        for plan in db.session.scalars(
            sa.select(RecurringDonation).where(RecurringDonation.member_id == member.id)
        )
    }
    # The newest MAX_ROWS of each, then walked oldest first to gather runs.
    gifts = db.session.scalars(
        sa.select(Donation)
        .where(Donation.member_id == member.id)
        .options(selectinload(Donation.campaign))
        .order_by(Donation.paid_at.desc(), Donation.id.desc())
        .limit(MAX_ROWS)
    ).all()[::-1]
    emails = db.session.scalars(
        sa.select(OutboxEmail)
        .where(OutboxEmail.member_id == member.id)
        .order_by(OutboxEmail.id.desc())
        .limit(MAX_ROWS)
    ).all()
    receipted = {gift.id: 0 for gift in gifts}
    # (moment, rank, item): at one moment a gift's start and a change come before the payment.
    story: list[tuple[datetime, int, Donation | Event]] = []
    for email in emails:
        gift_id = (email.context or {}).get("donation_id")
        sent = email.template in RECEIPTS and email.status == OutboxStatus.SENT
        if sent and gift_id in receipted:
            receipted[gift_id] += 1
        else:
            story.append((email.sent_at or email.created_at, 2, words.email(email)))
    for plan in plans.values():
        story += [(e.at, 0 if e.kind == "started" else 2, e) for e in words.plan(plan)]
    last_amount: dict[int, Money] = {}
    for gift in gifts:
        story.append((gift.paid_at, 1, gift))
        if gift.recurring_donation_id in plans:
            before = last_amount.get(gift.recurring_donation_id)
            if before is not None and before != gift.money:
                change = words.change(plans[gift.recurring_donation_id], before, gift)
                story.append((gift.paid_at, 0, change))
            last_amount[gift.recurring_donation_id] = gift.money
        if gift.amount_refunded and gift.refunded_at:
            story.append((gift.refunded_at, 2, words.refund(gift)))
        if gift.disputed_at:
            story.append((gift.disputed_at, 2, words.dispute(gift)))
    story.sort(key=lambda entry: (entry[0], entry[1]))
    return gathered([item for _at, _rank, item in story], plans, words, receipted)[::-1]


def gathered(
    story: list[Donation | Event],
    plans: dict[int, RecurringDonation],
    words: Words,
    receipted: dict[int, int],
) -> list[Event]:
    """The story, oldest first, as lines: each run of paid payments of one recurring gift at
    one amount becomes one; anything else between two payments ends the run."""
    lines: list[Event] = []
    run: Run | None = None
    for item in story:
        if isinstance(item, Donation) and run is not None and run.takes(item) and paid(item):
            run.gifts.append(item)
            continue
        if run is not None:
            lines.append(words.run(run, receipted))
            run = None
        if isinstance(item, Event):
            lines.append(item)
            continue
        plan = plans.get(item.recurring_donation_id or 0)
        if plan is not None and paid(item):
            run = Run(plan, [item])
        else:
            lines.append(words.gift(item, plan, receipted[item.id]))
    if run is not None:
        lines.append(words.run(run, receipted))
    return lines


def paid(gift: Donation) -> bool:
    """A payment that went through; a later refund or dispute is a line of its own."""
    return gift.status in COUNTED


class Words:
    """The timeline's lines in the request's language, money and dates as Babel writes them."""

    def __init__(self, locale: str, stripe: str | None) -> None:
        self.locale = locale
        self.stripe = stripe

    def money(self, amount: int, currency: str) -> str:
        return Money(amount, currency).format(self.locale)

    def links(self, kind: str, *ids: str | None) -> tuple[Link, ...]:
        if self.stripe is None:
            return ()
        return tuple(Link(i, f"{self.stripe}/{kind}/{i}") for i in ids if i)

    def payment_links(self, gift: Donation) -> tuple[Link, ...]:
        return self.links("payments", gift.stripe_payment_intent_id)

    def plan_links(self, plan: RecurringDonation) -> tuple[Link, ...]:
        return self.links("subscriptions", plan.stripe_subscription_id)

    def run(self, run: Run, receipted: dict[int, int]) -> Event:
        first, last = run.gifts[0], run.gifts[-1]
        count = len(run.gifts)
        variables = {
            "count": format_decimal(count),
            "amount": self.money(first.amount, first.currency),
            "dates": format_interval(
                first.paid_at, last.paid_at, "yMMM", tzinfo=get_timezone(), locale=self.locale
            ),
        }
        if run.plan.interval == Interval.YEAR:
            text = ngettext(
                "%(count)s annual payment of %(amount)s, %(dates)s",
                "%(count)s annual payments of %(amount)s, %(dates)s",
                count,
                **variables,
            )
        else:
            text = ngettext(
                "%(count)s monthly payment of %(amount)s, %(dates)s",
                "%(count)s monthly payments of %(amount)s, %(dates)s",
                count,
                **variables,
            )
        if first.fee_covered:
            covered = self.money(first.fee_covered, first.currency)
            text += " " + gettext("(of which %(amount)s per payment for the fees)", amount=covered)
        text += self.receipts(sum(receipted[gift.id] for gift in run.gifts))
        return Event(last.paid_at, "payments", text, links=self.plan_links(run.plan))

    def receipts(self, sent: int) -> str:
        if not sent:
            return ""
        count = format_decimal(sent)
        return " · " + ngettext(
            "%(count)s receipt emailed", "%(count)s receipts emailed", sent, count=count
        )

    def gift(self, gift: Donation, plan: RecurringDonation | None, receipts: int) -> Event:
        """A one-off gift, or a recurring gift's payment that did not go through."""
        amount = self.money(gift.amount, gift.currency)
        status = str(DONATION_STATUS.get(gift.status.value, gift.status.value))
        if plan is not None and plan.interval == Interval.YEAR:
            text = gettext("%(amount)s annual payment, %(status)s", amount=amount, status=status)
        elif plan is not None:
            text = gettext("%(amount)s monthly payment, %(status)s", amount=amount, status=status)
        elif gift.recurring_donation_id or gift.kind.value == "recurring":
            text = gettext("%(amount)s recurring payment, %(status)s", amount=amount, status=status)
        else:
            text = gettext("%(amount)s one-off gift, %(status)s", amount=amount, status=status)
        if gift.fee_covered:
            covered = self.money(gift.fee_covered, gift.currency)
            text += " " + gettext("(of which %(amount)s for the fees)", amount=covered)
        source = gift.article_url or (gift.campaign.name if gift.campaign else "")
        if source:
            text += " — " + gettext("from %(source)s", source=source)
        text += self.receipts(receipts)
        kind = "gift" if paid(gift) else "failed"
        return Event(gift.paid_at, kind, text, self.date(gift.paid_at), self.payment_links(gift))

    def refund(self, gift: Donation) -> Event:
        amount = self.money(gift.amount_refunded, gift.currency)
        at = gift.refunded_at or gift.paid_at
        text = gettext("Refunded %(amount)s", amount=amount)
        return Event(at, "refund", text, self.date(at), self.payment_links(gift))

    def dispute(self, gift: Donation) -> Event:
        at = gift.disputed_at or gift.paid_at
        status = str(DONATION_STATUS.get(gift.status.value, gift.status.value))
        text = gettext("Disputed (%(status)s)", status=status)
        return Event(at, "dispute", text, self.date(at), self.payment_links(gift))

    def every(self, plan: RecurringDonation, amount: int | None = None) -> str:
        money = self.money(plan.amount if amount is None else amount, plan.currency)
        if plan.interval == Interval.YEAR:
            return gettext("%(amount)s a year", amount=money)
        return gettext("%(amount)s a month", amount=money)

    def plan(self, plan: RecurringDonation) -> list[Event]:
        """Its start, and its cancellation or a status other than live."""
        gift, links, events = self.every(plan), self.plan_links(plan), []
        if plan.started_at:
            text = gettext("Started %(gift)s", gift=gift)
            source = plan.article_url or (plan.campaign.name if plan.campaign else "")
            if source:
                text += " — " + gettext("from %(source)s", source=source)
            events.append(
                Event(plan.started_at, "started", text, self.date(plan.started_at), links)
            )
        if plan.canceled_at:
            if plan.cancellation_reason:
                text = gettext(
                    "Cancelled %(gift)s: %(reason)s", gift=gift, reason=plan.cancellation_reason
                )
            else:
                text = gettext("Cancelled %(gift)s", gift=gift)
            events.append(
                Event(plan.canceled_at, "recurring", text, self.date(plan.canceled_at), links)
            )
        elif plan.status.value not in ("active", "trialing"):
            status = str(PLAN_STATUS.get(plan.status.value, plan.status.value))
            text = gettext("%(gift)s is %(status)s", gift=gift, status=status)
            events.append(
                Event(plan.updated_at, "recurring", text, self.date(plan.updated_at), links)
            )
        return events

    def change(self, plan: RecurringDonation, before: Money, gift: Donation) -> Event:
        """Seen in the payments: this one is charged at another amount than the one before."""
        old, new = before.format(self.locale), self.money(gift.amount, gift.currency)
        if plan.interval == Interval.YEAR:
            text = gettext("Annual gift changed from %(old)s to %(new)s", old=old, new=new)
        else:
            text = gettext("Monthly gift changed from %(old)s to %(new)s", old=old, new=new)
        return Event(gift.paid_at, "change", text, self.date(gift.paid_at), self.plan_links(plan))

    def email(self, email: OutboxEmail) -> Event:
        at = email.sent_at or email.created_at
        status = str(EMAIL_STATUS.get(email.status.value, email.status.value))
        text = gettext("Email '%(template)s', %(status)s", template=email.template, status=status)
        return Event(at, "email", text, self.date(at))

    def date(self, at: datetime) -> str:
        return format_date(at, "medium")
