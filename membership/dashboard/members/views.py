"""Staff views of members: the filtered, sorted, keyset-paged list, one member's page, and the
CSV exports (admins), streamed with memory flat whatever the table size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_login import current_user

from membership.dashboard import bp
from membership.dashboard.members import exports, search, services
from membership.dashboard.metrics.periods import PeriodError
from membership.dashboard.staff.access import (
    admin_required,
    can_see_pii,
    mask_email,
    staff_required,
)
from membership.money import Money


@bp.get("/members")
@staff_required
def members() -> tuple[str, int] | str:
    """Search and filter members; ?after= carries the keyset cursor to the next page."""
    options = services.filter_options()
    try:
        filters = search.MemberFilters.from_args(request.args)
        currency = filters.currency or current_app.config["DEFAULT_CURRENCY"]
        found = services.list_page(filters, currency, request.args.get("after"), can_see_pii())
    except search.FilterError as exc:
        filters = search.MemberFilters()
        return render_template(
            "dashboard/members/list.html", error=str(exc), filters=filters, **options
        ), 400
    return render_template(
        "dashboard/members/list.html",
        filters=filters,
        page=found.page,
        rows=found.rows,
        total_currency=currency,
        **options,
    )


@bp.get("/members/<public_id>")
@staff_required
def member(public_id: str) -> str:
    """One member; admins see their email and name (that look is audit-logged) and links to
    the member's customer, subscriptions and payments at Stripe."""
    show_pii = can_see_pii()
    found = services.member_detail(public_id, show_pii, stripe_links=current_user.is_admin)
    if found is None:
        abort(404)
    return render_template(
        "dashboard/members/detail.html",
        member=found.member,
        show_pii=show_pii,
        recurring=found.recurring,
        giving=found.giving,
        events=found.events,
        customers=found.customers,
        locale=get_locale(),
        mask_email=mask_email,
        mask_name=services.mask_name,
        money_of=lambda amount, currency: Money(amount, currency).format("en"),
    )


def streamed(name: str, chunks: Iterator[str] | Iterator[bytes]) -> Response:
    filename = f"{name}-{datetime.now(UTC).date().isoformat()}.csv"
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    # Nothing may read the body into a list before it is sent (the request log asks for
    # its length): then it would be the whole file, held in memory, the query run in full.
    response.implicit_sequence_conversion = False
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Kept out of caches like every staff page (auth.private_pages).
    return response


def bad_filter(message: str) -> tuple[str, int]:
    return render_template("dashboard/members/export_error.html", error=message), 400


@bp.get("/exports/members.csv")
@admin_required
def export_members() -> Response | tuple[str, int]:
    """Members matching the list's filters, with contact details, as CSV."""
    try:
        chunks = exports.members_csv(search.MemberFilters.from_args(request.args))
    except search.FilterError as exc:
        return bad_filter(str(exc))
    return streamed("members", chunks)


@bp.get("/exports/donations.csv")
@admin_required
def export_donations() -> Response | tuple[str, int]:
    """Donations in ?from=&to= (blank: all time), by currency/campaign/status/kind, as CSV."""
    try:
        chunks = exports.donations_csv(request.args)
    except (PeriodError, search.FilterError) as exc:
        return bad_filter(str(exc))
    return streamed("donations", chunks)
