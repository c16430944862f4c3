"""Each dashboard figure against a small dataset whose answer is worked out by hand.

Gift figures are checked twice: read straight from `donation`, and with every closed month
read from the monthly rollups (see dashboard/rollups.py); both must give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from membership.dashboard.metrics import gift_totals, growth, headline, rollups, top_sources
from membership.dashboard.metrics.periods import Period, PeriodError, parse_period
from membership.models import (
    CheckoutState,
    DonationKind,
    DonationStatus,
    Interval,
    MemberStatus,
    SubscriptionStatus,
)
from membership.money import Money
from tests.factories import (
    make_campaign,
    make_checkout_attempt,
    make_donation,
    make_member,
    make_recurring,
)

pytestmark = pytest.mark.usefixtures("app_context")

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))


def at(year: int, month: int, day: int, *rest: int) -> datetime:
    return datetime(year, month, day, *rest, tzinfo=UTC)


ROLLED_UP_AT = at(2026, 5, 1)  # December to April have closed


@pytest.fixture(params=["no rollups", "rollups built"])
def settle(request, app) -> Callable[[], None]:
    """Call once the test's gifts exist: builds the monthly rollups in the second run."""

    def build() -> None:
        if request.param == "no rollups":
            return
        built = rollups.refresh(ROLLED_UP_AT)
        read_rolled = rollups.coverage(Q1.start, Q1.end).months
        assert read_rolled == [m for m in built if Q1.first <= m <= Q1.last]

    return build


@pytest.fixture
def gifts(app, settle):
    """USD with partial/full refunds and a lost dispute, JPY, EUR settled in USD, and noise."""
    spring, winter = make_campaign(name="Spring"), make_campaign(name="Winter")
    usd = dict(currency="USD")
    make_donation(amount=2500, paid_at=at(2026, 1, 15), fee=103, net=2397, campaign=winter,
                  article_url="https://news.example/a", **usd)  # fmt: skip
    make_donation(amount=1000, kind=DonationKind.RECURRING, paid_at=at(2026, 2, 1),
                  fee=59, net=941, campaign=spring, **usd)  # fmt: skip
    make_donation(amount=4000, amount_refunded=1500, paid_at=at(2026, 3, 31, 23, 59, 59),
                  campaign=spring, article_url="https://news.example/b", **usd)  # fmt: skip
    make_donation(amount=3000, amount_refunded=3000, status=DonationStatus.REFUNDED,
                  paid_at=at(2026, 3, 10), article_url="https://news.example/b", **usd)  # fmt: skip
    make_donation(amount=2000, status=DonationStatus.DISPUTE_LOST, paid_at=at(2026, 3, 11), **usd)
    # Never counted: failed, pending, and just outside either end of the period.
    make_donation(amount=9999, status=DonationStatus.FAILED, paid_at=at(2026, 2, 2), **usd)
    make_donation(amount=7777, status=DonationStatus.PENDING, paid_at=at(2026, 2, 2), **usd)
    make_donation(amount=5555, paid_at=at(2025, 12, 31, 23, 59, 59), **usd)
    make_donation(amount=4444, paid_at=at(2026, 4, 1), **usd)
    make_donation(amount=1000, currency="JPY", paid_at=at(2026, 1, 20), fee=36, net=964,
                  campaign=winter)  # fmt: skip
    make_donation(amount=500, currency="JPY", kind=DonationKind.RECURRING, paid_at=at(2026, 2, 20))
    make_donation(amount=3000, currency="JPY", paid_at=at(2026, 3, 5))
    make_donation(amount=1500, currency="EUR", status=DonationStatus.DISPUTED,
                  paid_at=at(2026, 2, 14), fee=74, net=1600, settlement_currency="USD")  # fmt: skip
    settle()


def by_currency(rows):
    return {row.currency: row for row in rows}


def test_money_raised_per_currency(gifts):
    totals = by_currency(gift_totals.money_raised(Q1))
    usd = totals["USD"]
    assert (usd.count, usd.gross, usd.refunds) == (5, Money(12500, "USD"), Money(6500, "USD"))
    assert (usd.one_off_count, usd.one_off_gross) == (4, Money(11500, "USD"))
    assert (usd.recurring_count, usd.recurring_gross) == (1, Money(1000, "USD"))
    assert usd.average == Money(2500, "USD")
    jpy = totals["JPY"]
    assert (jpy.count, jpy.gross, jpy.refunds, jpy.average) == (
        3,
        Money(4500, "JPY"),
        Money(0, "JPY"),
        Money(1500, "JPY"),
    )
    assert jpy.gross.format("en") == "¥4,500"
    assert totals["EUR"].gross == Money(1500, "EUR") and totals["EUR"].refunds.amount == 0
    assert list(totals) == ["USD", "JPY", "EUR"]  # largest first


