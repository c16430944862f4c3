"""Dashboard figures for a period: each function is one SQL aggregate, grouped in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from membership.extensions import db
from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    SubscriptionStatus,
)
from membership.money import Money

# Payments that happened; failed and pending ones never moved money.
COUNTED = (
    DonationStatus.SUCCEEDED,
    DonationStatus.REFUNDED,
    DonationStatus.DISPUTED,
    DonationStatus.DISPUTE_LOST,
)
# Stripe statuses in which a recurring gift brings in money (past_due is "at risk", not revenue).
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
NEEDS_ATTENTION = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
MAX_PERIOD_DAYS = 3660


class PeriodError(ValueError):
    """A from/to pair that cannot be a reporting period; the message is shown to staff."""


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return datetime(self.last.year, self.last.month, self.last.day, tzinfo=UTC) + timedelta(
            days=1
        )

    def months(self) -> list[str]:
        """Every "YYYY-MM" the period touches, so empty months still get a chart slot."""
        year, month, found = self.first.year, self.first.month, []
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def default_period(today: date) -> Period:
    """The last 12 months: from the first day of the month 11 months ago through today."""
    month_index = today.year * 12 + today.month - 1 - 11
    return Period(date(month_index // 12, month_index % 12 + 1, 1), today)


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """A Period from ?from=YYYY-MM-DD&to=YYYY-MM-DD; either may be blank (then the default)."""
    default = default_period(today)
    first = parse_day(raw_from, "from") or default.first
    last = parse_day(raw_to, "to") or default.last
    if first > last:
        raise PeriodError("The start date must be on or before the end date.")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise PeriodError("The period may be at most ten years long.")
    return Period(first, last)


def parse_day(raw: str | None, name: str) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise PeriodError(f"'{name}' must be a date like 2026-01-31.") from None
    if day.year < 2000 or day.year > 2100:
        raise PeriodError(f"'{name}' must be between the years 2000 and 2100.")
    return day


def dialect() -> str:
    return db.session.get_bind().dialect.name


def month_of(column: Any) -> Any:
    """The UTC month of a timestamp, computed by the database (read it with month_key)."""
    if dialect() == "postgresql":
        # date_trunc groups far faster than to_char over hundreds of thousands of rows.
        return sa.func.date_trunc("month", sa.func.timezone("UTC", column))
    return sa.func.strftime("%Y-%m", column)  # SQLite stores UTC text: "2026-11-01 12:00:00"


def month_key(value: datetime | str) -> str:
    """ "YYYY-MM" from either database's month value."""
    return value.strftime("%Y-%m") if isinstance(value, datetime) else value[:7]


def counted_in(period: Period) -> sa.ColumnElement[bool]:
    """Donations paid in the period that moved money."""
    return sa.and_(
        Donation.paid_at >= period.start,
        Donation.paid_at < period.end,
        Donation.status.in_(COUNTED),
    )


