"""The overview page: the period's money, members, funnel and sources, with server-side charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request

from membership.dashboard import bp, charts, metrics, metrics_growth
from membership.dashboard.access import staff_required
from membership.money import Money


@bp.get("/")
@staff_required
def overview() -> tuple[str, int] | str:
    """Figures for ?from=&to= (default: the last 12 months)."""
    now = datetime.now(UTC)
    try:
        period = metrics.parse_period(request.args.get("from"), request.args.get("to"), now.date())
    except metrics.PeriodError as exc:
        default = metrics.default_period(now.date())
        return render_template("dashboard/overview.html", error=str(exc), period=default), 400
    return render_template("dashboard/overview.html", period=period, **figures(period, now))


def figures(period: metrics.Period, now: datetime) -> dict[str, Any]:
    """Everything the page shows; each call is one aggregate query."""
    gifts = metrics.gift_groups(period)  # money, fees, medians and the monthly chart share it
    raised = metrics.summarise_money(gifts)
    members = metrics_growth.members_by_month(period, now)
    return {
        "raised": raised,
        "fees": metrics.summarise_fees(gifts),
        "covered": metrics.summarise_covered(gifts),
        "medians": metrics.medians(gifts),
        "recurring": metrics_growth.recurring_revenue(),
        "active_recurring": metrics_growth.active_recurring_members(),
        "members": members,
        "churn": metrics_growth.churn(period),
        "campaigns": metrics_growth.top_campaigns(period),
        "articles": metrics_growth.top_articles(period),
        "funnel": metrics_growth.checkout_funnel(period),
        "at_risk": metrics_growth.failed_payments(),
        "gross_charts": gross_charts(period, gifts, [t.currency for t in raised]),
        "members_chart": charts.grouped_bars(
            "New and cancelled members per month",
            [m.month for m in members],
            [
                charts.Series("New", [m.new for m in members]),
                charts.Series("Cancelled", [m.cancelled for m in members]),
                charts.Series("Lapsed", [m.lapsed for m in members]),
            ],
        ),
    }


def gross_charts(
    period: metrics.Period, gifts: list[metrics.GiftGroup], currencies: list[str]
) -> list[tuple[str, Any]]:
    """One monthly gross chart per currency: amounts in different currencies share no scale."""
    months = period.months()
    by_key = {(row.month, row.currency): row.gross.amount for row in metrics.gross_by_month(gifts)}
    found = []
    for currency in currencies:

        def label(amount: int, currency: str = currency) -> str:
            return Money(amount, currency).format("en")

        series = charts.Series(currency, [by_key.get((m, currency), 0) for m in months])
        found.append(
            (currency, charts.grouped_bars(f"Gross per month, {currency}", months, [series], label))
        )
    return found
