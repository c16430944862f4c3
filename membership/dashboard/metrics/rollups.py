"""Keeping the monthly gift totals true: a changed gift marks its month stale; a rebuild refreshes.

Only closed months are ever rolled up; the overview reads the current month, and any stale
month, straight from `donation` (see `Coverage`), so the figures are right whether or not
`flask dashboard rollup` has run lately. It only makes them fast.

Why this is safe with concurrent writers (PostgreSQL, READ COMMITTED): a writer upserts the
month's `rollup_month` row inside its own transaction, holding that row's lock until it
commits; a rebuild locks the same row first and only then reads `donation`. Whichever comes
second waits, so a rebuild either sees the writer's committed change or is marked stale by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session

from membership.extensions import conflict_insert, db
from membership.models import (
    COUNTED,
    Article,
    Donation,
    DonationStatus,
    GiftMonth,
    RollupMonth,
    SourceMonth,
)

# Longer than any transaction: a writer that skips marking a month still open this close to its
# end would race a rebuild that starts as the month closes.
MARGIN = timedelta(days=1)


def month_start(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def months_between(first: date, last: date) -> list[date]:
    """Every month from first's to last's, both included (datetimes work too)."""
    found, month, final = [], month_start(first), month_start(last)
    while month <= final:
        found.append(month)
        month = next_month(month)
    return found


# -- marking stale -------------------------------------------------------------------------


@sa.event.listens_for(Session, "before_flush")
def mark_changed_months(session: Session, _context: Any, _instances: Any) -> None:
    """Any gift added, changed or deleted in a closed month makes that month's totals stale."""
    months: set[date] = set()
    for gift in chain(session.new, session.dirty, session.deleted):
        if not isinstance(gift, Donation):
            continue
        if gift in session.dirty and not session.is_modified(gift):
            continue
        paid = sa.inspect(gift).attrs.paid_at.history  # the old month too, if paid_at moved
        # An expired instance has no history to read: loading the attribute fetches it.
        moments = [*paid.unchanged, *paid.added, *paid.deleted] or [gift.paid_at]
        months.update(month_start(at) for at in moments if at)
    horizon = datetime.now(UTC) + MARGIN
    closing = sorted(m for m in months if midnight(next_month(m)) <= horizon)
    if closing:
        mark_stale(session.connection(), closing)


def mark_stale(connection: sa.Connection, months: Iterable[date]) -> None:
    rows = [{"month": month, "fresh": False} for month in months]
    stmt = conflict_insert(RollupMonth.__table__, connection.dialect.name).values(rows)
    connection.execute(stmt.on_conflict_do_update(index_elements=["month"], set_={"fresh": False}))


def mark_all_stale() -> None:
    """After writes that bypassed the ORM (the demo seed's bulk load): rebuild every month."""
    first = db.session.scalar(sa.select(sa.func.min(Donation.paid_at)))
    if first is not None:
        months = months_between(first, datetime.now(UTC))
        mark_stale(db.session.connection(), months)


# -- rebuilding ----------------------------------------------------------------------------


def refresh(now: datetime) -> list[date]:
    """Rebuild every closed month that is stale or was never built; one commit per month."""
    first_gift = db.session.scalar(sa.select(sa.func.min(Donation.paid_at)))
    rows = db.session.execute(sa.select(RollupMonth.month, RollupMonth.fresh))
    known: dict[date, bool] = {month: fresh for month, fresh in rows}
    # A month whose last gift was deleted is stale yet earlier than any gift left.
    starts = [m for m, fresh in known.items() if not fresh]
    if first_gift is not None:
        starts.append(month_start(first_gift))
    if not starts:
        return []
    last_closed = month_start(now) - timedelta(days=1)
    built = []
    for month in months_between(min(starts), last_closed):
        if not known.get(month, False):
            rebuild(month, now)
            db.session.commit()
            built.append(month)
    return built