def rounded(value: Decimal | int | float | None) -> int:
    """Half-up to whole minor units (an average or median can fall between two)."""
    return int(Decimal(str(value or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    count: int
    gross: Money
    refunds: Money
    one_off_count: int
    one_off_gross: Money
    recurring_count: int
    recurring_gross: Money
    average: Money


@dataclass(frozen=True)
class FeeTotals:
    currency: str  # the settlement currency Stripe paid out in
    known: int  # gifts whose balance transaction reported a fee
    fees: Money
    net: Money


def money_raised(period: Period) -> list[CurrencyTotals]:
    """Gross, refunds (incl. lost disputes), one-off vs recurring and average gift per currency."""
    # A lost dispute takes back what was not already refunded, so refunds never exceed gross.
    lost = sa.case(
        (
            Donation.status == DonationStatus.DISPUTE_LOST,
            Donation.amount - Donation.amount_refunded,
        ),
        else_=0,
    )
    one_off = Donation.kind == DonationKind.ONE_OFF
    stmt = (
        sa.select(
            Donation.currency,
            sa.func.count(),
            sa.func.sum(Donation.amount),
            sa.func.sum(Donation.amount_refunded + lost),
            sa.func.sum(sa.case((one_off, 1), else_=0)),
            sa.func.sum(sa.case((one_off, Donation.amount), else_=0)),
        )
        .where(counted_in(period))
        .group_by(Donation.currency)
        .order_by(sa.func.sum(Donation.amount).desc(), Donation.currency)
    )
    totals = []
    for currency, count, gross, refunds, one_off_count, one_off_gross in db.session.execute(stmt):
        gross, one_off_gross = int(gross), int(one_off_gross)
        totals.append(
            CurrencyTotals(
                currency=currency,
                count=count,
                gross=Money(gross, currency),
                refunds=Money(int(refunds), currency),
                one_off_count=int(one_off_count),
                one_off_gross=Money(one_off_gross, currency),
                recurring_count=count - int(one_off_count),
                recurring_gross=Money(gross - one_off_gross, currency),
                average=Money(rounded(Decimal(gross) / count), currency),
            )
        )
    return totals


def fees_and_net(period: Period) -> list[FeeTotals]:
    """Stripe fees and net per settlement currency, over the gifts whose fee is known."""
    settled_in = sa.func.coalesce(Donation.settlement_currency, Donation.currency)
    stmt = (
        sa.select(
            settled_in,
            sa.func.count(),
            sa.func.sum(Donation.fee),
            sa.func.sum(sa.func.coalesce(Donation.net, Donation.amount - Donation.fee)),
        )
        .where(counted_in(period), Donation.fee.is_not(None))
        .group_by(settled_in)
        .order_by(settled_in)
    )
    return [
        FeeTotals(currency, known, Money(int(fees or 0), currency), Money(int(net or 0), currency))
        for currency, known, fees, net in db.session.execute(stmt)
    ]


def median_gifts(period: Period) -> dict[str, Money]:
    """The median gift per currency (the mean of the two middle gifts for an even count)."""
    rows: list[tuple[str, Any]]
    if dialect() == "postgresql":
        # Exact: amounts are integers far below 2**53, so the double result is n or n + 0.5.
        median = sa.func.percentile_cont(0.5).within_group(Donation.amount)
        stmt = sa.select(Donation.currency, median).where(counted_in(period))
        rows = [(c, m) for c, m in db.session.execute(stmt.group_by(Donation.currency))]
    else:
        # Portable fallback: number the gifts per currency in amount order, keep the middle one
        # or two, average them. Still a single statement, sorted by the database.
        ranked = (
            sa.select(
                Donation.currency,
                Donation.amount,
                sa.func.row_number()
                .over(partition_by=Donation.currency, order_by=(Donation.amount, Donation.id))
                .label("position"),
                sa.func.count().over(partition_by=Donation.currency).label("size"),
            )
            .where(counted_in(period))
            .subquery()
        )
        middle = sa.or_(
            ranked.c.position == (ranked.c.size + 1) // 2,
            ranked.c.position == ranked.c.size // 2 + 1,
        )
        stmt = (
            sa.select(ranked.c.currency, sa.func.sum(ranked.c.amount), sa.func.count())
            .where(middle)
            .group_by(ranked.c.currency)
        )
        rows = [(c, Decimal(int(total)) / n) for c, total, n in db.session.execute(stmt)]
    return {currency: Money(rounded(value), currency) for currency, value in rows}


@dataclass(frozen=True)
class MonthlyAmount:
    month: str
    currency: str
    gross: Money


def monthly_gross(period: Period) -> list[MonthlyAmount]:
    """Gross per month and currency, for the bar chart."""
    month = month_of(Donation.paid_at)
    stmt = (
        sa.select(month, Donation.currency, sa.func.sum(Donation.amount))
        .where(counted_in(period))
        .group_by(month, Donation.currency)
        .order_by(month, Donation.currency)
    )
    return [
        MonthlyAmount(month_key(m), c, Money(int(total), c))
        for m, c, total in db.session.execute(stmt)
    ]
