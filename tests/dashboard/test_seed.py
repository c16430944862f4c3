"""`flask demo seed` at a small size: counts, plausibility, and when it refuses to run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from membership.dashboard import seed_data
from membership.dashboard.metrics import gift_totals, growth
from membership.dashboard.metrics.periods import Period
from membership.extensions import db
from membership.models import (
    Campaign,
    CheckoutAttempt,
    Donation,
    DonationStatus,
    Member,
    MemberGiving,
    MemberStatus,
    RecurringDonation,
)
from tests.dashboard.test_member_giving import counted_by_hand, stored
from tests.factories import make_member


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_seed_makes_plausible_data(app, app_context, runner):
    result = runner.invoke(args=["demo", "seed", "--members", "300"])
    assert result.exit_code == 0, result.output
    assert "member: 300" in result.output
    assert count(Member) == 300 and count(Campaign) == 4
    donations = count(Donation)
    assert 3 * 300 <= donations <= 8 * 300  # about five gifts a member, as at full size
    assert f"donation: {donations}" in result.output
    assert 0 < count(RecurringDonation) < 300
    assert count(CheckoutAttempt) >= 300
    currencies = set(db.session.scalars(sa.select(Donation.currency).distinct()))
    assert currencies == {"USD", "EUR", "GBP", "JPY"}
    reversed_ = count(Donation, Donation.amount_refunded > 0) + count(
        Donation, Donation.status.in_([DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST])
    )
    assert 0 < reversed_ < donations // 10
    statuses = set(db.session.scalars(sa.select(Member.status).distinct()))
    assert {MemberStatus.ACTIVE, MemberStatus.LAPSED, MemberStatus.CANCELED} <= statuses
    assert count(Donation, Donation.campaign_id.is_not(None)) > 0
    assert count(Donation, Donation.fee >= Donation.amount) == 0  # fees never eat a gift
    # Two members in five cover the card fees: each of their gifts is a suggestion grossed up.
    covering = count(Donation, Donation.fee_covered > 0)
    assert donations * 0.25 < covering < donations * 0.55
    gifts = db.session.execute(
        sa.select(Donation.currency, Donation.amount - Donation.fee_covered).where(
            Donation.fee_covered > 0
        )
    ).all()
    assert {tuple(gift) for gift in gifts} <= suggested()
    attempts = db.session.execute(
        sa.select(CheckoutAttempt.currency, CheckoutAttempt.amount).where(
            CheckoutAttempt.fee_covered > 0
        )
    ).all()
    assert attempts and {tuple(attempt) for attempt in attempts} <= suggested()
    # Every member's first gift is no older than the member.
    first_gift = (
        sa.select(Donation.member_id, sa.func.min(Donation.paid_at).label("first"))
        .group_by(Donation.member_id)
        .subquery()
    )
    early = (
        sa.select(sa.func.count())
        .select_from(first_gift)
        .join(Member, Member.id == first_gift.c.member_id)
        .where(first_gift.c.first < Member.created_at)
    )
    assert db.session.scalar(early) == 0
    # Each member's giving, stored for the member list's sorts, as their gifts add up.
    assert stored() == counted_by_hand() and count(MemberGiving) >= 300
    # The dashboard has something to say about it, in every currency.
    today = datetime.now(UTC).date()
    last_three_years = Period(today - timedelta(days=4 * 365), today)
    assert {t.currency for t in gift_totals.money_raised(last_three_years)} == currencies
    assert growth.active_recurring_members() > 0
    # The id sequences moved past the seeded rows: ordinary inserts still work.
    assert make_member().id > 300


def suggested() -> set[tuple[str, int]]:
    """(currency, amount) of every amount the seed picks from."""
    tables = (seed_data.ONE_OFF, seed_data.MONTHLY, seed_data.ANNUAL)
    return {
        (currency, amount)
        for currency, _weight in seed_data.CURRENCIES
        for table in tables
        for amount in table.get(currency, table["*"])
    }


def test_seed_is_reproducible(make_app):
    first = seeded_amounts(make_app())
    second = seeded_amounts(make_app())
    assert first == second


def seeded_amounts(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        db.session.execute(sa.delete(Donation))
        db.session.execute(sa.delete(CheckoutAttempt))
        db.session.execute(sa.delete(RecurringDonation))
        db.session.execute(sa.delete(Member))
        db.session.commit()
        assert app.test_cli_runner().invoke(args=["demo", "seed", "--members", "50"]).exit_code == 0
        rows = db.session.execute(
            sa.select(Donation.amount, Donation.currency, Member.email)
            .join(Member)
            .order_by(Donation.paid_at, Donation.amount, Member.email)
        )
        found = [(a, c, e.split(".")[0]) for a, c, e in rows]
        db.session.remove()
        return found


def test_seed_adds_to_a_database_with_members_and_says_when_it_was_seeded_before(
    app, app_context, runner
):
    make_member()  # someone trying the demo gave before seeding
    first = runner.invoke(args=["demo", "seed", "--members", "10"])
    assert first.exit_code == 0, first.output
    assert "member: 10" in first.output and count(Member) == 11
    again = runner.invoke(args=["demo", "seed", "--members", "10"])
    assert again.exit_code == 0, again.output
    assert "The demo data is already here (10 demo members): nothing added." in again.output
    assert "flask demo seed --force" in again.output
    assert count(Member) == 11
    # On purpose, it seeds again: other public ids and references, so nothing collides.
    forced = runner.invoke(args=["demo", "seed", "--members", "10", "--force"])
    assert forced.exit_code == 0, forced.output
    assert count(Member) == 21


def test_seed_refuses_production(make_app):
    app = make_app(ENV_NAME="production")
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--members", "10"])
    assert result.exit_code != 0 and "production" in result.output
    with app.app_context():
        assert count(Member) == 0