def rebuild(month: date, now: datetime) -> None:
    """Replace one closed month's totals with fresh ones from `donation`; the caller commits."""
    connection = db.session.connection()
    ensure = conflict_insert(RollupMonth.__table__, connection.dialect.name)
    connection.execute(ensure.values(month=month, fresh=False).on_conflict_do_nothing())
    lock = sa.select(RollupMonth.month).where(RollupMonth.month == month).with_for_update()
    connection.execute(lock)  # taken before reading donation: see the module docstring
    for table in (GiftMonth, SourceMonth):
        connection.execute(sa.delete(table).where(table.month == month))
    in_month = (
        Donation.paid_at >= midnight(month),
        Donation.paid_at < midnight(next_month(month)),
        Donation.status.in_(COUNTED),
    )
    grouped = [Donation.currency, Donation.kind, Donation.amount, settled()]
    connection.execute(
        sa.insert(GiftMonth).from_select(
            GiftMonth.__table__.c.keys(),  # month first, then as selected below
            sa.select(sa.literal(month, sa.Date), *grouped, *gift_sums())
            .where(*in_month)
            .group_by(*grouped),
        )
    )
    # Number any new article URLs first, so the article totals can group by an integer.
    urls = sa.select(Donation.article_url).where(*in_month, Donation.article_url.is_not(None))
    connection.execute(
        conflict_insert(Article.__table__, connection.dialect.name)
        .from_select(["url"], urls.distinct())
        .on_conflict_do_nothing(index_elements=["url"])
    )
    by_campaign = sa.select(Donation.campaign_id).where(Donation.campaign_id.is_not(None))
    by_article = (
        sa.select(Article.id)
        .select_from(Donation)
        .join(Article, Article.url == Donation.article_url)
    )
    for column, sources in (("campaign_id", by_campaign), ("article_id", by_article)):
        source = sources.selected_columns[0]
        connection.execute(
            sa.insert(SourceMonth).from_select(
                ["month", "currency", column, "gifts", "gross"],
                sources.with_only_columns(
                    sa.literal(month, sa.Date),
                    Donation.currency,
                    source,
                    sa.func.count(),
                    sa.func.sum(Donation.amount),
                )
                .where(*in_month)
                .group_by(Donation.currency, source),
            )
        )
    connection.execute(
        sa.update(RollupMonth).where(RollupMonth.month == month).values(fresh=True, built_at=now)
    )


def settled() -> sa.ColumnElement[str]:
    """The currency Stripe paid out in: the gift's own unless the balance said otherwise."""
    return sa.func.coalesce(Donation.settlement_currency, Donation.currency)


def gift_sums() -> list[sa.ColumnElement[Any]]:
    """gifts, refunded, fee_gifts, fees, net, covered_gifts, covered: the sums GiftMonth keeps,
    over Donation rows."""
    # A lost dispute takes back what was not already refunded, so refunds never exceed gross.
    lost = sa.case(
        (
            Donation.status == DonationStatus.DISPUTE_LOST,
            Donation.amount - Donation.amount_refunded,
        ),
        else_=0,
    )
    known = Donation.fee.is_not(None)
    net = sa.func.coalesce(Donation.net, Donation.amount - Donation.fee)
    return [
        sa.func.count(),
        sa.func.sum(Donation.amount_refunded + lost),
        sa.func.sum(sa.case((known, 1), else_=0)),
        sa.func.coalesce(sa.func.sum(Donation.fee), 0),
        sa.func.sum(sa.case((known, net), else_=0)),
        sa.func.sum(sa.case((Donation.fee_covered > 0, 1), else_=0)),
        sa.func.coalesce(sa.func.sum(Donation.fee_covered), 0),
    ]


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """Which parts of a period come from the rollups and which straight from `donation`."""

    months: list[date]  # fresh closed months wholly inside the period
    ranges: list[tuple[datetime, datetime]]  # the rest, as [start, end) UTC ranges

    def raw(self) -> sa.ColumnElement[bool]:
        """Donations paid in the parts of the period that no fresh rollup covers."""
        if not self.ranges:
            return sa.false()
        return sa.or_(
            *(sa.and_(Donation.paid_at >= a, Donation.paid_at < b) for a, b in self.ranges)
        )


def coverage(start: datetime, end: datetime) -> Coverage:
    """Split [start, end) into fresh rollup months and raw ranges (one small query)."""
    inside = [
        m
        for m in months_between(start.date(), end.date())
        if midnight(m) >= start and midnight(next_month(m)) <= end
    ]
    fresh: set[date] = set()
    if inside:
        fresh = set(
            db.session.scalars(
                sa.select(RollupMonth.month).where(
                    RollupMonth.fresh, RollupMonth.month.between(inside[0], inside[-1])
                )
            )
        )
    months = [m for m in inside if m in fresh]
    ranges: list[tuple[datetime, datetime]] = []
    cursor = start
    for month in months:
        if midnight(month) > cursor:
            ranges.append((cursor, midnight(month)))
        cursor = midnight(next_month(month))
    if cursor < end:
        ranges.append((cursor, end))
    return Coverage(months, ranges)
