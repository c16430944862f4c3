"""Finding members for staff: filters, sort orders and keyset pages, shared by list and export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from membership.dashboard.metrics import COUNTED
from membership.extensions import db
from membership.models import (
    Campaign,
    Donation,
    DonationKind,
    DonationStatus,
    Interval,
    Member,
    MemberStatus,
    RecurringDonation,
    SubscriptionStatus,
)

STATUS_VALUES = frozenset(s.value for s in MemberStatus)
SORTS = {"created": "Joined", "last_gift": "Last gift", "total": "Total given"}
FREQUENCIES = {"one_off": "One-off only", "month": "Monthly", "year": "Annual"}
# A recurring gift in one of these is over (or never began): its giver is not a recurring donor.
ENDED = (
    SubscriptionStatus.CANCELED,
    SubscriptionStatus.INCOMPLETE_EXPIRED,
    SubscriptionStatus.INCOMPLETE,
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_SIZE = 50
# What a list row shows: plain rows of these, not Member objects (a page has no use for the
# other columns, nor for identity-map bookkeeping of 50 objects it never changes).
LISTED = (
    Member.id,
    Member.public_id,
    Member.email,
    Member.display_name,
    Member.status,
    Member.tier,
    Member.created_at,
)


class FilterError(ValueError):
    """A filter value staff cannot have chosen from the form; the message says which."""


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""
    status: str = ""
    frequency: str = ""
    tier: str = ""
    currency: str = ""
    campaign: str = ""  # slug
    sort: str = "created"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> MemberFilters:
        """Read and check query-string filters; blanks mean "any"."""
        given = {k: (args.get(k) or "").strip()[:200] for k in cls.__dataclass_fields__}
        given["sort"] = given["sort"] or "created"
        if given["status"] and given["status"] not in STATUS_VALUES:
            raise FilterError("Unknown status.")
        if given["frequency"] and given["frequency"] not in FREQUENCIES:
            raise FilterError("Frequency must be one_off, month or year.")
        if given["sort"] not in SORTS:
            raise FilterError("Sort by created, last_gift or total.")
        currency = given["currency"]
        if currency and not (len(currency) == 3 and currency.isalpha()):
            raise FilterError("Currency must be a three-letter code.")
        return cls(**(given | {"currency": currency.upper()}))

    def args(self) -> dict[str, str]:
        """The non-blank filters, for links (next page, export) that keep them."""
        return {k: v for k, v in vars(self).items() if v}


def filtered(filters: MemberFilters, *columns: Any) -> sa.Select[*tuple[Any, ...]]:
    """Members (or these columns of them) matching every filter given (no order yet)."""
    stmt = sa.select(*columns) if columns else sa.select(Member)
    if filters.q:
        q = filters.q.lower()
        # Emails are stored lower-cased, so a prefix LIKE can use an index on email.
        by_email = Member.email.startswith(q, autoescape=True)
        if "@" in q:
            stmt = stmt.where(by_email)
        else:
            by_name = sa.func.lower(Member.display_name).contains(q, autoescape=True)
            stmt = stmt.where(sa.or_(by_email, by_name))
    if filters.status:
        stmt = stmt.where(Member.status == MemberStatus(filters.status))
    if filters.tier:
        stmt = stmt.where(Member.tier == filters.tier)
    if filters.frequency:
        running = sa.select(RecurringDonation.id).where(
            RecurringDonation.member_id == Member.id, RecurringDonation.status.not_in(ENDED)
        )
        if filters.frequency == "one_off":
            stmt = stmt.where(~running.exists(), gave(Donation.kind == DonationKind.ONE_OFF))
        else:
            interval = Interval(filters.frequency)
            stmt = stmt.where(running.where(RecurringDonation.interval == interval).exists())
    if filters.currency:
        stmt = stmt.where(gave(Donation.currency == filters.currency))
    if filters.campaign:
        campaign_id = db.session.scalar(
            sa.select(Campaign.id).where(Campaign.slug == filters.campaign)
        )
        if campaign_id is None:
            raise FilterError("Unknown campaign.")
        stmt = stmt.where(gave(Donation.campaign_id == campaign_id))
    return stmt


def gave(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return (
        sa.select(Donation.id)
        .where(Donation.member_id == Member.id, Donation.status.in_(COUNTED), condition)
        .exists()
    )


def kept_amount() -> sa.ColumnElement[int]:
    """What a gift left with us: less refunds and a lost dispute."""
    lost = Donation.status == DonationStatus.DISPUTE_LOST
    return sa.case((lost, 0), else_=Donation.amount - Donation.amount_refunded)


def sort_key(filters: MemberFilters, currency: str) -> tuple[sa.Select[*tuple[Any, ...]], Any]:
    """The filtered members with their sort value; totals are in one currency (no FX)."""
    stmt = filtered(filters, *LISTED)
    if filters.sort == "created":
        return stmt.add_columns(Member.created_at.label("sort_value")), Member.created_at
    per_member = sa.select(Donation.member_id.label("member_id")).where(
        Donation.status.in_(COUNTED)
    )
    if filters.sort == "last_gift":
        agg = per_member.add_columns(sa.func.max(Donation.paid_at).label("value"))
        sub = agg.group_by(Donation.member_id).subquery()
        key = sa.func.coalesce(sub.c.value, EPOCH)
    else:
        agg = per_member.add_columns(sa.func.sum(kept_amount()).label("value"))
        sub = agg.where(Donation.currency == currency).group_by(Donation.member_id).subquery()
        key = sa.func.coalesce(sub.c.value, 0)
    stmt = stmt.outerjoin(sub, sub.c.member_id == Member.id).add_columns(key.label("sort_value"))
    return stmt, key


@dataclass(frozen=True)
class Page:
    members: list[sa.Row[*tuple[Any, ...]]]  # LISTED and sort_value, by name: m.id, m.email ...
    keys: dict[int, Any]  # member id -> its sort value
    next_cursor: str | None


def page(filters: MemberFilters, currency: str, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """One page, newest/largest first; the cursor is the last row's (sort value, id)."""
    stmt, key = sort_key(filters, currency)
    if cursor:
        value, last_id = parse_cursor(cursor, filters.sort)
        stmt = stmt.where(sa.or_(key < value, sa.and_(key == value, Member.id < last_id)))
    found = db.session.execute(stmt.order_by(key.desc(), Member.id.desc()).limit(size + 1)).all()
    more = len(found) > size
    rows = list(found[:size])
    next_cursor = make_cursor(rows[-1].sort_value, rows[-1].id) if more and rows else None
    return Page(rows, {r.id: r.sort_value for r in rows}, next_cursor)


