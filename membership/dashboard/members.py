"""Staff views of members: a filtered, sorted, keyset-paged list and one member's detail page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import abort, current_app, render_template, request, url_for

from membership.dashboard import bp, member_detail, member_search
from membership.dashboard.access import can_see_pii, mask_email, staff_required
from membership.dashboard.audit import record
from membership.extensions import db
from membership.models import Campaign, Member, MemberStatus, RecurringDonation
from membership.money import Money

STATUSES = [s.value for s in MemberStatus]
# Built once: a statement object keeps its SQLAlchemy cache key, so running it again is cheaper.
CAMPAIGN_CHOICES = sa.select(Campaign.slug, Campaign.name).order_by(Campaign.name)


@bp.get("/members")
@staff_required
def members() -> tuple[str, int] | str:
    """Search and filter members; ?after= carries the keyset cursor to the next page."""
    options = filter_options()
    try:
        filters = member_search.MemberFilters.from_args(request.args)
        currency = filters.currency or current_app.config["DEFAULT_CURRENCY"]
        found = member_search.page(filters, currency, request.args.get("after"))
    except member_search.FilterError as exc:
        filters = member_search.MemberFilters()
        return render_template(
            "dashboard/members.html", error=str(exc), filters=filters, **options
        ), 400
    return render_template(
        "dashboard/members.html",
        filters=filters,
        page=found,
        rows=listed(found.members, can_see_pii()),
        total_currency=currency,
        **options,
    )


def filter_options() -> dict[str, object]:
    """Choices for the filter form (a few rows: campaigns, configured tiers)."""
    return {
        "statuses": STATUSES,
        "frequencies": member_search.FREQUENCIES,
        "sorts": member_search.SORTS,
        "tiers": [name for name, _ in current_app.config.get("MEMBER_TIERS", [])],
        "currencies": current_app.config["CURRENCIES"],
        "campaigns": db.session.execute(CAMPAIGN_CHOICES).all(),
    }


@dataclass(frozen=True, slots=True)
class ListedMember:
    """One row of the list as staff see it: masked for viewers, money and dates as text."""

    url: str
    email: str
    name: str
    status: str
    tier: str
    joined: str
    given: str  # kept amount per currency, "$10.00, ¥5,000"
    last_gift: str


def listed(members: Sequence[Any], show_pii: bool) -> list[ListedMember]:
    """The page's rows, ready to print; what each gave comes from one grouped query."""
    giving = member_search.giving([m.id for m in members])
    # One url_for per page instead of one per row: the links differ only in the public id
    # (uuid4 hex) at their end.
    link = url_for("dashboard.member", public_id="-").removesuffix("-")
    rows = []
    for m in members:
        gifts = giving.get(m.id, [])
        if show_pii:
            email, name = m.email, m.display_name or ""
        else:
            email, name = mask_email(m.email), member_detail.mask_name(m.display_name)
        rows.append(
            ListedMember(
                url=link + quote(m.public_id, safe=""),
                email=email or "(erased)",
                name=name,
                status=m.status.value,
                tier=m.tier or "",
                joined=m.created_at.date().isoformat(),
                given=", ".join(Money(g.kept, g.currency).format("en") for g in gifts),
                last_gift=max(g.last_gift for g in gifts).date().isoformat() if gifts else "",
            )
        )
    return rows


@bp.get("/members/<public_id>")
@staff_required
def member(public_id: str) -> str:
    """One member; admins see their email and name, and that look is audit-logged."""
    found = db.session.scalar(sa.select(Member).where(Member.public_id == public_id))
    if found is None:
        abort(404)
    show_pii = can_see_pii()
    if show_pii:
        record("member.view_pii", "member", public_id)
        db.session.commit()
    recurring = db.session.scalars(
        sa.select(RecurringDonation)
        .where(RecurringDonation.member_id == found.id)
        .order_by(RecurringDonation.id)
    ).all()
    return render_template(
        "dashboard/member.html",
        member=found,
        show_pii=show_pii,
        recurring=recurring,
        giving=member_search.giving([found.id]).get(found.id, []),
        events=member_detail.timeline(found),
        mask_email=mask_email,
        mask_name=member_detail.mask_name,
        money_of=lambda amount, currency: Money(amount, currency).format("en"),
    )
