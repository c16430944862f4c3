"""Staff views of members: a filtered, sorted, keyset-paged list and one member's detail page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, render_template, request

from membership.dashboard import bp, member_detail, member_search
from membership.dashboard.access import can_see_pii, mask_email, staff_required
from membership.dashboard.audit import record
from membership.extensions import db
from membership.models import Campaign, Member, MemberStatus, RecurringDonation
from membership.money import Money


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
        giving=member_search.giving([m.id for m in found.members]),
        total_currency=currency,
        show_pii=can_see_pii(),
        **options,
    )


def filter_options() -> dict[str, object]:
    """Choices for the filter form (a few rows: campaigns, configured tiers)."""
    campaigns = db.session.execute(
        sa.select(Campaign.slug, Campaign.name).order_by(Campaign.name)
    ).all()
    return {
        "statuses": [s.value for s in MemberStatus],
        "frequencies": member_search.FREQUENCIES,
        "sorts": member_search.SORTS,
        "tiers": [name for name, _ in current_app.config.get("MEMBER_TIERS", [])],
        "currencies": current_app.config["CURRENCIES"],
        "campaigns": campaigns,
        "mask_email": mask_email,
        "mask_name": member_detail.mask_name,
        "money_of": lambda amount, currency: Money(amount, currency).format("en"),
    }


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
