"""Finding members for staff: filters, sort orders and keyset pages, shared by list and export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from membership.extensions import db
from membership.input_guard import bounded_int
from membership.models import (
    COUNTED,
    Campaign,
    Donation,
    DonationKind,
    Interval,
    Member,
    MemberGiving,
    MemberStatus,
    RecurringDonation,
    SubscriptionStatus,
)
from membership.models.columns import UTCDateTime

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
BIGINT_LIMIT = 2**63  # MemberGiving.kept, the total a cursor resumes from
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


@dataclass(frozen=True)
class Order:
    """A sort order in two stretches, each read in index order: members with a stored sort
    value, by (value, id); then those without one (`rest`), who count as `rest_value`, by id."""

    valued: sa.Select[*tuple[Any, ...]]  # each with a sort_value column
    key: Any
    ids: Any
    rest: sa.Select[*tuple[Any, ...]] | None = None
    rest_value: Any = None


def order(filters: MemberFilters, currency: str) -> Order:
    """The filtered members in sort order. Totals are in one currency (no FX); both stored
    sort values are kept in step with the gifts by members/giving.py."""
    stmt = filtered(filters, *LISTED)
    if filters.sort == "created":
        created = stmt.add_columns(Member.created_at.label("sort_value"))
        return Order(created, Member.created_at, Member.id)
    if filters.sort == "last_gift":
        gave_at = Member.last_gift_at
        return Order(
            stmt.where(gave_at.is_not(None)).add_columns(gave_at.label("sort_value")),
            gave_at,
            Member.id,
            rest=stmt.where(gave_at.is_(None)).add_columns(constant(EPOCH, UTCDateTime())),
            rest_value=EPOCH,
        )
    mine = sa.and_(MemberGiving.currency == currency, MemberGiving.kept > 0)
    gave = stmt.join(MemberGiving, sa.and_(MemberGiving.member_id == Member.id, mine))
    theirs = sa.select(MemberGiving.member_id).where(MemberGiving.member_id == Member.id, mine)
    return Order(
        gave.add_columns(MemberGiving.kept.label("sort_value")),
        MemberGiving.kept,
        MemberGiving.member_id,
        rest=stmt.where(~theirs.exists()).add_columns(constant(0, sa.BigInteger())),
        rest_value=0,
    )


def constant(value: Any, type_: Any) -> sa.Label[Any]:
    return sa.literal(value, type_).label("sort_value")


@dataclass(frozen=True)
class Page:
    members: list[sa.Row[*tuple[Any, ...]]]  # LISTED and sort_value, by name: m.id, m.email ...
    keys: dict[int, Any]  # member id -> its sort value
    next_cursor: str | None


def page(filters: MemberFilters, currency: str, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """One page, newest/largest first; the cursor is the last row's (sort value, id)."""
    sort = order(filters, currency)
    after = parse_cursor(cursor, filters.sort) if cursor else None
    found: list[sa.Row[*tuple[Any, ...]]] = []
    if after is None or sort.rest is None or after[0] != sort.rest_value:
        stmt = sort.valued
        if after is not None:
            stmt = stmt.where(sa.tuple_(sort.key, sort.ids) < sa.tuple_(*after))
        stmt = stmt.order_by(sort.key.desc(), sort.ids.desc())
        found = list(db.session.execute(stmt.limit(size + 1)))
        after = None  # the rest, if this page reaches it, from its start
    if sort.rest is not None and len(found) <= size:
        stmt = sort.rest if after is None else sort.rest.where(Member.id < after[1])
        stmt = stmt.order_by(Member.id.desc()).limit(size + 1 - len(found))
        found += db.session.execute(stmt)
    more = len(found) > size
    rows = found[:size]
    next_cursor = make_cursor(rows[-1].sort_value, rows[-1].id) if more and rows else None
    return Page(rows, {r.id: r.sort_value for r in rows}, next_cursor)


def make_cursor(value: Any, member_id: int) -> str:
    shown = value.isoformat() if isinstance(value, datetime) else str(int(value))
    return f"{shown}~{member_id}"


def parse_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (sort value, id) a page link carries, within what the columns hold."""
    raw, _, raw_id = cursor.partition("~")
    member_id = bounded_int(raw_id)
    try:
        if member_id is None:
            raise ValueError
        if sort == "total":
            value: Any = int(raw)
            if not -BIGINT_LIMIT <= value < BIGINT_LIMIT:
                raise ValueError
        else:
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError
            value = value.astimezone(UTC)  # OverflowError near the years 1 and 9999
        return value, member_id
    except (ValueError, OverflowError):
        raise FilterError("That page link is broken; start from the first page.") from None


@dataclass(frozen=True)
class Giving:
    currency: str
    kept: int
    gifts: int
    last_gift: datetime


def giving(member_ids: list[int]) -> dict[int, list[Giving]]:
    """Per member of a page: what they gave in each currency, from the stored totals."""
    if not member_ids:
        return {}
    stmt = (
        sa.select(
            MemberGiving.member_id,
            MemberGiving.currency,
            MemberGiving.kept,
            MemberGiving.gifts,
            MemberGiving.last_gift_at,
        )
        .where(MemberGiving.member_id.in_(member_ids), MemberGiving.gifts > 0)
        .order_by(MemberGiving.member_id, MemberGiving.currency)
    )
    found: dict[int, list[Giving]] = {}
    rows: Any = db.session.execute(stmt)  # gifts > 0: each has a last gift
    for member_id, currency, kept, gifts, last in rows:
        found.setdefault(member_id, []).append(Giving(currency, kept, gifts, last))
    return found