def make_cursor(value: Any, member_id: int) -> str:
    shown = value.isoformat() if isinstance(value, datetime) else str(int(value))
    return f"{shown}~{member_id}"


def parse_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    raw, _, raw_id = cursor.partition("~")
    try:
        value: Any = int(raw) if sort == "total" else datetime.fromisoformat(raw)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError
        return value, int(raw_id)
    except ValueError:
        raise FilterError("That page link is broken; start from the first page.") from None


@dataclass(frozen=True)
class Giving:
    currency: str
    kept: int
    gifts: int
    last_gift: datetime


def giving(member_ids: list[int]) -> dict[int, list[Giving]]:
    """Per member of a page: what they gave in each currency, in one grouped query."""
    if not member_ids:
        return {}
    stmt = (
        sa.select(
            Donation.member_id,
            Donation.currency,
            sa.func.sum(kept_amount()),
            sa.func.count(),
            sa.func.max(Donation.paid_at),
        )
        .where(Donation.member_id.in_(member_ids), Donation.status.in_(COUNTED))
        .group_by(Donation.member_id, Donation.currency)
        .order_by(Donation.member_id, Donation.currency)
    )
    found: dict[int, list[Giving]] = {}
    for member_id, currency, kept, gifts, last in db.session.execute(stmt):
        found.setdefault(member_id, []).append(Giving(currency, int(kept), gifts, last))
    return found