def test_fees_and_net_per_settlement_currency(gifts):
    fees = by_currency(gift_totals.fees_and_net(Q1))
    # The EUR gift settled in USD, so its fee and net count with the dollars.
    assert (fees["USD"].known, fees["USD"].fees, fees["USD"].net) == (
        3,
        Money(236, "USD"),
        Money(4938, "USD"),
    )
    assert (fees["JPY"].fees, fees["JPY"].net) == (Money(36, "JPY"), Money(964, "JPY"))
    assert "EUR" not in fees


def test_median_odd_and_zero_decimal(gifts):
    medians = gift_totals.median_gifts(Q1)
    assert medians == {
        "USD": Money(2500, "USD"),
        "JPY": Money(1000, "JPY"),
        "EUR": Money(1500, "EUR"),
    }


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(settle):
    for amount in (1000, 2001, 500, 9000):
        make_donation(amount=amount, paid_at=at(2026, 2, 1))
    settle()
    assert gift_totals.median_gifts(Q1) == {"USD": Money(1501, "USD")}  # 1500.5, half up


def test_monthly_gross(gifts):
    rows = [(r.month, r.currency, r.gross.amount) for r in gift_totals.monthly_gross(Q1)]
    assert rows == [
        ("2026-01", "JPY", 1000),
        ("2026-01", "USD", 2500),
        ("2026-02", "EUR", 1500),
        ("2026-02", "JPY", 500),
        ("2026-02", "USD", 1000),
        ("2026-03", "JPY", 3000),
        ("2026-03", "USD", 9000),
    ]


def test_top_campaigns_and_articles(gifts):
    campaigns = [
        (s.label, s.currency, s.gross.amount, s.count) for s in top_sources.top_campaigns(Q1)
    ]
    assert campaigns == [
        ("Winter", "JPY", 1000, 1),
        ("Spring", "USD", 5000, 2),
        ("Winter", "USD", 2500, 1),
    ]
    articles = top_sources.top_articles(Q1, limit=1)
    assert [(a.label, a.gross.amount, a.count) for a in articles] == [
        ("https://news.example/b", 7000, 2)
    ]


def test_recurring_revenue_and_active_members(app):
    alice, bea, cleo = make_member(), make_member(), make_member()
    make_recurring(alice, amount=1000)
    make_recurring(alice, amount=6000, interval=Interval.YEAR)
    make_recurring(bea, amount=500, currency="JPY")
    make_recurring(cleo, amount=1000, currency="EUR", interval=Interval.YEAR,
                   status=SubscriptionStatus.TRIALING)  # fmt: skip
    make_recurring(amount=500, status=SubscriptionStatus.PAST_DUE)
    make_recurring(amount=1200, interval=Interval.YEAR, status=SubscriptionStatus.UNPAID)
    make_recurring(amount=700, status=SubscriptionStatus.CANCELED)

    revenue = {
        r.currency: (r.gifts, r.mrr.amount, r.arr.amount) for r in growth.recurring_revenue()
    }
    assert revenue == {"USD": (2, 1500, 18000), "JPY": (1, 500, 6000), "EUR": (1, 83, 1000)}
    assert growth.active_recurring_members() == 3
    at_risk = growth.failed_payments()
    assert [(r.currency, r.gifts, r.monthly_value) for r in at_risk] == [
        ("USD", 2, Money(600, "USD"))
    ]


def test_churn_counts_cancellations_against_gifts_live_at_the_start(app):
    make_recurring(started_at=at(2025, 6, 1))
    make_recurring(started_at=at(2025, 6, 1), canceled_at=at(2026, 2, 10))
    make_recurring(started_at=at(2025, 1, 1), canceled_at=at(2025, 12, 1))
    make_recurring(started_at=at(2026, 2, 1), canceled_at=at(2026, 3, 1))
    make_recurring(started_at=at(2025, 12, 31, 23, 59))
    make_recurring(started_at=at(2025, 6, 1), canceled_at=at(2026, 4, 1))
    churn = growth.churn(Q1)
    assert (churn.active_at_start, churn.cancelled) == (4, 2)
    assert churn.rate == Decimal("50.0")


