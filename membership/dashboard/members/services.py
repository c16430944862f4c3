"""Members for staff: the list's rows and filter choices, and one member's page and story."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app, url_for

from membership.dashboard.audit.services import record
from membership.dashboard.members import search
from membership.dashboard.members.timeline import (
    Event,
    Link,
    customer_links,
    stripe_dashboard,
    timeline,
)
from membership.dashboard.staff.access import mask_email
from membership.extensions import db
from membership.models import Campaign, Member, MemberStatus, RecurringDonation
from membership.money import Money

STATUSES = [s.value for s in MemberStatus]


def filter_options() -> dict[str, object]:
    """Choices for the filter form (a few rows: campaigns, configured tiers)."""
    campaigns = sa.select(Campaign.slug, Campaign.name).order_by(Campaign.name)
    return {
        "statuses": STATUSES,
        "frequencies": search.FREQUENCIES,
        "sorts": search.SORTS,
        "tiers": [name for name, _ in current_app.config.get("MEMBER_TIERS", [])],
        "currencies": current_app.config["CURRENCIES"],
        "campaigns": db.session.execute(campaigns).all(),
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


@dataclass(frozen=True)
class ListPage:
    page: search.Page
    rows: list[ListedMember]


def list_page(
    filters: search.MemberFilters, currency: str, cursor: str | None, show_pii: bool
) -> ListPage:
    """One page of the list (FilterError for a filter or cursor staff cannot have chosen)."""
    found = search.page(filters, currency, cursor)
    return ListPage(found, listed(found.members, show_pii))


def listed(members: Sequence[Any], show_pii: bool) -> list[ListedMember]:
    """The page's rows, ready to print; what each gave comes from one grouped query."""
    giving = search.giving([m.id for m in members])
    # One url_for per page instead of one per row: the links differ only in the public id
    # (uuid4 hex) at their end.
    link = url_for("dashboard.member", public_id="-").removesuffix("-")
    rows = []
    for m in members:
        gifts = giving.get(m.id, [])
        if show_pii:
            email, name = m.email, m.display_name or ""
        else:
            email, name = mask_email(m.email), mask_name(m.display_name)
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


def mask_name(name: str | None) -> str:
    return f"{name.strip()[:1]}•••" if name and name.strip() else ""


@dataclass(frozen=True)
class MemberDetail:
    member: Member
    recurring: list[RecurringDonation]
    giving: list[search.Giving]
    events: list[Event]
    customers: list[Link]  # the member's customers at Stripe's dashboard; admins only


def member_detail(
    public_id: str, show_pii: bool, stripe_links: bool = False
) -> MemberDetail | None:
    """One member's page; when it shows their email and name, that look is audit-logged.
    With `stripe_links` (admins), customers, subscriptions and payments link to Stripe."""
    found = db.session.scalar(sa.select(Member).where(Member.public_id == public_id))
    if found is None:
        return None
    if show_pii:
        record("member.view_pii", "member", public_id)
        db.session.commit()
    recurring = db.session.scalars(
        sa.select(RecurringDonation)
        .where(RecurringDonation.member_id == found.id)
        .order_by(RecurringDonation.id)
    ).all()
    stripe = stripe_dashboard(current_app.config) if stripe_links else None
    return MemberDetail(
        found,
        list(recurring),
        search.giving([found.id]).get(found.id, []),
        timeline(found, stripe),
        customer_links(found, stripe),
    )
