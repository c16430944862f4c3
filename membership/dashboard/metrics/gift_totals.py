"""Gift figures for a period: money raised, fees and net, covered fees, medians, gross by month.

All of them add up one statement's rows (`gift_groups`), which reads closed months from the
monthly rollup (see rollups.py) and the rest straight from `donation`: a few hundred grouped
rows for a year of gifts, however many gifts there are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from membership.dashboard.metrics import rollups
from membership.dashboard.metrics.periods import Period, month_key, month_of
from membership.extensions import db
from membership.models import COUNTED, Donation, DonationKind, GiftMonth
from membership.money import Money


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
