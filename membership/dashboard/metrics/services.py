"""The overview's figures for a period, and its charts drawn on the server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from membership.dashboard.metrics import charts, gift_totals, growth, headline, top_sources
from membership.dashboard.metrics.periods import Period
from membership.money import Money


def figures(period: Period, now: datetime) -> dict[str, Any]:
    """Everything the page shows; each call is one aggregate query. Before the first gift,
    only {"started": False}: the page then says what to do first."""
    if not headline.has_any_gift():
        return {"started": False}
    gifts = gift_totals.gift_groups(period)  # money, fees, medians and the monthly chart share it
    raised = gift_totals.summarise_money(gifts)
    members = growth.members_by_month(period, now)
    recurring = growth.recurring_revenue()
    into, rates = current_app.config["DEFAULT_CURRENCY"], current_app.config["MEMBER_TIER_RATES"]
    current = headline.current_month(period, now.date())
    return {
        "started": True,
        "default_currency": into,
        "mrr_total": headline.converted((r.mrr for r in recurring), into, rates),
        "arr_total": headline.converted((r.arr for r in recurring), into, rates),
        "so_far": headline.month_so_far(now.date(), into, rates),
        "new_members": sum(m.new for m in members),
        "current_month": current,
        "raised": raised,
        "fees": gift_totals.summarise_fees(gifts),
        "covered": gift_totals.summarise_covered(gifts),
        "medians": gift_totals.medians(gifts),
        "recurring": recurring,
        "active_recurring": growth.active_recurring_members(),
        "members": members,
        "churn": growth.churn(period),
        "campaigns": top_sources.top_campaigns(period),
        "articles": top_sources.top_articles(period),
        "funnel": growth.checkout_funnel(period),
        "at_risk": growth.failed_payments(),
        "gross_charts": gross_charts(period, gifts, [t.currency for t in raised], current),
        "members_chart": charts.grouped_bars(
            "New and cancelled members per month",
            [m.month for m in members],
            [
                charts.Series("New", [m.new for m in members]),
                charts.Series("Cancelled", [m.cancelled for m in members]),
                charts.Series("Lapsed", [m.lapsed for m in members]),
            ],
            partial=current,
        ),
    }


def gross_charts(
    period: Period,
    gifts: list[gift_totals.GiftGroup],
    currencies: list[str],
    partial: str | None = None,
) -> list[tuple[str, Any]]:
    """One monthly gross chart per currency: amounts in different currencies share no scale."""
    months = period.months()
    by_key = {
        (row.month, row.currency): row.gross.amount for row in gift_totals.gross_by_month(gifts)
    }
    found = []
    for currency in currencies:

        def label(amount: int, currency: str = currency) -> str:
            return Money(amount, currency).format("en")

        series = charts.Series(currency, [by_key.get((m, currency), 0) for m in months])
        found.append(
            (
                currency,
                charts.grouped_bars(
                    f"Gross per month, {currency}", months, [series], label, partial=partial
                ),
            )
        )
    return found
