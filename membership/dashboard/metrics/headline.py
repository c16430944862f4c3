"""The overview's headline figures: amounts in the default currency, and this month so far.

Amounts in other currencies are converted by MEMBER_TIER_RATES, the rates the member tiers
already use (an unlisted currency counts one minor unit for one), so a converted headline is
an estimate; the exact per-currency figures are shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from babel.dates import format_date

from membership.dashboard.metrics import gift_totals
from membership.dashboard.metrics.periods import Period
from membership.dashboard.metrics.rollups import month_start, next_month
from membership.extensions import db
from membership.models import Donation, RecurringDonation
from membership.money import Money, exponent


def converted(amounts: Iterable[Money], into: str, rates: Mapping[str, float]) -> Money:
    """The sum of `amounts` in `into`, rounded to whole major units."""
    total = Decimal(0)
    for money in amounts:
        rate = 1 if money.currency == into else rates.get(money.currency, 1)
        total += Decimal(money.amount) / Decimal(str(rate))
    unit = 10 ** exponent(into)
    whole = (total / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(whole) * unit, into)


@dataclass(frozen=True)
class MonthSoFar:
    """Gross this month through today, against days 1 to the same day of last month."""

    this: list[Money]  # per currency, largest first
    last: list[Money]
    this_total: Money  # converted into the default currency
    last_total: Money
    last_month: date  # its first day, for its name

    @property
    def last_month_name(self) -> str:
        return format_date(self.last_month, "MMMM", locale="en")  # the overview is English only

    @property
    def change(self) -> int | None:
        """Percent up (or down) on last month's same days; None when those had nothing."""
        if not self.last_total.amount:
            return None
        ratio = Decimal(100 * (self.this_total.amount - self.last_total.amount))
        return int((ratio / self.last_total.amount).quantize(Decimal(1), ROUND_HALF_UP))


def month_so_far(today: date, into: str, rates: Mapping[str, float]) -> MonthSoFar:
    """Two short grouped reads: the current month is never rolled up, nor is a part-month."""
    first = month_start(today)
    previous = month_start(first - timedelta(days=1))
    # Day 31 of a 30-day month compares with the whole of last month, no more.
    same_day = min(previous + timedelta(days=today.day - 1), first - timedelta(days=1))
    this = gross(Period(first, today))
    last = gross(Period(previous, same_day))
    return MonthSoFar(
        this, last, converted(this, into, rates), converted(last, into, rates), previous
    )


def gross(period: Period) -> list[Money]:
    return [row.gross for row in gift_totals.money_raised(period)]


def has_any_gift() -> bool:
    """Whether any gift, one-off or recurring, was ever recorded (two index-only lookups)."""
    for model in (Donation, RecurringDonation):
        if db.session.scalar(sa.select(model.id).limit(1)) is not None:
            return True
    return False


def current_month(period: Period, today: date) -> str | None:
    """The "YYYY-MM" of the month still under way, if the period reaches into it."""
    if period.first < next_month(month_start(today)) and period.last >= month_start(today):
        return f"{today:%Y-%m}"
    return None
