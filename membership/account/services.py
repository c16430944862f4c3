"""Donor-side rules: asking for a sign-in link, what a donor sees of their giving, statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import extract, select

from membership.account import tokens
from membership.donations.checkout import external_url
from membership.extensions import db
from membership.members.services import ENDED, REVERSED, normalise_email
from membership.models import Donation, Member, OutboxEmail, RecurringDonation
from membership.money import Money

MAGIC_LINK_TEMPLATE = "magic_link"


def request_link(email: str) -> None:
    """Mail a sign-in link if the address is a member's; do nothing otherwise.

    Run once the answer has gone out (views.after_response), so the page, its status and its
    timing are the same for every address: the lookup, the token and the email come after.
    """
    address = normalise_email(email)
    member = (
        db.session.scalar(select(Member).where(Member.email == address, Member.erased_at.is_(None)))
        if address
        else None
    )
    if member is None:
        db.session.rollback()
        return
    minutes = current_app.config["DONOR_LINK_MINUTES"]
    link = external_url("account.sign_in", token=tokens.make_token(member))
    db.session.add(
        OutboxEmail(
            member_id=member.id,
            to_address=member.email,
            locale=member.locale,
            template=MAGIC_LINK_TEMPLATE,
            context={"link": link, "minutes": minutes},
        )
    )
    db.session.commit()


def gifts(member: Member) -> list[Donation]:
    """Every payment of the donor's, newest first, whatever became of it."""
    return list(
        db.session.scalars(
            select(Donation)
            .where(Donation.member_id == member.id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc())
        )
    )


def live_recurring(member: Member) -> list[RecurringDonation]:
    """Recurring gifts that have not ended (active, paused, past due, cancelling at period end)."""
    return list(
        db.session.scalars(
            select(RecurringDonation)
            .where(
                RecurringDonation.member_id == member.id,
                RecurringDonation.status.not_in(ENDED),
            )
            .order_by(RecurringDonation.id)
        )
    )


def own_donation(member: Member, donation_id: int) -> Donation | None:
    """The donation if it is this donor's; anyone else's is as unknown as a missing one."""
    donation = db.session.get(Donation, donation_id)
    return donation if donation is not None and donation.member_id == member.id else None


def own_recurring(member: Member, recurring_id: int) -> RecurringDonation | None:
    recurring = db.session.get(RecurringDonation, recurring_id)
    if recurring is None or recurring.member_id != member.id or recurring.status in ENDED:
        return None
    return recurring


@dataclass(frozen=True)
class Statement:
    year: int
    gifts: list[Donation]
    totals: list[Money]  # one per currency, net of refunds; no FX conversion


def statement_years(member: Member) -> list[int]:
    years = {d.paid_at.year for d in gifts(member) if d.status not in REVERSED}
    return sorted(years, reverse=True)


def annual_statement(member: Member, year: int) -> Statement:
    """The calendar year's gifts (UTC) that were kept, with their totals per currency."""
    rows = db.session.scalars(
        select(Donation)
        .where(
            Donation.member_id == member.id,
            Donation.status.not_in(REVERSED),
            extract("year", Donation.paid_at) == year,
        )
        .order_by(Donation.paid_at, Donation.id)
    ).all()
    # Python-side re-check: SQLite's extract works on the stored text, which is UTC already.
    kept = [d for d in rows if d.paid_at.astimezone(UTC).year == year]
    totals: dict[str, int] = {}
    for donation in kept:
        net = donation.amount - donation.amount_refunded
        totals[donation.currency] = totals.get(donation.currency, 0) + net
    money = [Money(amount, currency) for currency, amount in sorted(totals.items()) if amount]
    return Statement(year, kept, money)


def now() -> datetime:
    return datetime.now(UTC)
