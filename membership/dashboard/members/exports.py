"""What the CSV exports hold: the filtered rows, their columns, audit-logged before they stream.

On PostgreSQL the server formats the cells and COPY streams them (export_copy.py); elsewhere
a server-side cursor feeds csv.writer (export_csv.py). Both write the same bytes. The rows are
read only when the response body is: the functions here return the file still unread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from membership.dashboard.audit.services import record
from membership.dashboard.members import export_copy, search
from membership.dashboard.members.export_copy import (
    copy_csv,
    flag_cell,
    major_cell,
    number_cell,
    text_cell,
    timestamp_cell,
)
from membership.dashboard.members.export_csv import fetched_csv, major
from membership.dashboard.metrics import periods
from membership.extensions import db
from membership.models import Campaign, Donation, DonationKind, DonationStatus, Member

# Each column with its cell in SQL, for COPY; the Python path gives the value to cell().
MEMBER_COLUMNS: dict[str, tuple[Any, Callable[[Any], sa.ColumnElement[str]]]] = {
    "public_id": (Member.public_id, text_cell),
    "email": (Member.email, text_cell),
    "display_name": (Member.display_name, text_cell),
    "status": (Member.status, text_cell),
    "tier": (Member.tier, text_cell),
    "locale": (Member.locale, text_cell),
    "newsletter_consent": (Member.newsletter_consent, flag_cell),
    "created_at": (Member.created_at, timestamp_cell),
    "active_until": (Member.active_until, timestamp_cell),
    "erased_at": (Member.erased_at, timestamp_cell),
}
DONATION_HEADER = (
    "donation_id", "member", "paid_at", "kind", "status", "amount", "currency",
    "amount_refunded", "fee_covered", "fee", "net", "settlement_currency", "campaign",
    "article_url", "utm_source", "utm_medium", "utm_campaign",
)  # fmt: skip
DONATION_COLUMNS = (
    Donation.id, Donation.paid_at, Donation.kind, Donation.status, Donation.amount,
    Donation.currency, Donation.amount_refunded, Donation.fee_covered, Donation.fee, Donation.net,
    Donation.settlement_currency, Donation.article_url, Donation.utm_source,
    Donation.utm_medium, Donation.utm_campaign,
)  # fmt: skip


def copy_supported() -> bool:
    """COPY where the database can do it; the portable Python path everywhere else."""
    return export_copy.supported(db.session.get_bind().dialect)


def members_csv(filters: search.MemberFilters) -> Iterator[str] | Iterator[bytes]:
    """Members matching the list's filters, with contact details; the export is audit-logged
    (committed) before a row is read. FilterError for a filter staff cannot have chosen."""
    stmt = search.filtered(filters).order_by(Member.id)
    record("export.members", "member", None, {"filters": filters.args()})
    db.session.commit()
    header = list(MEMBER_COLUMNS)
    if copy_supported():
        cells = [to_cell(column) for column, to_cell in MEMBER_COLUMNS.values()]
        return copy_csv(header, stmt.with_only_columns(*cells))
    columns = stmt.with_only_columns(*(column for column, _ in MEMBER_COLUMNS.values()))
    return fetched_csv(header, columns, list)


def donations_csv(args: Mapping[str, str]) -> Iterator[str] | Iterator[bytes]:
    """Donations in ?from=&to= (blank: all time), by currency/campaign/status/kind, audit-logged
    (committed) before a row is read. PeriodError or FilterError for a bad filter."""
    stmt, applied = donations_query(args)
    record("export.donations", "donation", None, {"filters": applied})
    db.session.commit()
    if copy_supported():
        return copy_csv(DONATION_HEADER, stmt.with_only_columns(*donation_cells()))
    return fetched_csv(DONATION_HEADER, stmt, donation_row)


def donations_query(args: Mapping[str, str]) -> tuple[sa.Select[*tuple[Any, ...]], dict[str, str]]:
    """The filtered donations joined to their member and campaign, oldest first."""
    stmt = (
        sa.select(*DONATION_COLUMNS, Member.public_id, Campaign.slug)
        .join(Member, Member.id == Donation.member_id)
        .outerjoin(Campaign, Campaign.id == Donation.campaign_id)
        .order_by(Donation.paid_at, Donation.id)
    )
    names = ("from", "to", "currency", "campaign", "status", "kind")
    applied = {k: args.get(k, "").strip()[:200] for k in names if args.get(k, "").strip()}
    first = periods.parse_day(applied.get("from"), "from")
    last = periods.parse_day(applied.get("to"), "to")
    if first:
        stmt = stmt.where(Donation.paid_at >= periods.Period(first, first).start)
    if last:
        stmt = stmt.where(Donation.paid_at < periods.Period(last, last).end)
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
        raise search.FilterError("Unknown status or kind.") from None
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
        major(gift["fee_covered"], gift["currency"]),
        major(gift["fee"], settled), major(gift["net"], settled), settled if known else "",
        gift["slug"], gift["article_url"], gift["utm_source"], gift["utm_medium"],
        gift["utm_campaign"],
    ]  # fmt: skip


def donation_cells() -> Sequence[sa.ColumnElement[str]]:
    """donation_row() in SQL, for COPY: the same cells in the same order."""
    settled = sa.func.coalesce(sa.func.nullif(Donation.settlement_currency, ""), Donation.currency)
    return [
        number_cell(Donation.id), text_cell(Member.public_id), timestamp_cell(Donation.paid_at),
        text_cell(Donation.kind), text_cell(Donation.status),
        major_cell(Donation.amount, Donation.currency), text_cell(Donation.currency),
        major_cell(Donation.amount_refunded, Donation.currency),
        major_cell(Donation.fee_covered, Donation.currency),
        major_cell(Donation.fee, settled), major_cell(Donation.net, settled),
        text_cell(sa.case((Donation.fee.is_not(None), settled))),
        text_cell(Campaign.slug), text_cell(Donation.article_url), text_cell(Donation.utm_source),
        text_cell(Donation.utm_medium), text_cell(Donation.utm_campaign),
    ]  # fmt: skip
