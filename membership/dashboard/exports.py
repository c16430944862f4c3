"""CSV exports for admins: streamed from a server-side cursor, audit-logged, spreadsheet-safe."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Response, render_template, request, stream_with_context

from membership.dashboard import bp, member_search, metrics
from membership.dashboard.access import admin_required
from membership.dashboard.audit import record
from membership.extensions import db
from membership.models import Campaign, Donation, DonationKind, DonationStatus, Member
from membership.money import exponent

BATCH = 2000  # rows fetched per round trip; memory stays flat whatever the table size
LINES_PER_CHUNK = 200
# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

DONATION_COLUMNS = (
    Donation.id, Donation.paid_at, Donation.kind, Donation.status, Donation.amount,
    Donation.currency, Donation.amount_refunded, Donation.fee, Donation.net,
    Donation.settlement_currency, Donation.article_url, Donation.utm_source,
    Donation.utm_medium, Donation.utm_campaign,
)  # fmt: skip
MEMBER_COLUMNS = {
    "public_id": Member.public_id,
    "email": Member.email,
    "display_name": Member.display_name,
    "status": Member.status,
    "tier": Member.tier,
    "locale": Member.locale,
    "newsletter_consent": Member.newsletter_consent,
    "created_at": Member.created_at,
    "active_until": Member.active_until,
    "erased_at": Member.erased_at,
}


def cell(value: Any) -> str:
    """One CSV cell as text, neutralised so no spreadsheet treats it as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(getattr(value, "value", value))  # enums by their stored value
    return "'" + text if text.startswith(FORMULA_START) else text


def major(amount: int | None, currency: str | None) -> str:
    """Minor units as an exact decimal string in major units ("25.00", "500" for JPY)."""
    if amount is None or not currency:
        return ""
    return str(Decimal(amount).scaleb(-exponent(currency)))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header, then one encoded line per row, produced as the cursor yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, values in enumerate(itertools.chain([header], rows), start=1):
        writer.writerow([cell(v) for v in values])
        if count % LINES_PER_CHUNK == 0:  # fewer, larger writes to the socket
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def streamed(name: str, lines: Iterator[str]) -> Response:
    filename = f"{name}-{datetime.now(UTC).date().isoformat()}.csv"
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    return response


def bad_filter(message: str) -> tuple[str, int]:
    return render_template("dashboard/export_error.html", error=message), 400


@bp.get("/exports/members.csv")
@admin_required
def export_members() -> Response | tuple[str, int]:
    """Members matching the list's filters, with contact details, as CSV."""
    try:
        filters = member_search.MemberFilters.from_args(request.args)
        stmt = member_search.filtered(filters)
    except member_search.FilterError as exc:
        return bad_filter(str(exc))
    columns = stmt.with_only_columns(*MEMBER_COLUMNS.values()).order_by(Member.id)
    record("export.members", "member", None, {"filters": filters.args()})
    db.session.commit()
    rows = db.session.execute(columns.execution_options(yield_per=BATCH))
    return streamed("members", csv_lines(list(MEMBER_COLUMNS), rows))


@bp.get("/exports/donations.csv")
@admin_required
def export_donations() -> Response | tuple[str, int]:
    """Donations in ?from=&to= (blank: all time), by currency/campaign/status/kind, as CSV."""
    try:
        stmt, applied = donations_query(request.args)
    except (metrics.PeriodError, member_search.FilterError) as exc:
        return bad_filter(str(exc))
    record("export.donations", "donation", None, {"filters": applied})
    db.session.commit()
    rows = db.session.execute(stmt.execution_options(yield_per=BATCH))
    header = [
        "donation_id", "member", "paid_at", "kind", "status", "amount", "currency",
        "amount_refunded", "fee", "net", "settlement_currency", "campaign", "article_url",
        "utm_source", "utm_medium", "utm_campaign",
    ]  # fmt: skip
    return streamed("donations", csv_lines(header, (donation_row(r) for r in rows)))


def donations_query(args: Any) -> tuple[sa.Select[*tuple[Any, ...]], dict[str, str]]:
    """The filtered donations joined to their member and campaign, oldest first."""
    stmt = (
        sa.select(*DONATION_COLUMNS, Member.public_id, Campaign.slug)
        .join(Member, Member.id == Donation.member_id)
        .outerjoin(Campaign, Campaign.id == Donation.campaign_id)
        .order_by(Donation.paid_at, Donation.id)
    )
    names = ("from", "to", "currency", "campaign", "status", "kind")
    applied = {k: args.get(k, "").strip()[:200] for k in names if args.get(k, "").strip()}
    first = metrics.parse_day(applied.get("from"), "from")
    last = metrics.parse_day(applied.get("to"), "to")
    if first:
        stmt = stmt.where(Donation.paid_at >= metrics.Period(first, first).start)
    if last:
        stmt = stmt.where(Donation.paid_at < metrics.Period(last, last).end)
    if "currency" in applied:
        stmt = stmt.where(Donation.currency == applied["currency"].upper()[:3])
    if "campaign" in applied:
        stmt = stmt.where(Campaign.slug == applied["campaign"])
    try:
        if "status" in applied:
            stmt = stmt.where(Donation.status == DonationStatus(applied["status"]))
        if "kind" in applied:
            stmt = stmt.where(Donation.kind == DonationKind(applied["kind"]))
    except ValueError:
        raise member_search.FilterError("Unknown status or kind.") from None
    return stmt, applied


def donation_row(row: Any) -> list[Any]:
    """Plain columns, not ORM objects: a million rows stream without filling the session."""
    gift = row._mapping
    settled = gift["settlement_currency"] or gift["currency"]
    known = gift["fee"] is not None
    return [
        gift["id"], gift["public_id"], gift["paid_at"], gift["kind"], gift["status"],
        major(gift["amount"], gift["currency"]), gift["currency"],
        major(gift["amount_refunded"], gift["currency"]),
        major(gift["fee"], settled), major(gift["net"], settled), settled if known else "",
        gift["slug"], gift["article_url"], gift["utm_source"], gift["utm_medium"],
        gift["utm_campaign"],
    ]  # fmt: skip