def test_churn_without_gifts_has_no_rate(app):
    assert growth.churn(Q1).rate is None


def test_members_by_month(app):
    for created in (at(2026, 1, 3), at(2026, 1, 31, 23), at(2026, 3, 1), at(2025, 12, 31)):
        make_member(created_at=created)
    make_recurring(canceled_at=at(2026, 2, 10), member=make_member(created_at=at(2025, 1, 1)))
    make_member(status=MemberStatus.LAPSED, active_until=at(2026, 1, 15), created_at=at(2025, 1, 1))
    make_member(status=MemberStatus.ACTIVE, active_until=at(2026, 3, 20), created_at=at(2025, 1, 1))
    rows = growth.members_by_month(Q1, now=at(2026, 3, 10))
    assert [(r.month, r.new, r.cancelled, r.lapsed) for r in rows] == [
        ("2026-01", 2, 0, 1),
        ("2026-02", 0, 1, 0),
        ("2026-03", 1, 0, 0),
    ]


def test_checkout_funnel(app):
    make_checkout_attempt(state=CheckoutState.COMPLETED, created_at=at(2026, 1, 2))
    make_checkout_attempt(state=CheckoutState.COMPLETED, created_at=at(2026, 3, 31, 12))
    make_checkout_attempt(state=CheckoutState.EXPIRED, created_at=at(2026, 2, 2))
    make_checkout_attempt(created_at=at(2026, 2, 3))
    make_checkout_attempt(state=CheckoutState.COMPLETED, created_at=at(2025, 12, 31))
    funnel = growth.checkout_funnel(Q1)
    assert (funnel.started, funnel.completed, funnel.expired) == (4, 2, 1)
    assert funnel.conversion == Decimal("50.0")


def test_empty_database_gives_empty_figures(settle):
    settle()
    assert gift_totals.money_raised(Q1) == []
    assert gift_totals.median_gifts(Q1) == {}
    assert growth.checkout_funnel(Q1).conversion is None


def test_period_parsing():
    today = date(2026, 11, 20)
    assert parse_period(None, None, today) == Period(date(2025, 12, 1), today)
    assert parse_period("2026-01-01", "2026-01-31", today).end == at(2026, 2, 1)
    assert parse_period("2026-01-01", "", today).last == today
    assert Period(date(2025, 11, 5), date(2026, 2, 1)).months() == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
    for bad in [("2026-13-01", None), ("yesterday", None), ("2026-02-01", "2026-01-01"),
                ("1999-01-01", None), ("2000-01-01", "2026-01-01")]:  # fmt: skip
        with pytest.raises(PeriodError):
            parse_period(*bad, today)
    assert (Period(date(2026, 1, 1), date(2026, 1, 1)).end - at(2026, 1, 1)) == timedelta(days=1)


def test_overview_page_shows_the_period_figures_and_charts(viewer_client, gifts):
    response = viewer_client.get("/staff/?from=2026-01-01&to=2026-03-31")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "$125.00" in html and "¥4,500" in html and "$65.00" in html  # gross, JPY, refunds
    assert html.count("<svg") == 4  # gross per currency (3) and members per month
    assert "Gross per month, JPY" in html and "Spring" in html
    assert "https://news.example/b" in html


def test_overview_defaults_to_the_last_twelve_months(viewer_client):
    make_donation(paid_at=at(2020, 1, 1))  # long before the default period
    html = viewer_client.get("/staff/").get_data(as_text=True)
    assert "No gifts in this period." in html


def test_headline_figures_come_first_with_mrr_converted(app, viewer_client):
    app.config["MEMBER_TIER_RATES"] = {"JPY": 1.5}  # ¥1.5 to the cent
    make_recurring(amount=1000)
    make_recurring(amount=750, currency="JPY")  # 500 cents
    make_recurring(amount=12000, interval=Interval.YEAR)  # $10 a month
    make_recurring(amount=500, status=SubscriptionStatus.PAST_DUE)
    make_donation(amount=2500, paid_at=datetime.now(UTC))
    html = viewer_client.get("/staff/").get_data(as_text=True)
    strip = html.index('class="stats"')
    assert strip < html.index("<svg") and strip < html.index("<table")
    cards = html[strip : html.index("</ul>", strip)]
    assert "Monthly recurring revenue" in cards and "≈ $25</p>" in cards
    assert "ARR ≈ $300" in cards and "$20 · ¥750" in cards  # exact, per currency
    assert "/staff/members?frequency=month" in cards and "/staff/members?status=past_due" in cards
    assert "This month so far" in cards and "on the same days of" in cards
    assert "Failing payments" in cards and "need attention" not in cards  # one: "needs"


