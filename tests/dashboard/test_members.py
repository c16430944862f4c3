"""The members list (search, filters, sorts, keyset pages, masking) and the member page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from membership.dashboard.members import search as member_search
from membership.dashboard.members.search import MemberFilters
from membership.extensions import db
from membership.models import (
    AuditEntry,
    DonationStatus,
    Interval,
    MemberStatus,
    OutboxEmail,
    SubscriptionStatus,
)
from tests.factories import make_campaign, make_donation, make_member, make_recurring, saved

pytestmark = pytest.mark.usefixtures("app_context")

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def at(day: int) -> datetime:
    return T0.replace(day=day)


@pytest.fixture
def people(app):
    """alice (monthly USD, spring), bea (one-off JPY), cleo (annual EUR, lapsed), dan (none)."""
    spring = make_campaign(slug="spring", name="Spring")
    alice = make_member(email="alice@example.org", display_name="Alice Adams",
                        created_at=at(1), status=MemberStatus.ACTIVE, tier="sustainer")  # fmt: skip
    bea = make_member(email="bea@mail.example", display_name="Beatrice Brown",
                      created_at=at(2), status=MemberStatus.ACTIVE, tier="supporter")  # fmt: skip
    cleo = make_member(email="cleo@example.org", created_at=at(3), status=MemberStatus.LAPSED)
    dan = make_member(email="dan%x@example.org", created_at=at(4))
    plan = make_recurring(alice, amount=1000)
    make_donation(alice, amount=1000, recurring_donation=plan, paid_at=at(5), campaign=spring)
    make_donation(alice, amount=1000, recurring_donation=plan, paid_at=at(20))
    make_donation(bea, amount=5000, currency="JPY", paid_at=at(25))
    make_donation(bea, amount=9000, currency="JPY", status=DonationStatus.FAILED, paid_at=at(28))
    make_recurring(cleo, amount=6000, currency="EUR", interval=Interval.YEAR,
                   status=SubscriptionStatus.CANCELED, canceled_at=at(10))  # fmt: skip
    make_donation(cleo, amount=6000, currency="EUR", paid_at=at(6))
    return {"alice": alice, "bea": bea, "cleo": cleo, "dan": dan}


def emails(filters: MemberFilters, currency: str = "USD") -> list[str]:
    return [m.email for m in member_search.page(filters, currency, None).members]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("ALICE@", ["alice@example.org"]),  # email prefix, case-insensitive
        ("bea", ["bea@mail.example"]),
        ("brown", ["bea@mail.example"]),  # display name, anywhere in it
        ("example.org", []),  # emails match by prefix only
        ("%", []),  # a LIKE wildcard is a literal character, not "anything"
        ("dan%", ["dan%x@example.org"]),
        ("_", []),
    ],
)
def test_search(people, q, found):
    assert emails(MemberFilters(q=q)) == found


@pytest.mark.parametrize(
    ("filters", "found"),
    [
        (MemberFilters(status="lapsed"), ["cleo@example.org"]),
        (MemberFilters(frequency="month"), ["alice@example.org"]),
        (MemberFilters(frequency="year"), []),  # cleo's annual gift was cancelled
        (MemberFilters(frequency="one_off"), ["cleo@example.org", "bea@mail.example"]),
        (MemberFilters(tier="supporter"), ["bea@mail.example"]),
        (MemberFilters(currency="JPY"), ["bea@mail.example"]),
        (MemberFilters(campaign="spring"), ["alice@example.org"]),
        (MemberFilters(currency="EUR", status="lapsed"), ["cleo@example.org"]),
    ],
)
def test_filters(people, filters, found):
    assert emails(filters) == found


def test_sorts(people):
    assert emails(MemberFilters(sort="created")) == [
        "dan%x@example.org", "cleo@example.org", "bea@mail.example", "alice@example.org",
    ]  # fmt: skip
    # bea's failed gift on the 28th does not count; dan never gave, so he comes last.
    assert emails(MemberFilters(sort="last_gift")) == [
        "bea@mail.example", "alice@example.org", "cleo@example.org", "dan%x@example.org",
    ]  # fmt: skip
    assert emails(MemberFilters(sort="total"), "JPY")[0] == "bea@mail.example"
    assert emails(MemberFilters(sort="total"), "USD")[0] == "alice@example.org"


@pytest.mark.parametrize("sort", ["created", "last_gift", "total"])
def test_keyset_pages_are_complete_and_stable_with_ties(app, sort):
    for _ in range(7):  # identical sort values: only the id breaks the tie
        member = make_member(created_at=T0)
        make_donation(member, amount=1000, paid_at=T0)
    everyone = [
        m.id for m in member_search.page(MemberFilters(sort=sort), "USD", None, 100).members
    ]
    seen, cursor = [], None
    while True:
        page = member_search.page(MemberFilters(sort=sort), "USD", cursor, size=3)
        seen += [m.id for m in page.members]
        make_member(created_at=datetime(2020, 1, 1, tzinfo=UTC))  # a join mid-way sorts after
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen[:7] == everyone and len(set(seen)) == len(seen)


def test_list_over_http_with_next_page_link(viewer_client, app):
    for n in range(51):
        make_member(email=f"p{n:02d}@example.org", created_at=T0.replace(minute=n))
    html = viewer_client.get("/staff/members?q=p").get_data(as_text=True)
    assert html.count('href="/staff/members/') == 50
    link = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = viewer_client.get(link).get_data(as_text=True)
    assert second.count('href="/staff/members/') == 1 and "p***@e***.org" in second


@pytest.mark.parametrize(
    ("query", "message"),
    [("status=gold", "Unknown status."), ("sort=email", "Sort by"), ("after=junk", "broken")],
)
def test_bad_filters_answer_400_with_a_message(viewer_client, query, message):
    response = viewer_client.get(f"/staff/members?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_viewers_see_masked_emails_and_no_export_link(viewer_client, people):
    html = viewer_client.get("/staff/members").get_data(as_text=True)
    assert "alice@example.org" not in html and "a***@e***.org" in html
    assert "Alice Adams" not in html and "exports/members.csv" not in html


def test_admins_see_emails_in_the_list(admin_client, people):
    html = admin_client.get("/staff/members").get_data(as_text=True)
    assert "alice@example.org" in html and "Alice Adams" in html


def pii_views() -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).where(AuditEntry.action == "member.view_pii")
    return list(db.session.scalars(stmt))


def test_member_page_for_a_viewer_is_masked_and_not_audited(viewer_client, people):
    html = viewer_client.get(f"/staff/members/{people['alice'].public_id}").get_data(as_text=True)
    assert "a***@e***.org" in html and "alice@example.org" not in html
    assert pii_views() == []


def test_member_page_for_an_admin_shows_pii_and_is_audited(admin_client, admin, people):
    cleo = people["cleo"]
    make_donation(cleo, amount=2000, currency="EUR", paid_at=at(7), amount_refunded=500,
                  refunded_at=at(8))  # fmt: skip
    saved(OutboxEmail(member_id=cleo.id, to_address=cleo.email, template="receipt"))
    html = admin_client.get(f"/staff/members/{cleo.public_id}").get_data(as_text=True)
    assert "cleo@example.org" in html
    for text in ("Refunded €5.00", "Cancelled €60.00 a year", "Email &#39;receipt&#39;", "€20.00"):
        assert text in html
    [entry] = pii_views()
    assert (entry.target_type, entry.target_id, entry.staff_user_id) == (
        "member",
        cleo.public_id,
        admin.id,
    )


def test_unknown_member_is_404(viewer_client):
    assert viewer_client.get("/staff/members/nope").status_code == 404
