"""Dashboard figures for a period: each comes from one SQL aggregate, grouped in the database.

Gift figures share one statement (`gift_groups`), which reads closed months from the monthly
rollup (see rollups.py); the functions here only add up its few hundred grouped rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from membership.dashboard import rollups
from membership.extensions import db
from membership.models import COUNTED, Donation, DonationKind, GiftMonth, SubscriptionStatus
from membership.money import Money

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
    """The first day of a timestamp's UTC month, as a date, computed by the database."""
    if dialect() == "postgresql":
        # date_trunc groups far faster than to_char over hundreds of thousands of rows.
        # Literal arguments, not bind parameters: PostgreSQL then sees the GROUP BY expression
        # as the selected one and can hash-aggregate instead of sorting every row.
        utc = sa.func.timezone(sa.literal_column("'UTC'"), column)
        return sa.cast(sa.func.date_trunc(sa.literal_column("'month'"), utc), sa.Date)
    # SQLite stores UTC text ("2026-11-01 12:00:00"); the Date type parses the result back.
    return sa.type_coerce(sa.func.date(column, "start of month"), sa.Date)


def month_key(value: date | str) -> str:
    """ "YYYY-MM" from either database's month value."""
    return value.strftime("%Y-%m") if isinstance(value, date) else value[:7]


def rounded(value: Decimal | int | float | None) -> int:
    """Half-up to whole minor units (an average or median can fall between two)."""
    return int(Decimal(str(value or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class GiftGroup:
    """Counted gifts of one month sharing currency, kind, amount and settlement currency."""

    month: str  # "YYYY-MM"
    currency: str
    kind: DonationKind
    amount: int
    settled: str
    gifts: int
    refunded: int  # refunds plus lost disputes
    fee_gifts: int
    fees: int
    net: int
    covered_gifts: int  # readers added the card fees
    covered: int  # what they added

    @property
    def gross(self) -> int:
        return self.amount * self.gifts


def gift_groups(period: Period) -> list[GiftGroup]:
    """The period's counted gifts, grouped: fresh closed months from the monthly rollup, the
    rest straight from `donation`. One statement; a few hundred rows for a year of gifts."""
    cover = rollups.coverage(period.start, period.end)
    month = month_of(Donation.paid_at)
    keys = (Donation.currency, Donation.kind, Donation.amount, rollups.settled())
    raw = (
        sa.select(month, *keys, *rollups.gift_sums())
        .where(Donation.status.in_(COUNTED), cover.raw())
        .group_by(month, *keys)
    )
    rolled = sa.select(*GiftMonth.__table__.c).where(GiftMonth.month.in_(cover.months))
    stmt = raw.union_all(rolled) if cover.months else raw
    return [
        GiftGroup(month_key(m), currency, DonationKind(kind), int(amount), settled,
                  *(int(total) for total in totals))
        for m, currency, kind, amount, settled, *totals in db.session.execute(stmt)
    ]  # fmt: skip


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
    return summarise_money(gift_groups(period))


def summarise_money(groups: list[GiftGroup]) -> list[CurrencyTotals]:
    """Gross, refunds (incl. lost disputes), one-off vs recurring and average gift per currency."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for group in groups:
        totals = sums[group.currency]
        one_off = group.kind == DonationKind.ONE_OFF
        totals[0] += group.gifts
        totals[1] += group.gross
        totals[2] += group.refunded
        totals[3] += group.gifts if one_off else 0
        totals[4] += group.gross if one_off else 0
    found = []
    for currency, (count, gross, refunds, one_off_count, one_off_gross) in sums.items():
        found.append(
            CurrencyTotals(
                currency=currency,
                count=count,
                gross=Money(gross, currency),
                refunds=Money(refunds, currency),
                one_off_count=one_off_count,
                one_off_gross=Money(one_off_gross, currency),
                recurring_count=count - one_off_count,
                recurring_gross=Money(gross - one_off_gross, currency),
                average=Money(rounded(Decimal(gross) / count), currency),
            )
        )
    return sorted(found, key=lambda t: (-t.gross.amount, t.currency))


def fees_and_net(period: Period) -> list[FeeTotals]:
    return summarise_fees(gift_groups(period))


def summarise_fees(groups: list[GiftGroup]) -> list[FeeTotals]:
    """Stripe fees and net per settlement currency, over the gifts whose fee is known."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for group in groups:
        if group.fee_gifts:
            totals = sums[group.settled]
            totals[0] += group.fee_gifts
            totals[1] += group.fees
            totals[2] += group.net
    return [
        FeeTotals(currency, known, Money(fees, currency), Money(net, currency))
        for currency, (known, fees, net) in sorted(sums.items())
    ]


@dataclass(frozen=True)
class CoveredFees:
    currency: str
    gifts: int  # all counted gifts in the currency
    covered_gifts: int  # of which the reader added the card fees
    covered: Money  # what they added

    @property
    def share(self) -> int:
        """Percent of the gifts, rounded half up."""
        return rounded(Decimal(100 * self.covered_gifts) / self.gifts) if self.gifts else 0


def summarise_covered(groups: list[GiftGroup]) -> list[CoveredFees]:
    """Per gift currency: how many readers covered the card fees, and what they added."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for group in groups:
        totals = sums[group.currency]
        totals[0] += group.gifts
        totals[1] += group.covered_gifts
        totals[2] += group.covered
    return [
        CoveredFees(currency, gifts, covered_gifts, Money(covered, currency))
        for currency, (gifts, covered_gifts, covered) in sorted(sums.items())
        if covered_gifts
    ]


def median_gifts(period: Period) -> dict[str, Money]:
    return medians(gift_groups(period))


def medians(groups: list[GiftGroup]) -> dict[str, Money]:
    """The median gift per currency (the mean of the two middle gifts for an even count)."""
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for group in groups:
        counts[group.currency][group.amount] += group.gifts
    found = {}
    for currency, by_amount in counts.items():
        size = sum(by_amount.values())
        low_at, high_at = (size + 1) // 2, size // 2 + 1  # 1-based positions of the middle
        seen, low = 0, None
        for amount in sorted(by_amount):
            seen += by_amount[amount]
            if low is None and seen >= low_at:
                low = amount
            if seen >= high_at:
                middle = (Decimal(low if low is not None else amount) + amount) / 2
                found[currency] = Money(rounded(middle), currency)
                break
    return found


@dataclass(frozen=True)
class MonthlyAmount:
    month: str
    currency: str
    gross: Money


def monthly_gross(period: Period) -> list[MonthlyAmount]:
    return gross_by_month(gift_groups(period))


def gross_by_month(groups: list[GiftGroup]) -> list[MonthlyAmount]:
    """Gross per month and currency, for the bar chart."""
    sums: Counter[tuple[str, str]] = Counter()
    for group in groups:
        sums[group.month, group.currency] += group.gross
    return [MonthlyAmount(m, c, Money(total, c)) for (m, c), total in sorted(sums.items())]