def test_month_so_far_against_the_same_days_of_last_month(app):
    for amount, paid in [
        (100000, at(2026, 12, 2)),
        (24000, at(2026, 12, 9, 18)),
        (9000, at(2026, 12, 9, 12)),  # ¥9,000: $60 at the rate below
        (100000, at(2026, 11, 1)),
        (10700, at(2026, 11, 10, 23, 59, 59)),
        (50000, at(2026, 11, 11)),  # after the same days
        (70000, at(2026, 10, 31, 23, 59, 59)),  # before them
    ]:
        make_donation(amount=amount, paid_at=paid, currency="JPY" if amount == 9000 else "USD")
    so_far = headline.month_so_far(date(2026, 12, 10), "USD", {"JPY": 150})
    assert so_far.this == [Money(124000, "USD"), Money(9000, "JPY")]
    assert (so_far.this_total, so_far.last_total) == (Money(124100, "USD"), Money(110700, "USD"))
    assert so_far.change == 12 and so_far.last_month_name == "November"
    # The 31st of March compares with the whole of February, and nothing against nothing.
    empty = headline.month_so_far(date(2026, 3, 31), "USD", {})
    assert (empty.change, empty.last_month_name) == (None, "February")


def test_an_empty_overview_says_what_to_do_first(admin_client):
    html = admin_client.get("/staff/").get_data(as_text=True)
    for step in ("Create a campaign", "Connect Stripe", "Paste the banner"):
        assert f"<h3>{step}</h3>" in html
    assert "/staff/campaigns/new" in html and "/embed.js" in html and "/demo/article" in html
    assert "<svg" not in html and "<table" not in html and 'class="stats"' not in html


def test_the_current_month_is_marked_partial(viewer_client):
    now = datetime.now(UTC)
    make_donation(paid_at=now)
    html = viewer_client.get("/staff/").get_data(as_text=True)
    assert f"<td>{now:%Y-%m} (so far)</td>" in html and ">so far</text>" in html
    past = viewer_client.get("/staff/?from=2020-01-01&to=2020-12-31").get_data(as_text=True)
    assert "(so far)" not in past and ">so far</text>" not in past


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "&#39;from&#39; must be a date like 2026-01-31."),
        ("from=2026-03-01&to=2026-01-01", "The start date must be on or before the end date."),
        ("to=%3Cscript%3E", "&#39;to&#39; must be a date"),
    ],
)
def test_overview_refuses_bad_dates_with_a_message(viewer_client, query, message):
    response = viewer_client.get(f"/staff/?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "<script>" not in html


def test_overview_needs_a_signed_in_staff_member(client):
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_chart_labels_are_escaped():
    from membership.dashboard.metrics.charts import Series, grouped_bars

    svg = str(grouped_bars("<b>t</b>", ["2026-01"], [Series("<x>", [5])]))
    assert "<b>" not in svg and "&lt;x&gt;" in svg and 'height="0.0"' not in svg


def test_admins_get_an_export_link_for_the_period(admin_client, viewer_client):
    make_donation(paid_at=at(2026, 2, 1))
    link = "/staff/exports/donations.csv?from=2026-01-01&amp;to=2026-03-31"
    assert link in admin_client.get("/staff/?from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    assert "exports/donations.csv" not in viewer_client.get("/staff/").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_overview_counts_read_as_english_in_any_staff_language(viewer_client, lang):
    """One of a thing is singular ("1 GBP recurring gift past due", not "gifts"), and the
    English-only overview keeps English plurals whatever the browser's language."""
    make_recurring(amount=500, currency="GBP", status=SubscriptionStatus.PAST_DUE)
    make_recurring(amount=900, currency="GBP", canceled_at=datetime.now(UTC) - timedelta(days=1))
    make_checkout_attempt()
    html = viewer_client.get(f"/staff/?lang={lang}").get_data(as_text=True)
    assert "1 GBP recurring gift past due," in html
    assert "<strong>1</strong> member with a live recurring gift (right now)." in html
    assert "Churn: 1 recurring gift cancelled in the period, of" in html
    assert "1 checkout started," in html
    make_recurring(amount=700, currency="GBP", status=SubscriptionStatus.PAST_DUE)
    html = viewer_client.get(f"/staff/?lang={lang}").get_data(as_text=True)
    assert "2 GBP recurring gifts past due," in html
