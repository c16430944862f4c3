"""The dataset and helpers shared by the rollup tests: a few closed months of varied gifts
whose every figure is worked out by hand."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from membership.dashboard.metrics import gift_totals, rollups, top_sources
from membership.dashboard.metrics import services as overview
from membership.dashboard.metrics.periods import Period
from membership.dashboard.metrics.rollups import Coverage
from membership.extensions import db
from membership.models import (
    Donation,
    RollupMonth,
)

DEC, JAN, FEB, MAR, APR, MAY = (date(2025, 12, 1), *(date(2026, m, 1) for m in range(1, 6)))
BUILT_AT = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # every month of the dataset has closed
PERIOD = Period(date(2026, 1, 15), date(2026, 4, 14))  # mid-month to mid-month: Feb, Mar whole
A, B = "https://news.example/a", "https://news.example/b"


def at(year: int, month: int, day: int, *rest: int) -> datetime:
    return datetime(year, month, day, *rest, tzinfo=UTC)


def frozen(moment: datetime) -> type[datetime]:
    """A datetime class whose now() is `moment`, for a module's own `datetime` name."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return moment

    return Frozen


# Worked out by hand from `gifts`; see the comments for the sums.
RAISED = [
    # count, gross, refunds, one-off count and gross, recurring count and gross, average
    # USD refunds: g4 1500 + g9 3000 + g10 lost 2000 + g11 500 refunded + 1500 lost.
    ("USD", 9, 20500, 8500, 8, 19500, 1, 1000, 2278),  # 20500 / 9 = 2277.8
    ("JPY", 4, 6501, 0, 2, 3500, 2, 3001, 1625),  # 6501 / 4 = 1625.25
    ("EUR", 2, 2500, 0, 2, 2500, 0, 0, 1250),
]
FEES = [  # per settlement currency: known, fees, net (g12's net is 3000 - 120)
    ("EUR", 1, 50, 950),
    ("JPY", 3, 226, 5774),
    ("USD", 4, 336, 7338),  # g1, g3, g14 and the EUR gift g5 settled in dollars
]
MEDIANS = {"USD": 2500, "JPY": 1501, "EUR": 1250}  # JPY and EUR: even counts, half up
MONTHLY = [
    ("2026-01", "JPY", 1000), ("2026-01", "USD", 2500),
    ("2026-02", "EUR", 1500), ("2026-02", "JPY", 500), ("2026-02", "USD", 5000),
    ("2026-03", "EUR", 1000), ("2026-03", "JPY", 3000), ("2026-03", "USD", 12000),
    ("2026-04", "JPY", 2001), ("2026-04", "USD", 1000),
]  # fmt: skip
CAMPAIGNS = [
    ("Gamma", "EUR", 1500, 1),
    ("Beta", "JPY", 4000, 2),
    ("Alpha", "USD", 7500, 3),
    ("Beta", "USD", 3000, 2),
    ("Delta", "USD", 3000, 1),  # ties with Beta: then by name
]
ARTICLES = [(A, "EUR", 1000, 1), (A, "JPY", 500, 1), (B, "USD", 7000, 2), (A, "USD", 3500, 2)]
EXPECTED = {
    "raised": RAISED,
    "fees": FEES,
    "medians": MEDIANS,
    "monthly": MONTHLY,
    "campaigns": CAMPAIGNS,
    "articles": ARTICLES,
    "top_article": [(A, "EUR", 1000, 1), (A, "JPY", 500, 1), (B, "USD", 7000, 2)],
}


def figures(period: Period) -> dict[str, Any]:
    """Every gift figure of the overview, as plain values."""
    return {
        "raised": [raised(t) for t in gift_totals.money_raised(period)],
        "fees": [
            (f.currency, f.known, f.fees.amount, f.net.amount)
            for f in gift_totals.fees_and_net(period)
        ],
        "medians": {c: m.amount for c, m in gift_totals.median_gifts(period).items()},
        "monthly": [
            (m.month, m.currency, m.gross.amount) for m in gift_totals.monthly_gross(period)
        ],
        "campaigns": sources(top_sources.top_campaigns(period)),
        "articles": sources(top_sources.top_articles(period)),
        "top_article": sources(top_sources.top_articles(period, limit=1)),
    }


def on_the_page(period: Period) -> dict[str, Any]:
    """The same figures as the overview page computes them (from one gift_groups call)."""
    page = overview.figures(period, BUILT_AT)
    return {
        "raised": [raised(t) for t in page["raised"]],
        "fees": [(f.currency, f.known, f.fees.amount, f.net.amount) for f in page["fees"]],
        "medians": {c: m.amount for c, m in page["medians"].items()},
        "campaigns": sources(page["campaigns"]),
        "articles": sources(page["articles"]),
    }


def raised(t: gift_totals.CurrencyTotals) -> tuple[Any, ...]:
    return (t.currency, t.count, t.gross.amount, t.refunds.amount, t.one_off_count,
            t.one_off_gross.amount, t.recurring_count, t.recurring_gross.amount,
            t.average.amount)  # fmt: skip


def sources(rows: list[top_sources.Source]) -> list[tuple[str, str, int, int]]:
    return [(s.label, s.currency, s.gross.amount, s.count) for s in rows]


def groups(period: Period) -> list[tuple[Any, ...]]:
    return sorted(dataclasses.astuple(g) for g in gift_totals.gift_groups(period))


def raw_figures(period: Period, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same figures with every rollup ignored: the whole period read from `donation`."""
    calls = []

    def raw_only(start: datetime, end: datetime) -> Coverage:
        calls.append(start)
        return Coverage([], [(start, end)])

    with monkeypatch.context() as patch:
        patch.setattr(rollups, "coverage", raw_only)
        found = figures(period) | {"groups": groups(period)}
    assert len(calls) == 8  # every figure went through coverage(), so all of them read raw
    return found


def freshness() -> dict[date, bool]:
    db.session.expire_all()
    return {row.month: row.fresh for row in db.session.scalars(sa.select(RollupMonth))}


def all_fresh_except(*stale: date) -> dict[date, bool]:
    return {month: month not in stale for month in (DEC, JAN, FEB, MAR, APR, MAY)}


def get(gifts: dict[str, int], name: str) -> Donation:
    """A gift loaded afresh, as a webhook handler loads it before changing it."""
    return db.session.get_one(Donation, gifts[name])


def replace(rows: list[tuple[Any, ...]], old: tuple[Any, ...], new: tuple[Any, ...]) -> list:
    return [new if row == old else row for row in rows]
