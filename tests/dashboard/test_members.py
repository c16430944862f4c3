"""The members list (search, filters, sorts, keyset pages, masking) and the member page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import sqlalchemy as sa

from membership.dashboard.members import search as member_search
from membership.dashboard.members.search import MemberFilters
from membership.extensions import db
from membership.models import (
    AuditEntry,
    DonationKind,
    DonationStatus,
    Interval,
    MemberStatus,
    OutboxEmail,
    OutboxStatus,
    SubscriptionStatus,
)
from tests.dashboard.conftest import login
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


# The member's timeline: renewals gathered into runs, everything else a line of its own.

MONTHLY = 2606  # $26.06
# RUF001 below: Babel writes a range of months with an en dash, and a Russian year with a
# Cyrillic letter; the tests expect what the page shows, not look-alikes typed by mistake.


def month(year: int, number: int, day: int = 3) -> datetime:
    return datetime(year, number, day, 9, 30, tzinfo=UTC)


def timeline(html: str) -> list[str]:
    """The timeline's lines as text, newest first (tags dropped, spaces squeezed)."""
    body = html.split('<ol class="timeline"')[1].split("</ol>")[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", body, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


@pytest.fixture
def renewing(app):
    """Five monthly payments from Sep 2024, the fifth refunded, then three more."""
    member = make_member(email="renewing@example.org", created_at=month(2024, 9, 1))
    plan = make_recurring(member, amount=MONTHLY, started_at=month(2024, 9),
                          stripe_subscription_id="sub_renewing1")  # fmt: skip
    paid = [month(2024, 9), month(2024, 10), month(2024, 11), month(2024, 12), month(2025, 1)]
    gifts = [make_donation(member, amount=MONTHLY, recurring_donation=plan, paid_at=when,
                           kind=DonationKind.RECURRING) for when in paid]  # fmt: skip
    gifts[-1].amount_refunded, gifts[-1].refunded_at = MONTHLY, month(2025, 1, 20)
    gifts[-1].status = DonationStatus.REFUNDED
    saved(gifts[-1])
    for when in (month(2025, 2), month(2025, 3), month(2025, 4)):
        make_donation(member, amount=MONTHLY, recurring_donation=plan, paid_at=when,
                      kind=DonationKind.RECURRING)  # fmt: skip
    return member


def test_renewals_are_one_line_a_run_and_a_refund_ends_the_run(viewer_client, renewing):
    html = viewer_client.get(f"/staff/members/{renewing.public_id}").text
    assert timeline(html) == [
        "3 monthly payments of $26.06, Feb – Apr 2025",  # noqa: RUF001
        "Jan 20, 2025 Refunded $26.06",
        "5 monthly payments of $26.06, Sep 2024 – Jan 2025",  # noqa: RUF001
        "Sep 3, 2024 Started $26.06 a month",
    ]


def test_one_payment_is_singular_and_annual_gifts_say_annual(viewer_client):
    member = make_member()
    monthly = make_recurring(member, amount=MONTHLY, started_at=month(2026, 11))
    make_donation(member, amount=MONTHLY, recurring_donation=monthly, paid_at=month(2026, 11))
    yearly = make_recurring(member, amount=6000, currency="EUR", interval=Interval.YEAR,
                            started_at=month(2024, 5))  # fmt: skip
    for year in (2024, 2025):
        make_donation(member, amount=6000, currency="EUR", recurring_donation=yearly,
                      paid_at=month(year, 5))  # fmt: skip
    make_donation(member, amount=1000, paid_at=month(2025, 7))  # one-offs stay one line each
    make_donation(member, amount=1000, paid_at=month(2025, 8))
    lines = timeline(viewer_client.get(f"/staff/members/{member.public_id}").text)
    assert lines == [
        "1 monthly payment of $26.06, Nov 2026",
        "Nov 3, 2026 Started $26.06 a month",
        "Aug 3, 2025 $10.00 one-off gift, succeeded",
        "Jul 3, 2025 $10.00 one-off gift, succeeded",
        "2 annual payments of €60.00, May 2024 – May 2025",  # noqa: RUF001
        "May 3, 2024 Started €60.00 a year",
    ]


def test_a_failed_payment_a_change_of_amount_and_an_email_end_a_run(viewer_client):
    member = make_member()
    plan = make_recurring(member, amount=1500, started_at=month(2025, 1))
    for number, amount in [(1, 1000), (2, 1000), (3, 1000), (4, 1500), (5, 1500), (6, 1500)]:
        make_donation(member, amount=amount, recurring_donation=plan, paid_at=month(2025, number))
    make_donation(member, amount=1500, recurring_donation=plan, paid_at=month(2025, 7),
                  status=DonationStatus.FAILED)  # fmt: skip
    make_donation(member, amount=1500, recurring_donation=plan, paid_at=month(2025, 8))
    saved(OutboxEmail(member_id=member.id, to_address=member.email, template="payment_failed",
                      status=OutboxStatus.SENT, sent_at=month(2025, 8, 10)))  # fmt: skip
    make_donation(member, amount=1500, recurring_donation=plan, paid_at=month(2025, 9))
    lines = timeline(viewer_client.get(f"/staff/members/{member.public_id}").text)
    assert lines == [
        "1 monthly payment of $15.00, Sep 2025",
        "Aug 10, 2025 Email 'payment_failed', sent",
        "1 monthly payment of $15.00, Aug 2025",
        "Jul 3, 2025 $15.00 monthly payment, failed",
        "3 monthly payments of $15.00, Apr – Jun 2025",  # noqa: RUF001
        "Apr 3, 2025 Monthly gift changed from $10.00 to $15.00",
        "3 monthly payments of $10.00, Jan – Mar 2025",  # noqa: RUF001
        "Jan 3, 2025 Started $15.00 a month",
    ]


def test_a_sent_receipt_is_part_of_its_payments_line(viewer_client, renewing):
    """Renewal receipts go out with every payment: were they lines, no run would ever form."""
    for gift in renewing.donations:
        saved(OutboxEmail(member_id=renewing.id, to_address=renewing.email,
                          template="renewal_receipt", context={"donation_id": gift.id},
                          status=OutboxStatus.SENT, sent_at=gift.paid_at))  # fmt: skip
    lines = timeline(viewer_client.get(f"/staff/members/{renewing.public_id}").text)
    assert lines[0] == "3 monthly payments of $26.06, Feb – Apr 2025 · 3 receipts emailed"  # noqa: RUF001
    assert lines[2] == "5 monthly payments of $26.06, Sep 2024 – Jan 2025 · 5 receipts emailed"  # noqa: RUF001
    assert len(lines) == 4


def test_the_russian_timeline_has_russian_plurals(viewer_client, renewing):
    html = viewer_client.get(f"/staff/members/{renewing.public_id}?lang=ru").text
    assert '<ol class="timeline" lang="ru">' in html
    assert timeline(html) == [
        "3 ежемесячных платежа по 26,06 $, февр. – апр. 2025 г.",  # noqa: RUF001
        "20 янв. 2025 г. Возвращено 26,06 $",  # noqa: RUF001
        "5 ежемесячных платежей по 26,06 $, сент. 2024 г. – янв. 2025 г.",  # noqa: RUF001
        "3 сент. 2024 г. Начато: 26,06 $ в месяц",  # noqa: RUF001
    ]
    member = make_member()
    plan = make_recurring(member, amount=MONTHLY)
    make_donation(member, amount=MONTHLY, recurring_donation=plan, paid_at=month(2026, 10))
    html = viewer_client.get(f"/staff/members/{member.public_id}?lang=ru").text
    assert "1 ежемесячный платёж по 26,06 $, окт. 2026 г." in timeline(html)  # noqa: RUF001


STRIPE_LINKS = [
    "/customers/cus_renewing1",
    "/subscriptions/sub_renewing1",
    "/payments/pi_renewing1",
]


@pytest.mark.parametrize(
    ("key", "base"),
    [
        ("sk_test_51abc", "https://dashboard.stripe.com/test"),
        ("rk_test_51abc", "https://dashboard.stripe.com/test"),
        ("sk_live_51abc", "https://dashboard.stripe.com"),
    ],
)
def test_admins_get_links_to_stripe_viewers_do_not(make_app, admin, viewer, renewing, key, base):
    renewing.stripe_customer_id = "cus_renewing1"
    saved(renewing)
    make_donation(
        renewing, amount=500, paid_at=month(2025, 5), stripe_payment_intent_id="pi_renewing1"
    )
    keyed = make_app(STRIPE_SECRET_KEY=key, STRIPE_WEBHOOK_SECRET="whsec_test")
    as_admin, as_viewer = keyed.test_client(), keyed.test_client()
    login(as_admin, admin.email)
    login(as_viewer, viewer.email)
    html = as_admin.get(f"/staff/members/{renewing.public_id}").text
    for path in STRIPE_LINKS:
        assert f'href="{base}{path}"' in html
    if not base.endswith("/test"):
        assert "dashboard.stripe.com/test" not in html
    assert "dashboard.stripe.com" not in as_viewer.get(f"/staff/members/{renewing.public_id}").text


def test_no_stripe_links_in_demo_mode(admin_client, renewing):
    """Without a Stripe key the ids are the offline stand-in's: Stripe has no page for them."""
    assert (
        "dashboard.stripe.com" not in admin_client.get(f"/staff/members/{renewing.public_id}").text
    )
