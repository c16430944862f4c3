"""The overview page: the period's money, members, funnel and sources, with server-side charts."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template, request

from membership.dashboard import bp
from membership.dashboard.metrics import periods, services
from membership.dashboard.staff.access import staff_required


@bp.get("/")
@staff_required
def overview() -> tuple[str, int] | str:
    """Figures for ?from=&to= (default: the last 12 months)."""
    now = datetime.now(UTC)
    try:
        period = periods.parse_period(request.args.get("from"), request.args.get("to"), now.date())
    except periods.PeriodError as exc:
        default = periods.default_period(now.date())
        return render_template(
            "dashboard/metrics/overview.html", error=str(exc), period=default
        ), 400
    figures = services.figures(period, now)
    return render_template("dashboard/metrics/overview.html", period=period, **figures)
