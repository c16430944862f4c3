"""The monthly rollups give the overview the same, hand-checked figures however many months are
built, stale or never built, and a changed gift marks its months stale at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from membership.dashboard.metrics import gift_totals, rollups
from membership.dashboard.metrics.periods import Period
from membership.dashboard.metrics.rollups import Coverage
from membership.extensions import db
from membership.models import (
    Donation,
    DonationStatus,
    GiftMonth,
    SourceMonth,
)
from tests.dashboard.rollups.data import (
    APR,
    ARTICLES,
    BUILT_AT,
    CAMPAIGNS,
    DEC,
    EXPECTED,
    FEB,
    FEES,
    JAN,
    MAR,
    MAY,
    MEDIANS,
    MONTHLY,
    PERIOD,
    RAISED,
    A,
    B,
    all_fresh_except,
    at,
    figures,
    freshness,
    frozen,
    get,
    groups,
    on_the_page,
    raw_figures,
    replace,
)
from tests.factories import make_donation

pytestmark = pytest.mark.usefixtures("app_context")

# -- 1. the same answers whatever is built ---------------------------------------------------


def corrupt_and_mark_stale(month: date) -> None:
    """Stale rows must never be read: make them wrong as well as stale."""
    rollups.mark_stale(db.session.connection(), [month])
    db.session.execute(sa.update(GiftMonth).where(GiftMonth.month == month).values(gifts=99))
    db.session.execute(sa.update(SourceMonth).where(SourceMonth.month == month).values(gross=1))
    db.session.commit()


STATES = {
    # name: (how to get there, the months coverage(PERIOD) reads from the rollups)
    "none built": (lambda: None, []),
    "all built": (lambda: rollups.refresh(BUILT_AT), [FEB, MAR]),
    "built to February": (lambda: rollups.refresh(at(2026, 3, 1)), [FEB]),
    "March stale": (lambda: (rollups.refresh(BUILT_AT), corrupt_and_mark_stale(MAR)), [FEB]),
    "February stale": (lambda: (rollups.refresh(BUILT_AT), corrupt_and_mark_stale(FEB)), [MAR]),
}
PERIODS = [
    PERIOD,
    Period(date(2026, 1, 1), date(2026, 4, 30)),  # whole months only
    Period(date(2026, 2, 1), date(2026, 2, 28)),  # exactly one month
    Period(date(2026, 3, 5), date(2026, 3, 20)),  # inside one month
    Period(date(2026, 1, 31), date(2026, 2, 1)),  # two days across a month's end
    Period(date(2025, 12, 1), date(2026, 6, 30)),  # everything, and empty months
]


@pytest.mark.parametrize("state", list(STATES))
def test_every_figure_is_the_hand_computed_one_however_much_is_built(gifts, state, monkeypatch):
    prepare, months = STATES[state]
    prepare()
    assert rollups.coverage(PERIOD.start, PERIOD.end).months == months
    assert figures(PERIOD) == EXPECTED
    for period in PERIODS:
        assert figures(period) | {"groups": groups(period)} == raw_figures(period, monkeypatch)


def test_fresh_months_are_read_from_the_rollup_not_from_donation(gifts):
    rollups.refresh(BUILT_AT)
    # A bulk write bypasses the ORM listener, so nothing marks February stale: the figures
    # still come from its rollup (which is why every gift write must go through the ORM).
    db.session.execute(sa.delete(Donation).where(Donation.id.in_([gifts["g3"], gifts["g4"]])))
    db.session.commit()
    assert figures(PERIOD)["monthly"] == MONTHLY
    assert rollups.coverage(PERIOD.start, PERIOD.end) == Coverage(
        [FEB, MAR], [(at(2026, 1, 15), at(2026, 2, 1)), (at(2026, 4, 1), at(2026, 4, 15))]
    )


# -- 2. a changed gift marks its months stale, and the figures show it at once ----------------


def check_changed(stale: list[date], expected: dict[str, Any], monkeypatch) -> None:
    """The months marked, the figures before and after a refresh, and the rebuilt months."""
    assert freshness() == all_fresh_except(*stale)
    before = figures(PERIOD)
    assert before == {**EXPECTED, **expected}
    page = on_the_page(PERIOD)
    assert page == {name: before[name] for name in page}
    assert before | {"groups": groups(PERIOD)} == raw_figures(PERIOD, monkeypatch)
    assert rollups.refresh(BUILT_AT) == sorted(stale)
    assert freshness() == all_fresh_except()
    assert figures(PERIOD) == before


@pytest.fixture
def built(gifts) -> dict[str, int]:
    assert rollups.refresh(BUILT_AT) == [DEC, JAN, FEB, MAR, APR, MAY]
    assert freshness() == all_fresh_except()
    return gifts


def test_a_new_gift_in_a_closed_month_marks_it(built, monkeypatch):
    alpha = db.session.get_one(Donation, built["g1"]).campaign
    make_donation(amount=1234, paid_at=at(2026, 3, 15), campaign=alpha)
    usd = ("USD", 10, 21734, 8500, 9, 20734, 1, 1000, 2173)
    check_changed(
        [MAR],
        {
            "raised": [usd, *RAISED[1:]],
            "medians": {**MEDIANS, "USD": 2250},  # 1000 1000 1234 2000 2000 | 2500 2500 ...
            "monthly": replace(MONTHLY, ("2026-03", "USD", 12000), ("2026-03", "USD", 13234)),
            "campaigns": replace(CAMPAIGNS, ("Alpha", "USD", 7500, 3), ("Alpha", "USD", 8734, 4)),
        },
        monkeypatch,
    )


CHANGES = {
    "full refund": (
        "g4",
        {"amount_refunded": 4000, "status": DonationStatus.REFUNDED},
        FEB,
        {"raised": [("USD", 9, 20500, 11000, 8, 19500, 1, 1000, 2278), *RAISED[1:]]},
    ),
    "dispute lost": (
        "g5",
        {"status": DonationStatus.DISPUTE_LOST},
        FEB,
        {"raised": [*RAISED[:2], ("EUR", 2, 2500, 1500, 2, 2500, 0, 0, 1250)]},
    ),
    "fee reported": (
        "g17",
        {"fee": 90, "net": 2410},
        MAR,
        {"fees": [*FEES[:2], ("USD", 5, 426, 9748)]},
    ),
    "payment failed after all": (
        "g8",
        {"status": DonationStatus.FAILED},
        FEB,
        {
            "raised": [RAISED[0], ("JPY", 3, 6001, 0, 1, 3000, 2, 3001, 2000), RAISED[2]],
            "medians": {**MEDIANS, "JPY": 2001},
            "monthly": [m for m in MONTHLY if m != ("2026-02", "JPY", 500)],
            "articles": [a for a in ARTICLES if a != (A, "JPY", 500, 1)],
            "top_article": [(A, "EUR", 1000, 1), (B, "USD", 7000, 2)],
        },
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_changed_gift_marks_its_month(built, change, monkeypatch):
    name, values, month, expected = CHANGES[change]
    gift = get(built, name)
    for column, value in values.items():
        setattr(gift, column, value)
    db.session.commit()
    check_changed([month], expected, monkeypatch)


def test_moving_a_gift_to_another_month_marks_both(built, monkeypatch):
    get(built, "g4").paid_at = at(2026, 3, 10)
    get(built, "g12").paid_at = at(2025, 12, 15)  # out of the period altogether
    db.session.commit()
    monthly = replace(MONTHLY, ("2026-02", "USD", 5000), ("2026-02", "USD", 1000))
    monthly = replace(monthly, ("2026-03", "USD", 12000), ("2026-03", "USD", 16000))
    check_changed(
        [DEC, FEB, MAR],
        {
            "raised": [RAISED[0], ("JPY", 3, 3501, 0, 1, 500, 2, 3001, 1167), RAISED[2]],
            "fees": [FEES[0], ("JPY", 2, 106, 2894), FEES[2]],
            "medians": {**MEDIANS, "JPY": 1000},
            "monthly": [m for m in monthly if m != ("2026-03", "JPY", 3000)],
            "campaigns": replace(CAMPAIGNS, ("Beta", "JPY", 4000, 2), ("Beta", "JPY", 1000, 1)),
        },
        monkeypatch,
    )


def test_deleting_a_gift_marks_its_month(built, monkeypatch):
    db.session.delete(get(built, "g10"))
    db.session.commit()
    check_changed(
        [MAR],
        {
            "raised": [("USD", 8, 18500, 6500, 7, 17500, 1, 1000, 2313), *RAISED[1:]],
            "medians": {**MEDIANS, "USD": 2500},  # 1000 1000 2000 2500 | 2500 2500 3000 4000
            "monthly": replace(MONTHLY, ("2026-03", "USD", 12000), ("2026-03", "USD", 10000)),
            "campaigns": [*CAMPAIGNS[:3], ("Delta", "USD", 3000, 1), ("Beta", "USD", 1000, 1)],
        },
        monkeypatch,
    )


def test_changes_that_leave_every_gift_as_it_was_mark_nothing(built):
    get(built, "g4").member.display_name = "A new name"
    get(built, "g4").amount = 4000  # set, but to the same value
    alpha = get(built, "g1").campaign
    alpha.name = "Alpha fund"  # labels are read live, not rolled up
    db.session.commit()
    assert freshness() == all_fresh_except()
    assert rollups.refresh(BUILT_AT) == []
    assert figures(PERIOD)["campaigns"][2] == ("Alpha fund", "USD", 7500, 3)


def test_an_open_month_is_never_marked_until_its_last_day(app, monkeypatch):
    monkeypatch.setattr(rollups, "datetime", frozen(at(2026, 11, 15, 12)))
    make_donation(paid_at=at(2026, 11, 15, 11))
    assert freshness() == {}
    assert rollups.refresh(at(2026, 11, 15, 12)) == []  # nor ever built: it is read raw
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert [t.count for t in gift_totals.money_raised(november)] == [1]
    make_donation(paid_at=at(2026, 10, 31, 23))  # closed a fortnight ago
    make_donation(paid_at=at(2026, 12, 1))  # not even started
    assert freshness() == {date(2026, 10, 1): False}
    # Within MARGIN of its end, a month is marked in case a rebuild starts as it closes.
    monkeypatch.setattr(rollups, "datetime", frozen(at(2026, 11, 30, 0, 30)))
    make_donation(paid_at=at(2026, 11, 29))
    assert freshness() == {date(2026, 10, 1): False, date(2026, 11, 1): False}


@pytest.mark.parametrize(
    "change",
    [
        "refund",
        "delete",
        "move",
    ],
)
def test_a_gift_changed_after_a_commit_still_marks_its_months(gifts, change, monkeypatch):
    """A gift held across a commit (its attributes expired, paid_at unloaded) counts too."""
    gift = db.session.get_one(Donation, gifts["g4"])
    rollups.refresh(BUILT_AT)  # commits: every loaded attribute of `gift` expires
    if change == "refund":
        gift.amount_refunded = 4000
    elif change == "delete":
        db.session.delete(gift)
    else:
        gift.paid_at = at(2026, 3, 10)
    db.session.commit()
    # What staff see must match `donation`: no month read from a rollup the change made wrong.
    rolled = figures(PERIOD) | {"groups": groups(PERIOD)}
    assert rolled == raw_figures(PERIOD, monkeypatch)
    stale = [FEB, MAR] if change == "move" else [FEB]
    assert freshness() == all_fresh_except(*stale)
